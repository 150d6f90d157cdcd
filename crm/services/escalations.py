"""Escalations: handing a conversation to the CRM monitoring queue.

`escalate()` is idempotent per conversation: while a conversation has an escalation that is
not resolved, escalating it again returns that one. The guarantee comes from the database (a
partial unique index on unresolved escalations), so it also holds for concurrent calls from
several action-server workers or Rasa replicas.

Unverified conversations from one client address are limited: beyond
policy.ESCALATIONS_PER_CLIENT_PER_HOUR open items in an hour, a further one is merged into the
newest (its conversation named in the summary, `merged_count` counting them), so a flood from
rotating conversation ids cannot bury real customers' items.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Optional

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm import policy
from crm.clock import end_of_local_day, to_local, utc_now
from crm.models import Escalation, EscalationEvent, EscalationReason, EscalationStatus, Staff, StaffRole
from crm.workdays import add_working_days

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
    client: Optional[str] = None,
    client_limit: Optional[int] = None,
    now: Optional[datetime] = None,
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
        _merge_into(existing, case_id=case_id, customer_id=customer_id, summary=summary)
        return EscalationResult(existing.id, existing.status, created=False)

    created_at = now or utc_now()
    limit = client_limit or policy.ESCALATIONS_PER_CLIENT_PER_HOUR
    flooded = _flooded_item(session, client, limit, created_at) if client and customer_id is None else None
    if flooded is not None:
        flooded.merged_count = (flooded.merged_count or 0) + 1
        if flooded.merged_count <= MAX_MERGED_NAMED:
            _merge_into(
                flooded,
                case_id=None,
                customer_id=None,
                summary=f"Digabung (banyak item dari satu alamat): {reason.value} dari {conversation_id}",
            )
        return EscalationResult(flooded.id, flooded.status, created=False)
    escalation = Escalation(
        conversation_id=conversation_id,
        channel=channel,
        reason=reason,
        status=EscalationStatus.OPEN,
        summary=summary,
        case_id=case_id,
        customer_id=customer_id,
        created_at=created_at,
        due_at=resolution_due(created_at, channel),
        client=client,
        merged_count=0,
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


MAX_MERGED_NAMED = 20  # conversations named in a flooded item's summary; the rest only counted


def _flooded_item(session: Session, client: str, limit: int, now: datetime) -> Optional[Escalation]:
    """The newest open unverified item of `client` when it already has its hourly share."""
    rows = (
        session.execute(
            select(Escalation)
            .where(
                Escalation.client == client,
                Escalation.customer_id.is_(None),
                Escalation.status.in_(UNRESOLVED),
                Escalation.created_at >= now - timedelta(hours=1),
            )
            .order_by(Escalation.id.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )
    return rows[0] if len(rows) >= limit else None


def _merge_into(
    existing: Escalation, *, case_id: Optional[int], customer_id: Optional[int], summary: Optional[str]
) -> None:
    """A second reason for a conversation already in the queue: keep what is new (a case filed
    or a customer verified after a fallback escalation) on the one open item."""
    if case_id is not None and existing.case_id is None:
        existing.case_id = case_id
    if customer_id is not None and existing.customer_id is None:
        existing.customer_id = customer_id
    if summary and summary not in (existing.summary or ""):
        existing.summary = f"{existing.summary}\n{summary}" if existing.summary else summary


def resolution_due(created_at: datetime, channel: str) -> datetime:
    """OJK deadline for resolving what was raised at `created_at` (naive UTC) on `channel`:
    the end of the 5th (verbal) or 10th (written) working day after that day in WIB."""
    days = policy.OJK_RESOLUTION_WORKING_DAYS[policy.complaint_form(channel)]
    return end_of_local_day(add_working_days(to_local(created_at).date(), days))


class QueueError(Exception):
    """A console action that is not allowed; the message is shown to the staff member."""


def _event(
    session: Session,
    escalation: Escalation,
    to_status: EscalationStatus,
    staff: Optional[Staff],
    note: Optional[str],
    from_status: Optional[EscalationStatus],
) -> None:
    session.add(
        EscalationEvent(
            escalation_id=escalation.id,
            from_status=from_status,
            to_status=to_status,
            staff_id=staff.id if staff else None,
            note=note,
        )
    )


def claim(session: Session, escalation_id: int, staff: Staff) -> Escalation:
    """`staff` takes the item over. Two agents claiming at once: exactly one wins, because the
    update only succeeds while the item is still open (a supervisor may also take over an item
    another agent holds). Raises QueueError for the loser."""
    allowed = [EscalationStatus.OPEN]
    if staff.role is StaffRole.SUPERVISOR:
        allowed.append(EscalationStatus.CLAIMED)
    before = session.get(Escalation, escalation_id)
    if before is None:
        raise QueueError("Item tidak ditemukan.")
    previous_status = before.status
    result = session.execute(
        update(Escalation)
        .where(Escalation.id == escalation_id, Escalation.status.in_(allowed))
        .values(status=EscalationStatus.CLAIMED, assignee_id=staff.id, claimed_at=utc_now())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.rollback()
        current = session.get(Escalation, escalation_id)
        holder = current.assignee.full_name if current is not None and current.assignee else None
        if current is not None and current.status is EscalationStatus.RESOLVED:
            raise QueueError("Item ini sudah diselesaikan.")
        raise QueueError(f"Item ini sudah diambil oleh {holder or 'petugas lain'}.")
    session.refresh(before)
    _event(session, before, EscalationStatus.CLAIMED, staff, "claimed", previous_status)
    return before


def unclaim(session: Session, escalation_id: int, staff: Staff, why: str) -> None:
    """Undo a claim whose hand-over could not be completed (the bot could not be paused)."""
    escalation = session.get(Escalation, escalation_id)
    if escalation is None or escalation.status is not EscalationStatus.CLAIMED or escalation.assignee_id != staff.id:
        return
    escalation.status, escalation.assignee_id, escalation.claimed_at = EscalationStatus.OPEN, None, None
    _event(session, escalation, EscalationStatus.OPEN, staff, f"claim undone: {why}", EscalationStatus.CLAIMED)


def check_holder(escalation: Escalation, staff: Staff) -> None:
    """Only the agent holding an item (or a supervisor) may reply to it or resolve it."""
    if escalation.status is EscalationStatus.RESOLVED:
        raise QueueError("Item ini sudah diselesaikan.")
    if staff.role is StaffRole.SUPERVISOR:
        return
    if escalation.status is not EscalationStatus.CLAIMED:
        raise QueueError("Ambil alih item ini dulu sebelum membalas atau menyelesaikannya.")
    if escalation.assignee_id != staff.id:
        holder = escalation.assignee.full_name if escalation.assignee else "petugas lain"
        raise QueueError(f"Item ini dipegang oleh {holder}; hanya dia atau supervisor yang dapat bertindak.")


def resolve(session: Session, escalation_id: int, staff: Staff, note: str) -> Escalation:
    note = (note or "").strip()
    if not note:
        raise QueueError("Tulis catatan penyelesaian.")
    escalation = session.get(Escalation, escalation_id, with_for_update=True)
    if escalation is None:
        raise QueueError("Item tidak ditemukan.")
    check_holder(escalation, staff)
    previous = escalation.status
    result = session.execute(
        update(Escalation)
        .where(Escalation.id == escalation_id, Escalation.status == previous)
        .values(
            status=EscalationStatus.RESOLVED,
            resolved_at=utc_now(),
            note=note[:4000],
            assignee_id=escalation.assignee_id or staff.id,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.rollback()
        raise QueueError("Item ini baru saja diubah oleh petugas lain; muat ulang halaman.")
    session.refresh(escalation)
    _event(session, escalation, EscalationStatus.RESOLVED, staff, note[:4000], previous)
    return escalation


def get(session: Session, escalation_id: int) -> Optional[Escalation]:
    return session.get(Escalation, escalation_id)


def take_notice(session: Session, escalation_id: int) -> bool:
    """Mark the item's customer as told when to expect an answer, if it is still open and they
    were not told yet: False when an agent claimed it (or another notifier told them) since it
    was listed, so nobody hears "all agents are busy" right after an agent joined."""
    result = session.execute(
        update(Escalation)
        .where(
            Escalation.id == escalation_id,
            Escalation.status == EscalationStatus.OPEN,
            Escalation.customer_notified_at.is_(None),
        )
        .values(customer_notified_at=utc_now())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def release_notice(session: Session, escalation_id: int) -> None:
    """The notice could not be sent: the item is to be told again at the next round."""
    session.execute(
        update(Escalation)
        .where(Escalation.id == escalation_id)
        .values(customer_notified_at=None)
        .execution_options(synchronize_session=False)
    )


def waiting_too_long(session: Session, wait: timedelta, now: Optional[datetime] = None) -> List[Escalation]:
    """Open items nobody claimed within `wait` whose customer was not told yet."""
    now = now or utc_now()
    return list(
        session.execute(
            select(Escalation)
            .where(
                Escalation.status == EscalationStatus.OPEN,
                Escalation.customer_notified_at.is_(None),
                Escalation.created_at <= now - wait,
            )
            .order_by(Escalation.created_at)
        ).scalars()
    )
