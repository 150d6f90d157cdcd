"""Read-only answers about a verified customer's contracts: instalments, BPKB, autodebit.

Every function takes the verified customer's id and a contract number and refuses a contract
that belongs to someone else (:class:`ContractNotFound`), so a conversation can never read
another customer's account by typing their contract number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from crm import policy, workdays
from crm.models import Bpkb, BpkbStatus, Branch, Contract, ContractStatus, Customer, Product
from crm.parsing import flat_words, mentions, names_the_other, normalise_contract_number


class ContractNotFound(LookupError):
    """No such contract for this customer."""


PRODUCT_NAMES = {
    Product.NEW_CAR: "Kredit mobil baru",
    Product.MULTIPURPOSE: "Siap Dana (multiguna)",
    Product.FLEET: "Kredit fleet",
}
STATUS_NAMES = {
    ContractStatus.ACTIVE: "aktif",
    ContractStatus.PAID_OFF: "lunas",
    ContractStatus.WRITTEN_OFF: "dalam penanganan khusus",
}


@dataclass(frozen=True)
class ContractBrief:
    number: str
    product: str
    vehicle: str
    plate: str
    status: ContractStatus


def contracts_named_in(contracts: List[ContractBrief], text: str) -> List[ContractBrief]:
    """The customer's contracts the words name: the number, or else the model ("yang yaris" for
    a Yaris Cross, "raize") or the plate ("b 5155 kky")."""
    number = normalise_contract_number(text)
    if number is not None:
        return [c for c in contracts if c.number == number]
    squeezed = text.lower().replace(" ", "")
    return [c for c in contracts if mentions(text, _model_words(c)) or c.plate.lower().replace(" ", "") in squeezed]


def contract_meant(contracts: List[ContractBrief], text: str, current: str) -> Optional[ContractBrief]:
    """The one contract the words point to: named (number, model or plate), or, of two, the one
    that is not `current` when they say "yang satunya". None when they point to none or to both."""
    named = contracts_named_in(contracts, text)
    if len(named) == 1:
        return named[0]
    others = [c for c in contracts if c.number != current]
    return others[0] if not named and len(others) == 1 and len(contracts) == 2 and names_the_other(text) else None


def contract_words(contract: ContractBrief) -> List[str]:
    """The words that name `contract`: its number, its car's brand and model, its plate."""
    return [contract.number, *flat_words(contract.vehicle).split(), *flat_words(contract.plate or "").split()]


def _model_words(contract: ContractBrief) -> List[str]:
    """ "Avanza 1.3 G" -> ["avanza"]: a trim letter ("g") is also chat ("g bisa")."""
    model = contract.vehicle.split(" ", 1)[-1].lower()
    return [word for word in model.split() if word.isalpha() and len(word) >= 3]


def _brief(contract: Contract) -> ContractBrief:
    return ContractBrief(
        number=contract.number,
        product=PRODUCT_NAMES[contract.product],
        vehicle=f"{contract.vehicle_brand} {contract.vehicle_model}",
        plate=contract.plate_number,
        status=contract.status,
    )


def customer_contracts(session: Session, customer_id: int) -> List[ContractBrief]:
    contracts = session.execute(
        select(Contract).where(Contract.customer_id == customer_id).order_by(Contract.number)
    ).scalars()
    return [_brief(c) for c in contracts]


def customer_name(session: Session, customer_id: int) -> str:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise ContractNotFound(customer_id)
    return customer.name


def load_contract(session: Session, customer_id: int, number: str) -> Contract:
    contract = session.execute(
        select(Contract)
        .options(selectinload(Contract.instalments), selectinload(Contract.bpkb), selectinload(Contract.branch))
        .where(Contract.number == number, Contract.customer_id == customer_id)
    ).scalar_one_or_none()
    if contract is None:
        raise ContractNotFound(number)
    return contract


# --- instalments -------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstalmentLine:
    sequence: int
    due_date: date
    amount: int
    paid: bool
    late_fee: int  # charged (paid late) or accrued until today (unpaid, overdue)
    overdue: bool


@dataclass(frozen=True)
class InstalmentSummary:
    contract: ContractBrief
    tenor: int
    paid_count: int
    monthly_amount: int
    next_due: Optional[InstalmentLine]  # the earliest unpaid instalment
    outstanding: int  # unpaid instalments, excluding late fees
    arrears_count: int
    arrears_amount: int
    arrears_fees: int
    autodebit_bank: Optional[str]
    recent: List[InstalmentLine]  # last 3 paid
    upcoming: List[InstalmentLine]  # next 3 unpaid


def instalment_lines(contract: Contract, today: date) -> List[InstalmentLine]:
    """Every instalment of `contract` as of `today`: paid or not, overdue or not, its late fee."""
    lines = []
    for row in contract.instalments:
        paid = row.paid_at is not None
        overdue = not paid and row.due_date < today
        fee = row.late_fee if paid else policy.late_fee(row.amount, (today - row.due_date).days)
        fee = fee if paid or overdue else 0
        lines.append(InstalmentLine(row.sequence, row.due_date, row.amount, paid, fee, overdue))
    return lines


def instalment_summary(session: Session, customer_id: int, number: str, today: date) -> InstalmentSummary:
    contract = load_contract(session, customer_id, number)
    lines = instalment_lines(contract, today)
    unpaid = [line for line in lines if not line.paid]
    overdue = [line for line in unpaid if line.overdue]
    return InstalmentSummary(
        contract=_brief(contract),
        tenor=contract.tenor_months,
        paid_count=len(lines) - len(unpaid),
        monthly_amount=contract.monthly_instalment,
        next_due=unpaid[0] if unpaid else None,
        outstanding=sum(line.amount for line in unpaid),
        arrears_count=len(overdue),
        arrears_amount=sum(line.amount for line in overdue),
        arrears_fees=sum(line.late_fee for line in overdue),
        autodebit_bank=contract.autodebit_bank,
        recent=[line for line in lines if line.paid][-3:],
        upcoming=unpaid[:3],
    )


def last_due(contract: Contract, today: date) -> Optional[InstalmentLine]:
    """The latest instalment of `contract` whose due date has come (paid or not), None before the
    first."""
    due = [line for line in instalment_lines(contract, today) if line.due_date <= today]
    return due[-1] if due else None


def instalment_in_month(contract: Contract, today: date, year: int, month: int) -> Optional[InstalmentLine]:
    """The instalment of `contract` due in that month (paid or not, as of `today`), None when it
    has none then."""
    return next(
        (
            line
            for line in instalment_lines(contract, today)
            if (line.due_date.year, line.due_date.month) == (year, month)
        ),
        None,
    )


# --- BPKB ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BranchInfo:
    id: int
    name: str
    city: str
    address: str
    phone: str


def branch_info(branch: Branch) -> BranchInfo:
    return BranchInfo(branch.id, branch.name, branch.city, branch.address, branch.phone)


@dataclass(frozen=True)
class BpkbInfo:
    contract: ContractBrief
    status: BpkbStatus
    since: date
    branch: BranchInfo
    remaining_count: int
    remaining_amount: int  # unpaid instalments + accrued late fees
    expected_ready: Optional[date]  # for an active contract paid as scheduled


def bpkb_info(session: Session, customer_id: int, number: str, today: date) -> BpkbInfo:
    contract = load_contract(session, customer_id, number)
    bpkb: Bpkb = contract.bpkb
    unpaid = [line for line in instalment_lines(contract, today) if not line.paid]
    expected = None
    if contract.status is ContractStatus.ACTIVE and contract.instalments:
        last_due = contract.instalments[-1].due_date
        expected = max(last_due, today) + timedelta(days=policy.BPKB_READY_AFTER_DAYS)
    return BpkbInfo(
        contract=_brief(contract),
        status=bpkb.status,
        since=bpkb.since,
        branch=branch_info(bpkb.branch),
        remaining_count=len(unpaid),
        remaining_amount=sum(line.amount + line.late_fee for line in unpaid),
        expected_ready=expected,
    )


# --- autodebit -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AutodebitDate:
    due_date: date
    debit_date: date  # moved to the previous working day when the due date is not one
    reason: Optional[str]  # holiday name, "Sabtu" or "Minggu" when moved

    @property
    def moved(self) -> bool:
        return self.debit_date != self.due_date


def debit_date_for(due: date) -> AutodebitDate:
    debit = workdays.previous_working_day(due)
    reason = None
    if debit != due:
        reason = workdays.holiday_name(due) or ("Sabtu" if due.weekday() == 5 else "Minggu")
    return AutodebitDate(due, debit, reason)


@dataclass(frozen=True)
class AutodebitSchedule:
    contract: ContractBrief
    bank: Optional[str]
    due_day: int
    dates: List[AutodebitDate]


def autodebit_schedule(
    session: Session, customer_id: int, number: str, today: date, count: int = 3
) -> AutodebitSchedule:
    contract = load_contract(session, customer_id, number)
    upcoming = [row.due_date for row in contract.instalments if row.paid_at is None and row.due_date >= today]
    dates = [debit_date_for(due) for due in upcoming[:count]] if contract.autodebit_bank else []
    return AutodebitSchedule(_brief(contract), contract.autodebit_bank, contract.due_day, dates)
