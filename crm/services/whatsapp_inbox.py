"""The WhatsApp inbox: every webhook message is recorded by its id before it is answered, so a
message Meta delivers again is recognised (also after a restart) and a message stored but not yet
handed to Rasa (a crash in between) is processed when the channel starts again."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from crm.clock import utc_now
from crm.db import session_scope
from crm.models import WhatsAppInboxMessage

logger = logging.getLogger(__name__)


def key(message: Dict[str, Any]) -> str:
    """The inbox's key for a webhook message: its id, as stored."""
    return str(message["id"])[:128]


def store(sessions: sessionmaker, messages: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Record `messages`; returns the ones not seen before (each id once, ever)."""
    new = []
    for message in messages:
        try:
            with session_scope(sessions) as db:
                db.add(
                    WhatsAppInboxMessage(
                        message_id=key(message),
                        wa_id=str(message["from"])[:32],
                        kind=str(message.get("type") or "unknown")[:24],
                        payload=message,
                        attempts=0,
                    )
                )
            new.append(message)
        except IntegrityError:
            logger.info("WhatsApp message %s was delivered again; ignored", str(message["id"])[:40])
    return new


def pending(sessions: sessionmaker, received_before: Optional[datetime] = None) -> List[Dict[str, Any]]:
    """Messages stored but not yet handed to Rasa, in the order the customer sent them (only those
    received before `received_before`, when given). Meta does not deliver webhooks in order (a
    backlog after an outage comes all at once), so its `timestamp` (whole seconds) comes first
    and the order they were recorded in decides within a second."""
    query = select(WhatsAppInboxMessage).where(WhatsAppInboxMessage.processed_at.is_(None))
    if received_before is not None:
        query = query.where(WhatsAppInboxMessage.received_at < received_before)
    with session_scope(sessions) as db:
        rows = db.execute(query.order_by(WhatsAppInboxMessage.received_at)).scalars().all()
        return [row.payload for row in sorted(rows, key=_sent_at)]


def _sent_at(row: WhatsAppInboxMessage) -> float:
    """When the customer sent the message: Meta's `timestamp`, else when it was recorded."""
    stamp = str((row.payload or {}).get("timestamp") or "")
    if stamp.isdigit():
        return float(stamp)
    return row.received_at.replace(tzinfo=timezone.utc).timestamp()


def finish(sessions: sessionmaker, message_key: str) -> None:
    """Rasa has the message (`message_key` as `key` gives it)."""
    with session_scope(sessions) as db:
        row = db.get(WhatsAppInboxMessage, message_key)
        if row is not None:
            row.processed_at = utc_now()
            row.attempts = (row.attempts or 0) + 1
