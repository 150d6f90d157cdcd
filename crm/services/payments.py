"""Money questions: how to pay (channels from business/payment_channels.yml, which the CRM
analysts edit), whether a payment has arrived, the late fee of each overdue instalment, and what
it costs to pay the whole credit off on a given day.

Amounts are whole rupiah. The payoff figure is built from the instalment table itself (the same
lines `accounts.instalment_summary` shows), so the two always agree to the rupiah.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm import policy, workdays
from crm.business_files import BUSINESS, reread_when_saved
from crm.clock import to_local
from crm.models import Payment
from crm.parsing import mentions
from crm.services.accounts import InstalmentLine, instalment_lines, load_contract

CHANNELS_FILE = BUSINESS / "payment_channels.yml"


class ChannelsFileError(ValueError):
    """business/payment_channels.yml is not as the assistant needs it; the message says where."""


@dataclass(frozen=True)
class Channel:
    id: str
    title: str
    posting_hours: int
    cutoff: time
    steps: Tuple[str, ...]
    words: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Channels:
    pay_days_before_due: int
    channels: Tuple[Channel, ...]
    not_accepted: Tuple[str, ...] = ()  # ways to pay customers ask about that are not accepted

    def refused_in(self, text: str) -> Optional[str]:
        """The way to pay the text names that is not accepted ("pakai kartu kredit"), if any."""
        return next((way for way in self.not_accepted if mentions(text, (way,))), None)

    def get(self, channel_id: str) -> Optional[Channel]:
        return next((c for c in self.channels if c.id == channel_id), None)

    def named_in(self, text: str) -> Optional[Channel]:
        """The channel a customer names ("kemarin lewat atm", "di indomaret"), by its words."""
        return next(iter(self.all_named_in(text)), None)

    def all_named_in(self, text: str) -> Tuple[Channel, ...]:
        """Every channel the text names, in the file's order."""
        return tuple(channel for channel in self.channels if mentions(text, channel.words))


def _cutoff(raw: Any, where: str) -> time:
    try:
        hours, minutes = str(raw).split(":")
        return time(int(hours), int(minutes))
    except (ValueError, TypeError):
        raise ChannelsFileError(f"{where}: cutoff must look like 21:00, not {raw!r}")


def _parse(path: Path, data: Dict[str, Any]) -> Channels:
    channels = []
    for index, raw in enumerate(data.get("channels") or []):
        where = f"{path.name}: channel {index + 1}"
        if not isinstance(raw, dict) or not raw.get("id") or not raw.get("title") or not raw.get("steps"):
            raise ChannelsFileError(f"{where} needs id, title and steps")
        channels.append(
            Channel(
                id=str(raw["id"]),
                title=str(raw["title"]),
                posting_hours=int(raw.get("posting_hours") or 0),
                cutoff=_cutoff(raw.get("cutoff", "23:59"), where),
                steps=tuple(str(step) for step in raw["steps"]),
                words=tuple(str(word).lower() for word in raw.get("words") or ()),
            )
        )
    if not channels:
        raise ChannelsFileError(f"{path.name} lists no channels")
    refused = data.get("not_accepted") or []
    if not isinstance(refused, list) or not all(isinstance(way, str) and way.strip() for way in refused):
        raise ChannelsFileError(f"{path.name}: not_accepted must be a list of words")
    return Channels(
        int(data.get("pay_days_before_due") or 0), tuple(channels), tuple(way.lower().strip() for way in refused)
    )


_read = reread_when_saved(_parse, ChannelsFileError)


def payment_channels(path: Path = CHANNELS_FILE) -> Channels:
    """The channels as the analysts last saved them (re-read when the file changes)."""
    return _read(path)


def posting_due(channel: Channel, paid_at_local: datetime) -> datetime:
    """When a payment made at `paid_at_local` (WIB) through `channel` shows on the contract (WIB)."""
    start = paid_at_local
    if paid_at_local.time() > channel.cutoff:  # after the cut-off: counted from the next morning
        start = datetime.combine(paid_at_local.date() + timedelta(days=1), time(0, 0))
    return start + timedelta(hours=channel.posting_hours)


# --- how to pay --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentAdvice:
    virtual_account: str
    bank: str
    next_due: Optional[date]
    pay_by: Optional[date]  # the advised day: a few days early, and never on a holiday
    overdue: bool = False  # next_due has passed: pay now, there is no day to advise


def payment_advice(session: Session, customer_id: int, number: str, today: date) -> PaymentAdvice:
    contract = load_contract(session, customer_id, number)
    unpaid = [line for line in instalment_lines(contract, today) if not line.paid]
    next_due = unpaid[0].due_date if unpaid else None
    overdue = next_due is not None and next_due < today
    pay_by = None
    if next_due is not None and not overdue:
        pay_by = workdays.previous_working_day(next_due - timedelta(days=payment_channels().pay_days_before_due))
    va, bank = contract.virtual_account or "-", contract.virtual_account_bank or "-"
    return PaymentAdvice(va, bank, next_due, pay_by, overdue)


# --- late fees ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LateFeeLine:
    sequence: int
    due_date: date
    amount: int
    days_late: int
    fee: int


@dataclass(frozen=True)
class LateFees:
    lines: List[LateFeeLine]
    total: int
    rate_per_day: float

    @property
    def overdue(self) -> int:
        """The overdue instalments themselves, without their fees."""
        return sum(line.amount for line in self.lines)

    @property
    def due_now(self) -> int:
        """What is owed today: the overdue instalments and their fees."""
        return self.overdue + self.total


def late_fees(session: Session, customer_id: int, number: str, today: date) -> LateFees:
    """Each overdue unpaid instalment: days late × rate × amount (crm.policy.late_fee)."""
    contract = load_contract(session, customer_id, number)
    lines = [
        LateFeeLine(line.sequence, line.due_date, line.amount, (today - line.due_date).days, line.late_fee)
        for line in instalment_lines(contract, today)
        if line.overdue
    ]
    return LateFees(lines, sum(line.fee for line in lines), policy.LATE_FEE_RATE_PER_DAY)


# --- paying off early --------------------------------------------------------------------------


@dataclass(frozen=True)
class PayoffQuote:
    as_of: date
    valid_until: date
    outstanding_principal: int
    interest: int  # accrued since the last due date up to `as_of`
    settlement_fee: int
    arrears: int  # overdue instalments not yet paid
    late_fees: int
    total: int


def monthly_rate(principal: int, tenor: int, instalment: int) -> float:
    """The annuity's monthly rate: the r with instalment = principal·r / (1 − (1+r)^−tenor)."""
    if instalment * tenor <= principal:
        return 0.0
    low, high = 0.0, 1.0
    for _ in range(80):
        rate = (low + high) / 2
        payment = principal * rate / (1 - (1 + rate) ** -tenor)
        low, high = (rate, high) if payment < instalment else (low, rate)
    return (low + high) / 2


def _principal_after(principal: int, rate: float, instalment: int, count: int) -> float:
    if rate == 0:
        return principal - instalment * count
    growth = (1 + rate) ** count
    return principal * growth - instalment * (growth - 1) / rate


def last_payoff_day(today: date) -> date:
    """The furthest day a payoff figure (or what is owed on a day) may be asked for."""
    return today + timedelta(days=policy.PAYOFF_DAYS_AHEAD)


def payoff_day_allowed(day: date, today: date) -> bool:
    """A day from today to `last_payoff_day`."""
    return today <= day <= last_payoff_day(today)


def payoff_quote(
    session: Session, customer_id: int, number: str, today: date, as_of: Optional[date] = None
) -> PayoffQuote:
    """Paying the whole credit off on `as_of` (today by default, at most PAYOFF_DAYS_AHEAD ahead).

    Instalments already due by `as_of` and unpaid are owed in full with their late fees; the
    principal still outstanding after them is owed with interest accrued since the last due date
    and the early-settlement fee."""
    as_of = as_of or today
    if not payoff_day_allowed(as_of, today):
        raise ValueError(f"a payoff date from {today} to {last_payoff_day(today)}")
    contract = load_contract(session, customer_id, number)
    lines = instalment_lines(contract, as_of)
    rate = monthly_rate(contract.principal, contract.tenor_months, contract.monthly_instalment)
    due_by = [line for line in lines if line.due_date <= as_of]
    arrears_lines = [line for line in due_by if not line.paid]
    principal_left = max(round(_principal_after(contract.principal, rate, contract.monthly_instalment, len(due_by))), 0)
    unpaid_after = [line for line in lines if not line.paid and line.due_date > as_of]
    if not unpaid_after:  # nothing left to settle early
        principal_left = 0
    last_due = due_by[-1].due_date if due_by else contract.start_date
    interest = round(principal_left * rate * (as_of - last_due).days / 30) if principal_left else 0
    fee = round(principal_left * policy.EARLY_SETTLEMENT_FEE_RATE)
    arrears = sum(line.amount for line in arrears_lines)
    fees = sum(line.late_fee for line in arrears_lines)
    return PayoffQuote(
        as_of=as_of,
        valid_until=as_of,
        outstanding_principal=principal_left,
        interest=interest,
        settlement_fee=fee,
        arrears=arrears,
        late_fees=fees,
        total=principal_left + interest + fee + arrears + fees,
    )


# --- a payment that does not show --------------------------------------------------------------


@dataclass(frozen=True)
class PaymentCheck:
    outcome: str  # "posted", "in_flight", "posting_late", "within_delay", "not_found"
    payment: Optional[Payment] = None
    instalment: Optional[InstalmentLine] = None
    expected_by: Optional[datetime] = None  # WIB: when a payment in its posting delay shows (or should have)


def check_payment(
    session: Session, customer_id: int, number: str, paid_on: date, channel_id: str, now_local: datetime
) -> PaymentCheck:
    """Compare what the customer says (paid on `paid_on` through `channel_id`) with the payments
    recorded for the contract and the channel's posting delay."""
    contract = load_contract(session, customer_id, number)
    channel = payment_channels().get(channel_id)
    window_start = datetime.combine(paid_on - timedelta(days=1), time(0, 0))
    window_end = datetime.combine(paid_on + timedelta(days=2), time(0, 0))
    found = (
        session.execute(
            select(Payment)
            .where(Payment.contract_id == contract.id, Payment.paid_at >= window_start, Payment.paid_at < window_end)
            .order_by(Payment.paid_at.desc())
        )
        .scalars()
        .all()
    )
    lines = {line.sequence: line for line in instalment_lines(contract, now_local.date())}
    for payment in found:
        line = lines.get(payment.instalment.sequence) if payment.instalment is not None else None
        if payment.posted_at is not None:
            return PaymentCheck("posted", payment, line)
        due = posting_due(_channel_of(payment), to_local(payment.paid_at))  # the channel it came through
        # received but still not on the contract after its channel's delay: someone must post it
        return PaymentCheck("in_flight" if now_local < due else "posting_late", payment, line, due)
    if channel is not None:
        latest = datetime.combine(paid_on, time(23, 59))
        due = posting_due(channel, latest)
        if now_local < due:
            return PaymentCheck("within_delay", expected_by=due)
    return PaymentCheck("not_found")


def _channel_of(payment: Payment) -> Channel:
    channel = payment_channels().get(payment.channel)
    if channel is None:  # a channel removed from the file since: assume a day
        return Channel(payment.channel, payment.channel, 24, time(23, 59), ())
    return channel


def channel_choices() -> List[Dict[str, str]]:
    """(id, title) of every channel, for buttons."""
    return [{"id": c.id, "title": c.title} for c in payment_channels().channels]
