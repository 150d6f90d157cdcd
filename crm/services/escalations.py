"""Escalations: handing a conversation to the CRM monitoring queue.

`escalate()` is idempotent per conversation: while a conversation has an escalation that is
not resolved, escalating it again returns that one. The guarantee comes from the database (a
partial unique index on unresolved escalations), so it also holds for concurrent calls from
several action-server workers or Rasa replicas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm.models import Escalation, EscalationEvent, EscalationReason, EscalationStatus

UNRESOLVED = (EscalationStatus.OPEN, EscalationStatus.CLAIMED)


@dataclass(frozen=True)
class EscalationResult:
    escalation_id: int
    status: EscalationStatus
    created: bool  # False: the conversation was already in the queue


def find_unresolved(session: Session, conversation_id: str) -> Optional[Escalation]:
    return session.execute(
        select(Escalation).where(
            Escalation.conversation_id == conversation_id,
            Escalation.status.in_(UNRESOLVED),
        )
    ).scalar_one_or_none()


def escalate(
    session: Session,
    *,
    conversation_id: str,
    channel: str,
    reason: EscalationReason,
    summary: Optional[str] = None,
    case_id: Optional[int] = None,
    customer_id: Optional[int] = None,
) -> EscalationResult:
    """Put `conversation_id` in the queue (status open) unless it already is there.

    Runs inside the caller's transaction; the caller commits. A concurrent insert for the
    same conversation is detected through the unique index and answered with the winner.
    """
    if not conversation_id:
        raise ValueError("conversation_id is required to escalate")
    reason = EscalationReason(reason)

    existing = find_unresolved(session, conversation_id)
    if existing is not None:
        return EscalationResult(existing.id, existing.status, created=False)

    escalation = Escalation(
        conversation_id=conversation_id,
        channel=channel,
        reason=reason,
        status=EscalationStatus.OPEN,
        summary=summary,
        case_id=case_id,
        customer_id=customer_id,
    )
    try:
        with session.begin_nested():
            session.add(escalation)
            session.flush()
            session.add(
                EscalationEvent(
                    escalation_id=escalation.id,
                    from_status=None,
                    to_status=EscalationStatus.OPEN,
                    note=f"created: {reason.value}",
                )
            )
            session.flush()
    except IntegrityError:
        winner = find_unresolved(session, conversation_id)
        if winner is None:  # the conflict was something else: let the caller see it
            raise
        return EscalationResult(winner.id, winner.status, created=False)
    return EscalationResult(escalation.id, escalation.status, created=True)
