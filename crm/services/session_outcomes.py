"""Session outcomes kept in the CRM database, refreshed incrementally from Rasa's tracker store
(SQLite or PostgreSQL, its `events` table), and the reviewer's marks on them.

A refresh reads only what changed since the last one: the conversations with events after the
last run's highest event id, plus those whose queue item arrived since the last run (the outbox
may write an escalation minutes after the message). For each such conversation it rereads the
events from the start of its latest stored session, classifies them (`crm.outcomes`, the one
definition) and upserts one row per session; reviewer marks are kept. A nightly run and the
dashboard's button both call `refresh`.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set

from sqlalchemy import bindparam, create_engine, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as DbSession

from crm.clock import to_local
from crm.models import ConversationSession, Escalation, OutcomeRun, Staff
from crm.outcomes import Escalated, Session, sessions_of

BATCH = 400  # conversations read and written together
LATE_QUEUE_ITEMS = timedelta(minutes=10)  # an escalation this much older than the last run is looked at again


@dataclass(frozen=True)
class Refreshed:
    run_id: int
    from_event_id: int
    to_event_id: int
    conversations: int
    sessions: int
    seconds: float


def refresh(db: DbSession, tracker_url: str, now: datetime, trigger: str = "command") -> Refreshed:
    """Bring `conversation_sessions` up to date with the tracker store; the caller commits."""
    started = time.perf_counter()
    last = db.execute(select(OutcomeRun).order_by(OutcomeRun.id.desc()).limit(1)).scalar_one_or_none()
    watermark = int(last.to_event_id) if last is not None else 0
    run = OutcomeRun(trigger=trigger, started_at=now, from_event_id=watermark, to_event_id=watermark)
    db.add(run)
    engine = create_engine(tracker_url)
    written = 0
    senders: Set[str] = set()
    try:
        with engine.connect() as tracker:
            if engine.dialect.has_table(tracker, "events"):
                top = int(tracker.execute(text("SELECT COALESCE(MAX(id), 0) FROM events")).scalar() or 0)
                senders = {
                    row[0]
                    for row in tracker.execute(
                        text("SELECT DISTINCT sender_id FROM events WHERE id > :w AND id <= :top"),
                        {"w": watermark, "top": top},
                    )
                }
                if last is not None:
                    senders |= _late_queue_items(db, last.started_at - LATE_QUEUE_ITEMS)
                ordered = sorted(senders)
                for start in range(0, len(ordered), BATCH):
                    written += _refresh_batch(db, tracker, ordered[start : start + BATCH], top)
                run.to_event_id = max(top, watermark)
    finally:
        engine.dispose()
    run.conversations, run.sessions, run.finished_at = len(senders), written, now
    db.flush()
    return Refreshed(run.id, watermark, int(run.to_event_id), len(senders), written, time.perf_counter() - started)


def _late_queue_items(db: DbSession, since: datetime) -> Set[str]:
    """Conversations with stored sessions whose queue item was created since `since`."""
    rows = db.execute(
        select(Escalation.conversation_id)
        .where(Escalation.created_at >= since)
        .where(Escalation.conversation_id.in_(select(ConversationSession.conversation_id)))
        .distinct()
    )
    return {row[0] for row in rows}


def _refresh_batch(db: DbSession, tracker: Connection, senders: Sequence[str], top: int) -> int:
    start_of: Dict[str, int] = {
        conversation: int(first)
        for conversation, first in db.execute(
            select(ConversationSession.conversation_id, func.max(ConversationSession.first_event_id))
            .where(ConversationSession.conversation_id.in_(senders))
            .group_by(ConversationSession.conversation_id)
        )
    }
    events: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
    # ORDER BY sender_id, id is the sender_id index's own order, so the planner uses that index;
    # with ORDER BY id SQLite scanned every event for each batch (a 100,000-session run: 72 s, now 29 s)
    query = text(
        "SELECT id, sender_id, data FROM events WHERE sender_id IN :senders AND id >= :low AND id <= :top "
        "ORDER BY sender_id, id"
    ).bindparams(bindparam("senders", expanding=True))
    low = min((start_of.get(s, 0) for s in senders), default=0)
    for event_id, sender, data in tracker.execute(query, {"senders": list(senders), "low": low, "top": top}):
        if event_id < start_of.get(sender, 0):
            continue
        try:
            event = json.loads(data)
        except (TypeError, ValueError):
            continue
        event["_id"] = int(event_id)
        events[sender].append(event)
    queue: Dict[str, List[Escalated]] = defaultdict(list)
    for conversation, created, reason in db.execute(
        select(Escalation.conversation_id, Escalation.created_at, Escalation.reason).where(
            Escalation.conversation_id.in_(senders)
        )
    ):
        queue[conversation].append(Escalated(created, reason.value))
    stored = {
        (row.conversation_id, int(row.first_event_id)): row
        for row in db.execute(
            select(ConversationSession).where(ConversationSession.conversation_id.in_(senders))
        ).scalars()
    }
    written = 0
    touched = list(stored.values())
    for sender, found in events.items():
        for session in sessions_of(sender, found, queue.get(sender, [])):
            if session.started is None or session.first_event_id is None:
                continue
            row = stored.get((sender, session.first_event_id))
            if row is None:
                row = ConversationSession(conversation_id=sender, first_event_id=session.first_event_id)
                db.add(row)
                touched.append(row)
            _fill(row, session)
            written += 1
    db.flush()
    for row in touched:  # written: keep the identity map small (a 100,000-session first run was
        db.expunge(row)  # quadratic while every flush looked at every row written so far)
    return written


def _fill(row: ConversationSession, session: Session) -> None:
    assert session.started is not None and session.ended is not None
    local = to_local(session.started)
    row.last_event_id = session.last_event_id
    row.started_at, row.ended_at = session.started.replace(microsecond=0), session.ended.replace(microsecond=0)
    row.day, row.hour = local.date(), local.hour
    row.channel = (session.channel or _channel_of(session.conversation_id))[:40]
    row.outcome, row.reason = session.outcome, (session.reason or None) and str(session.reason)[:120]
    row.request_intent = session.request_intent
    row.intents = list(dict.fromkeys(i for i in session.intents if i))
    row.messages, row.fallbacks, row.low_confidence = session.messages, session.fallbacks, session.low_confidence


def _channel_of(conversation_id: str) -> str:
    """Conversation ids carry their channel ("whatsapp:62812…", "rest:…")."""
    return conversation_id.split(":", 1)[0] if ":" in conversation_id else "unknown"


# --- review -------------------------------------------------------------------------------------

REVIEW_STATES = ("unreviewed", "reviewed", "incorrect", "unsolved")


@dataclass(frozen=True)
class ReviewFilter:
    day_from: Optional[Any] = None  # date (WIB)
    day_to: Optional[Any] = None
    outcome: Optional[str] = None
    channel: Optional[str] = None
    intent: Optional[str] = None
    has_fallback: bool = False
    low_confidence: bool = False
    review: Optional[str] = None  # one of REVIEW_STATES


def review_query(f: ReviewFilter):
    """The sessions matching the filter, newest first (a SELECT to page through)."""
    q = select(ConversationSession).order_by(ConversationSession.started_at.desc(), ConversationSession.id.desc())
    if f.day_from:
        q = q.where(ConversationSession.day >= f.day_from)
    if f.day_to:
        q = q.where(ConversationSession.day <= f.day_to)
    if f.outcome:
        q = q.where(ConversationSession.outcome == f.outcome)
    if f.channel:
        q = q.where(ConversationSession.channel == f.channel)
    if f.intent:
        q = q.where(ConversationSession.request_intent == f.intent)
    if f.has_fallback:
        q = q.where(ConversationSession.fallbacks > 0)
    if f.low_confidence:
        q = q.where(ConversationSession.low_confidence > 0)
    if f.review == "unreviewed":
        q = q.where(ConversationSession.reviewed_at.is_(None))
    elif f.review == "reviewed":
        q = q.where(ConversationSession.reviewed_at.is_not(None))
    elif f.review == "incorrect":
        q = q.where(ConversationSession.review_correct.is_(False))
    elif f.review == "unsolved":
        q = q.where(ConversationSession.review_solved.is_(False))
    return q


FAILURES = ("escalated", "abandoned", "not_understood", "no_answer")


def daily_sample(db: DbSession, day: Any, size: int = 20, seed: Optional[int] = None) -> List[ConversationSession]:
    """About `size` unreviewed sessions of `day` for one person's 15 minutes, weighted to failures:
    up to three quarters from sessions that failed or had a fallback, the rest from the others.
    The same day gives the same sample (seeded by the day), so two reviewers see one list."""
    import random

    rows = list(
        db.execute(
            select(ConversationSession).where(ConversationSession.day == day, ConversationSession.reviewed_at.is_(None))
        ).scalars()
    )
    failed = [r for r in rows if r.outcome in FAILURES or r.fallbacks or r.low_confidence]
    others = [r for r in rows if r not in failed and r.outcome != "small_talk"]
    chooser = random.Random(seed if seed is not None else day.toordinal())
    take_failed = min(len(failed), max(size - len(others), (size * 3) // 4))
    picked = chooser.sample(failed, take_failed) + chooser.sample(others, min(len(others), size - take_failed))
    return sorted(picked, key=lambda r: r.started_at)


def mark(
    db: DbSession,
    session_id: int,
    reviewer: Staff,
    now: datetime,
    *,
    correct: Optional[bool],
    solved: Optional[bool],
    tags: Iterable[str] = (),
    note: str = "",
) -> ConversationSession:
    """The reviewer's marks on one session; LookupError when it does not exist."""
    row = db.get(ConversationSession, session_id)
    if row is None:
        raise LookupError(session_id)
    cleaned = [t.strip().lower()[:40] for t in tags if t and t.strip()]
    row.review_correct, row.review_solved = correct, solved
    row.review_tags = ",".join(dict.fromkeys(cleaned))[:255] or None
    row.review_note = (note or "").strip()[:2000] or None
    row.reviewer_id, row.reviewed_at = reviewer.id, now
    db.flush()
    return row


def events_of(tracker_url: str, row: ConversationSession) -> List[Dict[str, Any]]:
    """The tracker events of one stored session, in order."""
    engine = create_engine(tracker_url)
    try:
        with engine.connect() as tracker:
            rows = tracker.execute(
                text("SELECT data FROM events WHERE sender_id = :s AND id >= :a AND id <= :b ORDER BY id"),
                {"s": row.conversation_id, "a": row.first_event_id, "b": row.last_event_id},
            ).fetchall()
    finally:
        engine.dispose()
    found = []
    for (data,) in rows:
        try:
            found.append(json.loads(data))
        except (TypeError, ValueError):
            continue
    return found


def forget(db: DbSession, conversation_ids: Iterable[str], label: str) -> int:
    """The sessions of deleted conversations keep their counts under an id that names nobody
    ("purged:<hash>"); the reviewer's note goes (it may quote the customer)."""
    import hashlib

    changed = 0
    for conversation in set(conversation_ids):
        alias = f"{label}:{hashlib.sha256(conversation.encode()).hexdigest()[:20]}"
        for row in db.execute(
            select(ConversationSession).where(ConversationSession.conversation_id == conversation)
        ).scalars():
            row.conversation_id, row.review_note = alias, None
            changed += 1
    db.flush()
    return changed
