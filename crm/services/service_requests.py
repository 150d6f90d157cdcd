"""Service requests a verified customer can make: BPKB pickup appointment, borrowing the BPKB
for STNK renewal, and moving the due date. Each is checked against the business rules in
`crm.policy`; a refusal raises :class:`Refused` with a code the dialogue turns into an
explanation, and an accepted request gets a reference number (``REQ-2026-000123``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm import policy
from crm.models import (
    BpkbStatus,
    Contract,
    ContractStatus,
    RequestKind,
    RequestStatus,
    Service,
    ServiceRequest,
)
from crm.services.accounts import load_contract
from crm.services.hours import Hours, hours_on
from crm.workdays import add_months


class Refused(Exception):
    """The request breaks a rule; `code` names which (see the dialogue's responses)."""

    def __init__(self, code: str, **details):
        super().__init__(code)
        self.code = code
        self.details = details


def _new_request(
    session: Session,
    kind: RequestKind,
    contract_id: int,
    conversation_id: Optional[str],
    scheduled_for: Optional[date],
    details: dict,
    status: RequestStatus,
) -> ServiceRequest:
    request = ServiceRequest(
        reference=f"TMP-{uuid.uuid4().hex[:16]}",
        kind=kind,
        status=status,
        contract_id=contract_id,
        conversation_id=conversation_id,
        scheduled_for=scheduled_for,
        details=details,
    )
    session.add(request)
    session.flush()
    request.reference = f"REQ-{request.created_at.year}-{request.id:06d}"
    session.flush()
    return request


DAY_REFUSALS = ("date_not_future", "date_too_far", "branch_closed")


def check_appointment_day(session: Session, branch_id: int, day: date, today: date) -> Hours:
    """The branch office's hours on `day`, a day an appointment may be made; Refused otherwise."""
    if day <= today:
        raise Refused("date_not_future", day=day)
    if day > today + timedelta(days=policy.APPOINTMENT_HORIZON_DAYS):
        raise Refused("date_too_far", day=day, horizon=policy.APPOINTMENT_HORIZON_DAYS)
    hours = hours_on(session, branch_id, day)[Service.BRANCH_OFFICE]
    if not hours.open:
        raise Refused("branch_closed", day=day, holiday=hours.holiday)
    return hours


# --- BPKB pickup ---------------------------------------------------------------------------


def _pickup_contract(session: Session, customer_id: int, number: str) -> Contract:
    """The contract whose BPKB may be picked up; Refused otherwise."""
    contract = load_contract(session, customer_id, number)
    if contract.status is not ContractStatus.PAID_OFF:
        raise Refused("not_paid_off")
    if contract.bpkb.status is not BpkbStatus.READY:
        raise Refused("bpkb_not_ready", status=contract.bpkb.status)
    return contract


def book_bpkb_pickup(
    session: Session, customer_id: int, number: str, day: date, today: date, conversation_id: Optional[str] = None
) -> ServiceRequest:
    contract = _pickup_contract(session, customer_id, number)
    check_appointment_day(session, contract.bpkb.branch_id, day, today)
    return _new_request(
        session,
        RequestKind.BPKB_PICKUP,
        contract.id,
        conversation_id,
        day,
        {"branch_id": contract.bpkb.branch_id},
        RequestStatus.SCHEDULED,
    )


# --- borrowing the BPKB for STNK renewal -----------------------------------------------------


def in_arrears(contract: Contract, today: date) -> bool:
    """Is any instalment past its due date and still unpaid?"""
    return any(row.paid_at is None and row.due_date < today for row in contract.instalments)


def bpkb_loan_refusal(session: Session, customer_id: int, number: str, today: date) -> Optional[str]:
    """None when the customer may borrow the BPKB, else the code of the first rule broken."""
    return loan_refusal_for(load_contract(session, customer_id, number), today)


def loan_refusal_for(contract: Contract, today: date) -> Optional[str]:
    if contract.status is ContractStatus.PAID_OFF:
        return "paid_off"  # the BPKB is theirs to pick up, not to borrow
    if contract.status is not ContractStatus.ACTIVE:
        return "not_active"
    if in_arrears(contract, today):
        return "in_arrears"
    if contract.bpkb.status is BpkbStatus.LENT_OUT:
        return "already_lent"
    return None


def _loan_contract(session: Session, customer_id: int, number: str, today: date) -> Contract:
    """The contract whose BPKB may be borrowed; Refused otherwise."""
    contract = load_contract(session, customer_id, number)
    refusal = loan_refusal_for(contract, today)
    if refusal:
        raise Refused(refusal)
    return contract


def check_bpkb_visit(session: Session, customer_id: int, number: str, kind: str, day: date, today: date) -> Hours:
    """Would a BPKB pickup or loan (`kind`: a RequestKind value) be booked for `day`? Its branch
    office's hours that day, or the Refused its booking would raise; books nothing: for a day the
    customer asked about, before asking whether to book it."""
    if kind == RequestKind.BPKB_PICKUP.value:
        contract = _pickup_contract(session, customer_id, number)
    else:
        contract = _loan_contract(session, customer_id, number, today)
    return check_appointment_day(session, contract.bpkb.branch_id, day, today)


def book_bpkb_loan(
    session: Session, customer_id: int, number: str, day: date, today: date, conversation_id: Optional[str] = None
) -> ServiceRequest:
    contract = _loan_contract(session, customer_id, number, today)
    check_appointment_day(session, contract.bpkb.branch_id, day, today)
    return _new_request(
        session,
        RequestKind.BPKB_LOAN,
        contract.id,
        conversation_id,
        day,
        {
            "branch_id": contract.bpkb.branch_id,
            "fee": policy.BPKB_LOAN_FEE,
            "return_by": (day + timedelta(days=policy.BPKB_LOAN_MAX_DAYS)).isoformat(),
        },
        RequestStatus.SCHEDULED,
    )


# --- due-date change -------------------------------------------------------------------------


@dataclass(frozen=True)
class DueDateQuote:
    current_day: int
    new_day: int
    fee: int
    current_dates: List[date] = field(default_factory=list)  # next 3 due dates as they are
    new_dates: List[date] = field(default_factory=list)  # the same instalments after the change


def due_date_change_quote(
    session: Session, customer_id: int, number: str, new_day: Optional[int], today: date
) -> DueDateQuote:
    """What moving the due day to `new_day` would do, or :class:`Refused` saying why not."""
    if new_day is None or not policy.MIN_DUE_DAY <= new_day <= policy.MAX_DUE_DAY:
        raise Refused("invalid_day", day=new_day)
    contract = load_contract(session, customer_id, number)
    upcoming = _movable_dues(session, contract, today)
    if new_day == contract.due_day:
        raise Refused("same_day", day=new_day)
    # the next instalment moves to the new day of its own month (or of the month after, when
    # that day is less than the notice away); the following ones stay one month apart
    first = add_months(upcoming[0], 0, new_day)
    if first < today + timedelta(days=policy.DUE_DATE_CHANGE_NOTICE_DAYS):
        first = add_months(first, 1, new_day)
    moved = [add_months(first, i, new_day) for i in range(len(upcoming))]
    return DueDateQuote(contract.due_day, new_day, policy.DUE_DATE_CHANGE_FEE, upcoming, moved)


def due_date_change_refusal(session: Session, contract: Contract, today: date) -> Optional[Refused]:
    """Why this contract's due day may not move now, whatever day is asked (arrears, a recent
    change, not active); None when it may. Said before the customer is asked for a day."""
    try:
        _movable_dues(session, contract, today)
    except Refused as refused:
        return refused
    return None


def _movable_dues(session: Session, contract: Contract, today: date) -> List[date]:
    """The next (up to three) unpaid due dates, which a new due day would move; :class:`Refused`
    when the contract's due day may not move now."""
    if contract.status is not ContractStatus.ACTIVE:
        raise Refused("not_active")
    if in_arrears(contract, today):
        raise Refused("in_arrears")
    since = datetime.combine(today - timedelta(days=policy.DUE_DATE_CHANGE_INTERVAL_DAYS), datetime.min.time())
    recent = (
        session.execute(
            select(ServiceRequest).where(
                ServiceRequest.contract_id == contract.id,
                ServiceRequest.kind == RequestKind.DUE_DATE_CHANGE,
                ServiceRequest.status != RequestStatus.CANCELLED,
                ServiceRequest.created_at >= since,
            )
        )
        .scalars()
        .first()
    )
    if recent is not None:
        raise Refused("recent_change", since=recent.created_at.date())
    upcoming = [row.due_date for row in contract.instalments if row.paid_at is None and row.due_date >= today][:3]
    if not upcoming:
        raise Refused("not_active")
    return upcoming


def request_due_date_change(
    session: Session, customer_id: int, number: str, new_day: int, today: date, conversation_id: Optional[str] = None
) -> ServiceRequest:
    quote = due_date_change_quote(session, customer_id, number, new_day, today)
    contract = load_contract(session, customer_id, number)
    return _new_request(
        session,
        RequestKind.DUE_DATE_CHANGE,
        contract.id,
        conversation_id,
        None,
        {
            "from_day": quote.current_day,
            "to_day": quote.new_day,
            "fee": quote.fee,
            "first_new_due": quote.new_dates[0].isoformat(),
        },
        RequestStatus.SUBMITTED,
    )


# --- the official payoff letter ------------------------------------------------------------------


def request_payoff_letter(
    session: Session,
    customer_id: int,
    number: str,
    today: date,
    as_of: date,
    total: int,
    conversation_id: Optional[str] = None,
) -> ServiceRequest:
    """Staff issue the official early-settlement letter; the bot's figure (as of `as_of`) is kept
    with the request so they see what the customer was told. One open request per contract: a
    second ask returns the first, with the figure the customer was told last."""
    contract = load_contract(session, customer_id, number)
    existing = (
        session.execute(
            select(ServiceRequest).where(
                ServiceRequest.contract_id == contract.id,
                ServiceRequest.kind == RequestKind.PAYOFF_LETTER,
                ServiceRequest.status == RequestStatus.SUBMITTED,
            )
        )
        .scalars()
        .first()
    )
    quoted = {"quoted_as_of": as_of.isoformat(), "quoted_total": total}
    if existing is not None:
        if any((existing.details or {}).get(key) != value for key, value in quoted.items()):
            existing.details = {**(existing.details or {}), **quoted, "asked_on": today.isoformat()}
            session.flush()
        return existing
    return _new_request(
        session,
        RequestKind.PAYOFF_LETTER,
        contract.id,
        conversation_id,
        None,
        {**quoted, "asked_on": today.isoformat()},
        RequestStatus.SUBMITTED,
    )
