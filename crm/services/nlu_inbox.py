"""The NLU inbox: messages the bot was unsure about, and messages agents flagged as
misunderstood, grouped by text, for a trainer to label; a label becomes a training example.

Unsure means: the FallbackClassifier answered `nlu_fallback`, the top intent's confidence was
below 0.75, or the top two intents were within 0.15 of each other. Messages typed while a form
was asking for a value (a name, a place, a date) and button payloads (`/intent`) are left out:
they are answers, not requests. They are read from Rasa's SQL tracker store (table `events`).

A customer's click says what a message meant: when the bot did not act on a message (unsure, or
out_of_scope) and the customer's next message is a button for an intent ("Ya, ajukan keluhan"
is `/complain`; the out-of-scope reply's "Bicara ke petugas" is `/request_human`; the rephrase
suggestions), the message is listed with that intent as the customer's choice. Answers (yes, no,
a value) say nothing about the message and are not read that way.

A label appends the example to `data/nlu/inbox/<intent>.yml` (Rasa's format, one file per
intent, ready to review in the diff and retrain); NIK, phone and contract numbers are masked
before anything is stored or written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from crm import privacy
from crm.models import NluFeedback, Staff
from crm.outcomes import FALLBACK_INTENTS
from crm.settings import PROJECT_ROOT
from crm.training_data import nlu_examples, strip_annotations

LOW_CONFIDENCE = 0.75
AMBIGUOUS_GAP = 0.15
_NAME = r"[a-z][a-z0-9_]{1,79}"
INTENT_NAME = re.compile(f"^{_NAME}$")
PAYLOAD_INTENT = re.compile(rf"^/({_NAME})(?:\{{.*\}})?$", re.S)  # "/complain", '/inform{"date": ...}'
# button payloads that answer a question rather than name what the previous message meant
ANSWERS = frozenset({"affirm", "deny", "inform"}) | FALLBACK_INTENTS
DATA_DIR = PROJECT_ROOT / "data"


class InboxError(ValueError):
    """A label the inbox cannot take; the message says why (shown to the trainer)."""


def text_key(message: str) -> str:
    return " ".join(privacy.mask_text(message).lower().split())[:255]


@dataclass
class InboxEntry:
    key: str
    text: str
    count: int = 0
    reasons: Set[str] = field(default_factory=set)
    predicted: Optional[str] = None
    confidence: Optional[float] = None
    last_seen: float = 0.0
    conversations: List[str] = field(default_factory=list)
    chosen: Optional[str] = None  # the intent the customer's next click named

    def as_dict(self) -> Dict:
        return {
            "key": self.key,
            "text": self.text,
            "count": self.count,
            "reasons": sorted(self.reasons),
            "predicted": self.predicted,
            "confidence": self.confidence,
            "last_seen": self.last_seen,
            "chosen": self.chosen,
            "conversations": self.conversations[:3],
        }


def _reasons(parse_data: Dict) -> Set[str]:
    intent = parse_data.get("intent") or {}
    ranking = [r for r in parse_data.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
    reasons = set()
    if intent.get("name") == "nlu_fallback":
        reasons.add("fallback")
    top = ranking[0]["confidence"] if ranking else float(intent.get("confidence") or 0)
    if top < LOW_CONFIDENCE:
        reasons.add("low_confidence")
    if len(ranking) > 1 and ranking[0]["confidence"] - ranking[1]["confidence"] < AMBIGUOUS_GAP:
        reasons.add("ambiguous")
    return reasons


def unsure_messages(tracker_url: str, max_events: int = 50000) -> Dict[str, InboxEntry]:
    """Unsure customer messages from the tracker store, grouped by their masked text."""
    engine = create_engine(tracker_url)
    try:
        with engine.connect() as connection:
            if not engine.dialect.has_table(connection, "events"):
                return {}
            rows = connection.execute(
                text(
                    "SELECT sender_id, type_name, timestamp, data FROM events "
                    "WHERE type_name IN ('user', 'active_loop') ORDER BY id DESC LIMIT :n"
                ),
                {"n": max_events},
            ).fetchall()
    finally:
        engine.dispose()
    form_open: Dict[str, bool] = {}
    # sender -> a message the bot did not act on (text, its top intent and confidence)
    waiting_choice: Dict[str, Tuple[str, Optional[str], float]] = {}
    entries: Dict[str, InboxEntry] = {}
    for sender, kind, timestamp, data in reversed(rows):
        event = json.loads(data or "{}")
        if kind == "active_loop":
            form_open[sender] = bool(event.get("name"))
            continue
        message = (event.get("text") or "").strip()
        previous = waiting_choice.pop(sender, None)
        if message.startswith("/"):
            chosen = PAYLOAD_INTENT.match(message)
            if previous is not None and chosen and chosen.group(1) not in ANSWERS:
                said, guessed, certainty = previous
                entry = _entry(entries, said, sender, timestamp)
                if not entry.count:  # a confident out_of_scope: listed only for the choice
                    entry.count, entry.predicted, entry.confidence = 1, guessed, certainty
                entry.reasons.add("customer_chose")
                entry.chosen = chosen.group(1)
            continue
        if not message or form_open.get(sender):
            continue
        parse_data = event.get("parse_data") or {}
        intent = parse_data.get("intent") or {}
        ranking = [r for r in parse_data.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
        top = ranking[0] if ranking else intent
        predicted, confidence = top.get("name"), round(float(top.get("confidence") or 0), 3)
        if intent.get("name") in FALLBACK_INTENTS:
            waiting_choice[sender] = (message, predicted, confidence)
        reasons = _reasons(parse_data)
        if not reasons:
            continue
        entry = _entry(entries, message, sender, timestamp)
        entry.count += 1
        entry.reasons |= reasons
        if ranking:
            entry.predicted, entry.confidence = predicted, confidence
    return entries


def _entry(entries: Dict[str, InboxEntry], message: str, sender: str, timestamp: Optional[float]) -> InboxEntry:
    """The inbox entry of a message (grouped by masked text), with this conversation and time."""
    key = text_key(message)
    entry = entries.setdefault(key, InboxEntry(key=key, text=privacy.mask_text(message)))
    entry.last_seen = max(entry.last_seen, float(timestamp or 0))
    if sender not in entry.conversations:
        entry.conversations.append(sender)
    return entry


def inbox(session: Session, tracker_url: str, limit: int = 200) -> List[Dict]:
    """Flagged and unsure messages not decided yet, most frequent first."""
    entries = unsure_messages(tracker_url)
    decided = set(
        session.execute(select(NluFeedback.text_key).where(NluFeedback.kind.in_(("label", "dismiss")))).scalars()
    )
    for flag in session.execute(select(NluFeedback).where(NluFeedback.kind == "flag")).scalars():
        entry = entries.setdefault(flag.text_key, InboxEntry(key=flag.text_key, text=flag.text))
        entry.reasons.add("flagged")
        entry.count += 1
        entry.predicted = entry.predicted or flag.predicted_intent
        if flag.conversation_id and flag.conversation_id not in entry.conversations:
            entry.conversations.append(flag.conversation_id)
    pending = [e for key, e in entries.items() if key not in decided]
    pending.sort(key=lambda e: ("flagged" not in e.reasons, -e.count, -e.last_seen))
    return [e.as_dict() for e in pending[:limit]]


def flag(
    session: Session, message: str, staff: Staff, predicted: Optional[str] = None, conversation_id: Optional[str] = None
) -> None:
    message = " ".join((message or "").split())
    if not message:
        raise InboxError("Pesan kosong.")
    session.add(
        NluFeedback(
            kind="flag",
            text=privacy.mask_text(message)[:2000],
            text_key=text_key(message),
            predicted_intent=(predicted or "")[:80] or None,
            conversation_id=(conversation_id or "")[:255] or None,
            staff_id=staff.id,
        )
    )


def dismiss(session: Session, key: str, staff: Staff) -> None:
    session.add(NluFeedback(kind="dismiss", text=key, text_key=key[:255], staff_id=staff.id))


def existing_examples(data_dir: Path) -> Dict[str, str]:
    """Every training example's key -> its intent."""
    return {text_key(strip_annotations(example)): intent for intent, example, _ in nlu_examples(data_dir)}


def label(session: Session, message: str, intent: str, staff: Staff, data_dir: Path = DATA_DIR) -> Path:
    """Write `message` (masked) as a training example of `intent`; returns the file written."""
    example = " ".join(privacy.mask_text(message or "").split())
    intent = (intent or "").strip()
    if not example:
        raise InboxError("Pesan kosong.")
    if len(example) > 200:
        raise InboxError("Contoh terlalu panjang (maksimal 200 huruf); pecah menjadi beberapa contoh.")
    if not INTENT_NAME.match(intent):
        raise InboxError("Nama intent: huruf kecil, angka dan garis bawah, diawali huruf (contoh: ask_mobile_app).")
    known = existing_examples(data_dir).get(text_key(example))
    if known is not None:
        raise InboxError(f"Contoh ini sudah ada di data latih (intent '{known}').")
    path = data_dir / "nlu" / "inbox" / f"{intent}.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(
            f'version: "3.1"\n\n# Examples added from the console\'s NLU inbox (reviewed by a trainer).\n'
            f"nlu:\n  - intent: {intent}\n    examples: |\n",
            encoding="utf-8",
        )
    with path.open("a", encoding="utf-8") as out:
        out.write(f"      - {example}\n")
    session.add(NluFeedback(kind="label", text=example, text_key=text_key(message), intent=intent, staff_id=staff.id))
    return path
