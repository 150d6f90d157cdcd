"""Session outcomes over a period, read from Rasa's tracker store (SQLite or PostgreSQL, the
`events` table) and the CRM queue: what `python -m crm outcomes` prints. The definition of an
outcome is `crm.outcomes`; this module only gathers the events and the queue items."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Any, Dict, List

from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session as DbSession

from crm.models import Escalation
from crm.outcomes import Escalated, Session, rates, sessions_of


def sessions_between(db: DbSession, tracker_url: str, start: datetime, end: datetime) -> List[Session]:
    """Every session that started in [start, end) (naive UTC), classified."""
    engine = create_engine(tracker_url)
    try:
        with engine.connect() as connection:
            if not engine.dialect.has_table(connection, "events"):
                return []
            senders = [
                row[0]
                for row in connection.execute(
                    text("SELECT DISTINCT sender_id FROM events WHERE timestamp >= :a AND timestamp < :b"),
                    {"a": _epoch(start), "b": _epoch(end)},
                )
            ]
            by_sender: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
            for sender in senders:
                for (data,) in connection.execute(
                    text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender}
                ):
                    try:
                        by_sender[sender].append(json.loads(data))
                    except (TypeError, ValueError):
                        continue
    finally:
        engine.dispose()
    queue: Dict[str, List[Escalated]] = defaultdict(list)
    if by_sender:
        for item in db.execute(select(Escalation).where(Escalation.conversation_id.in_(list(by_sender)))).scalars():
            queue[item.conversation_id].append(Escalated(item.created_at, item.reason.value))
    found = []
    for sender, events in by_sender.items():
        for session in sessions_of(sender, events, queue.get(sender, [])):
            if session.started is not None and start <= session.started < end:
                found.append(session)
    return found


def _epoch(moment: datetime) -> float:
    """Naive UTC -> the float seconds Rasa stores."""
    return (moment - datetime(1970, 1, 1)).total_seconds()


def summary(sessions: List[Session]) -> Dict[str, Any]:
    """The rates overall and per channel, abandonment by step."""
    channels: Dict[str, List[Session]] = defaultdict(list)
    steps: Dict[str, int] = defaultdict(int)
    for s in sessions:
        channels[s.channel or "unknown"].append(s)
        if s.outcome == "abandoned" and s.reason:
            steps[s.reason] += 1
    return {
        "overall": rates(sessions),
        "by_channel": {name: rates(items) for name, items in sorted(channels.items())},
        "abandoned_at": dict(sorted(steps.items(), key=lambda kv: -kv[1])),
    }
