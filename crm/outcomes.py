"""What became of a conversation session: one definition, used by every figure about the bot.

A session is the events between two `session_started` events of one conversation (Rasa's
tracker store). Its outcome, in this order of precedence:

- **escalated** (by reason): the CRM queue got an item for the conversation during the session
  (reasons: fallback, verification, complaint, human_request, error, case_report) — also when
  the customer had been answered before;
- **abandoned**: the customer left while a form was asking (the step: the form and the slot it
  asked), also after an earlier answer in the same session;
- **self_served**: the bot gave an answer (`ANSWERS`: an account answer, payment methods, office
  hours, a filed case or request with its reference) and nothing was escalated;
- **not_understood**: it ended after fallbacks, without an answer or an escalation;
- **small_talk**: only greetings, thanks, goodbyes and yes/no;
- **no_answer**: anything else (e.g. a question whose answer was refused before verification).

Denominators: containment = self_served / sessions with a real request (every outcome except
small_talk); escalation rate by reason = escalated with that reason / sessions with a real request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, Iterable, List, Optional, Sequence

ANSWERS = frozenset(
    {
        "action_answer_account",
        "action_answer_payment_methods",
        "action_answer_office_hours",
        "action_submit_case",
        "action_handle_offer",
        "action_answer_aside",
    }
)
SMALL_TALK = frozenset({"greet", "goodbye", "thank", "affirm", "deny"})
FALLBACK_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})
LOW_CONFIDENCE = 0.6  # the fallback threshold in config.yml

OUTCOMES = ("self_served", "escalated", "abandoned", "not_understood", "small_talk", "no_answer")


@dataclass(frozen=True)
class Escalated:
    """A queue item of the conversation: when, and why."""

    at: datetime  # naive UTC
    reason: str


@dataclass
class Session:
    conversation_id: str
    started: Optional[datetime]
    ended: Optional[datetime]
    outcome: str = "no_answer"
    reason: Optional[str] = None  # escalated: the queue reason; abandoned: the step (slot) left at
    intents: List[str] = field(default_factory=list)
    messages: int = 0
    fallbacks: int = 0
    low_confidence: int = 0
    channel: Optional[str] = None
    first_event_id: Optional[int] = None  # the tracker store's event ids, when the events carry "_id"
    last_event_id: Optional[int] = None

    @property
    def request_intent(self) -> Optional[str]:
        """What the customer came for: the first intent that is neither small talk nor a fallback."""
        return next((i for i in self.intents if i and i not in SMALL_TALK and i not in FALLBACK_INTENTS), None)

    @property
    def real_request(self) -> bool:
        return self.outcome != "small_talk"


def _moment(event: Dict[str, Any]) -> Optional[datetime]:
    stamp = event.get("timestamp")
    return datetime.utcfromtimestamp(float(stamp)) if isinstance(stamp, (int, float)) else None


def split_sessions(events: Sequence[Dict[str, Any]]) -> List[List[Dict[str, Any]]]:
    """The conversation's events cut at each `session_started` (events before the first one, as
    Rasa writes them, belong to the first session)."""
    sessions: List[List[Dict[str, Any]]] = [[]]
    for event in events:
        if event.get("event") == "session_started" and any(e.get("event") == "user" for e in sessions[-1]):
            sessions.append([])
        sessions[-1].append(event)
    return [s for s in sessions if any(e.get("event") == "user" for e in s)]


def classify(
    conversation_id: str,
    events: Sequence[Dict[str, Any]],
    escalations: Iterable[Escalated] = (),
    next_session_start: Optional[datetime] = None,
) -> Session:
    """The outcome of one session's events; `escalations` are the conversation's queue items
    (those created between the session's first event and `next_session_start` count)."""
    moments = [m for m in (_moment(e) for e in events) if m is not None]
    session = Session(conversation_id, min(moments) if moments else None, max(moments) if moments else None)
    if events:
        session.first_event_id, session.last_event_id = events[0].get("_id"), events[-1].get("_id")
    answered = False
    active_form: Optional[str] = None
    requested: Optional[str] = None
    for event in events:
        kind = event.get("event")
        if kind == "user":
            session.messages += 1
            session.channel = session.channel or event.get("input_channel")
            parse = event.get("parse_data")
            intent = (parse.get("intent") if isinstance(parse, dict) else None) or {}
            name = str(intent.get("name") or "")
            session.intents.append(name)
            if name in FALLBACK_INTENTS:
                session.fallbacks += 1
            elif float(intent.get("confidence") or 0.0) < LOW_CONFIDENCE:
                session.low_confidence += 1
        elif kind == "action" and event.get("name") in ANSWERS:
            answered = True
        elif kind == "active_loop":
            active_form = event.get("name") or None
            if active_form is None:
                requested = None
        elif kind == "slot" and event.get("name") == "requested_slot":
            requested = event.get("value")
        elif kind == "restart":
            active_form, requested = None, None
    # queue times are whole seconds (crm.clock.utc_now): compare at that precision
    start = session.started.replace(microsecond=0) if session.started else None
    end = next_session_start.replace(microsecond=0) if next_session_start else None
    for item in escalations:
        if (start is None or item.at >= start) and (end is None or item.at < end):
            session.outcome, session.reason = "escalated", item.reason
            return session
    if active_form is not None:
        session.outcome, session.reason = "abandoned", f"{active_form}:{requested or 'start'}"
    elif answered:
        session.outcome = "self_served"
    elif session.fallbacks:
        session.outcome = "not_understood"
    elif all(name in SMALL_TALK for name in session.intents):
        session.outcome = "small_talk"
    return session


def sessions_of(
    conversation_id: str, events: Sequence[Dict[str, Any]], escalations: Iterable[Escalated] = ()
) -> List[Session]:
    """Every session of one conversation, classified."""
    items = list(escalations)
    parts = split_sessions(events)
    starts = [next((m for m in (_moment(e) for e in part) if m is not None), None) for part in parts]
    return [
        classify(conversation_id, part, items, starts[i + 1] if i + 1 < len(parts) else None)
        for i, part in enumerate(parts)
    ]


def rates(sessions: Iterable[Session]) -> Dict[str, Any]:
    """Counts per outcome, containment and escalation rate by reason (over real requests)."""
    listed = list(sessions)
    counts: Dict[str, int] = {name: 0 for name in OUTCOMES}
    reasons: Dict[str, int] = {}
    for s in listed:
        counts[s.outcome] += 1
        if s.outcome == "escalated" and s.reason:
            reasons[s.reason] = reasons.get(s.reason, 0) + 1
    real = sum(1 for s in listed if s.real_request)
    return {
        "sessions": len(listed),
        "real_requests": real,
        "counts": counts,
        "containment": counts["self_served"] / real if real else None,
        "escalation_by_reason": {r: n / real for r, n in sorted(reasons.items())} if real else {},
    }
