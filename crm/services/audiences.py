"""Who a campaign goes to: named queries over the customer database. Each yields one member per
customer (their first matching contract) with the values the template's {{n}} can take and the
notice the bot keeps to answer a reply. Consent and repeats are applied by `campaigns`.

The autodebit audience uses `accounts.debit_date_for`, the rule the bot answers with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, aliased

from crm.formatting import hours as hours_text
from crm.formatting import long_date, rupiah
from crm.models import Contract, ContractStatus, Customer, HolidayOverride, Instalment, Service
from crm.services.accounts import debit_date_for
from crm.services.hours import hours_on
from crm.services.verification import normalise_phone

COMMON_FIELDS = ("customer_name", "contract_ending", "brand_name")
CHUNK = 1000


@dataclass(frozen=True)
class Member:
    customer_id: int
    contract_id: Optional[int]
    phone: str  # E.164 as stored
    values: Dict[str, str]
    notice: Dict[str, Any] = field(default_factory=dict)

    @property
    def wa_id(self) -> str:
        return normalise_phone(self.phone)


@dataclass(frozen=True)
class Option:
    name: str
    label: str  # Indonesian, for the console form
    kind: str  # date | int | bool
    default: Callable[[date], Any]


@dataclass(frozen=True)
class Audience:
    name: str
    title: str
    purpose: str  # notice | reminder | marketing: which opt-out applies
    fields: Tuple[str, ...]
    options: Tuple[Option, ...]
    query: Callable[..., Iterator[Member]]


def contract_ending(number: str) -> str:
    """'…0001': enough for the customer to know which contract, nothing for a stranger."""
    return "…" + number[-4:]


def _common(customer: Customer, contract: Optional[Contract], brand: str) -> Dict[str, str]:
    return {
        "customer_name": customer.name,
        "contract_ending": contract_ending(contract.number) if contract else "",
        "brand_name": brand,
    }


def _first_per_customer(rows: Any) -> Iterator[Any]:
    """Rows ordered by customer: the first of each customer's."""
    last = None
    for row in rows:
        if row[0].id != last:
            last = row[0].id
            yield row


def autodebit_on_holiday(session: Session, today: date, brand: str, start: date, end: date) -> Iterator[Member]:
    """Active autodebit contracts whose unpaid instalment falls due on a holiday or a weekend
    between `start` and `end`: the debit moves to the previous working day."""
    rows = session.execute(
        select(Customer, Contract, Instalment)
        .join(Contract, Contract.customer_id == Customer.id)
        .join(Instalment, Instalment.contract_id == Contract.id)
        .where(
            Contract.status == ContractStatus.ACTIVE,
            Contract.autodebit_bank.isnot(None),
            Instalment.paid_at.is_(None),
            Instalment.due_date.between(start, end),
        )
        .order_by(Customer.id, Instalment.due_date, Contract.number)
        .execution_options(yield_per=CHUNK)
    )
    last = None
    for customer, contract, instalment in rows:
        if customer.id == last:
            continue
        shift = debit_date_for(instalment.due_date)
        if not shift.moved:
            continue
        last = customer.id
        values = {
            **_common(customer, contract, brand),
            "due_date": long_date(shift.due_date),
            "holiday_name": shift.reason or "",
            "bank": contract.autodebit_bank or "",
            "amount": rupiah(instalment.amount + instalment.late_fee),
            "debit_date": long_date(shift.debit_date),
        }
        notice = {
            "kind": "autodebit_moved",
            "contract": contract.number,
            "due_date": shift.due_date.isoformat(),
            "debit_date": shift.debit_date.isoformat(),
        }
        yield Member(customer.id, contract.id, customer.phone, values, notice)


def due_in_days(
    session: Session, today: date, brand: str, days: int, include_arrears: bool = False
) -> Iterator[Member]:
    """Contracts paid by transfer (not autodebit) with an instalment due in `days` days; contracts
    in arrears are left out unless chosen (they get the collection team's messages instead)."""
    due = today + timedelta(days=days)
    earlier = aliased(Instalment)
    in_arrears = exists().where(
        and_(earlier.contract_id == Contract.id, earlier.paid_at.is_(None), earlier.due_date < today)
    )
    query = (
        select(Customer, Contract, Instalment)
        .join(Contract, Contract.customer_id == Customer.id)
        .join(Instalment, Instalment.contract_id == Contract.id)
        .where(
            Contract.status == ContractStatus.ACTIVE,
            Contract.autodebit_bank.is_(None),
            Instalment.paid_at.is_(None),
            Instalment.due_date == due,
        )
        .order_by(Customer.id, Contract.number)
        .execution_options(yield_per=CHUNK)
    )
    if not include_arrears:
        query = query.where(~in_arrears)
    for customer, contract, instalment in _first_per_customer(session.execute(query)):
        values = {
            **_common(customer, contract, brand),
            "instalment_number": str(instalment.sequence),
            "amount": rupiah(instalment.amount + instalment.late_fee),
            "due_date": long_date(instalment.due_date),
            "virtual_account": f"{contract.virtual_account_bank or ''} {contract.virtual_account or ''}".strip(),
        }
        notice = {"kind": "due_reminder", "contract": contract.number, "due_date": instalment.due_date.isoformat()}
        yield Member(customer.id, contract.id, customer.phone, values, notice)


def holiday_service_hours(session: Session, today: date, brand: str, day: date) -> Iterator[Member]:
    """Customers of the branches whose office hours differ on `day` (a holiday override)."""
    overrides = session.execute(select(HolidayOverride).where(HolidayOverride.day == day)).scalars().all()
    if not overrides:
        return
    wanted_all = any(o.branch_id is None for o in overrides)
    branch_ids = {o.branch_id for o in overrides if o.branch_id is not None}
    query = (
        select(Customer, Contract)
        .join(Contract, Contract.customer_id == Customer.id)
        .where(Contract.status == ContractStatus.ACTIVE)
        .order_by(Customer.id, Contract.number)
        .execution_options(yield_per=CHUNK)
    )
    if not wanted_all:
        query = query.where(Contract.branch_id.in_(branch_ids))
    cache: Dict[int, Any] = {}
    for customer, contract in _first_per_customer(session.execute(query)):
        if contract.branch_id not in cache:
            office = hours_on(session, contract.branch_id, day)[Service.BRANCH_OFFICE]
            cache[contract.branch_id] = office
        office = cache[contract.branch_id]
        if office.holiday is None:
            continue
        values = {
            **_common(customer, contract, brand),
            "holiday_date": long_date(day),
            "holiday_name": office.holiday,
            "branch_name": contract.branch.name,
            "branch_hours": f"buka pukul {hours_text(office.opens, office.closes)} WIB" if office.open else "tutup",
        }
        notice = {"kind": "holiday_hours", "day": day.isoformat(), "branch": contract.branch.code}
        yield Member(customer.id, contract.id, customer.phone, values, notice)


def all_active(session: Session, today: date, brand: str) -> Iterator[Member]:
    """Every customer with an active contract (greetings)."""
    query = (
        select(Customer, Contract)
        .join(Contract, Contract.customer_id == Customer.id)
        .where(Contract.status == ContractStatus.ACTIVE)
        .order_by(Customer.id, Contract.number)
        .execution_options(yield_per=CHUNK)
    )
    for customer, contract in _first_per_customer(session.execute(query)):
        yield Member(customer.id, contract.id, customer.phone, _common(customer, contract, brand), {"kind": "greeting"})


def _next_holiday(today: date) -> date:
    from crm.workdays import public_holidays

    days = sorted(d for d in public_holidays([today.year, today.year + 1]) if d > today)
    return days[0] if days else today + timedelta(days=1)


AUDIENCES: Dict[str, Audience] = {
    a.name: a
    for a in (
        Audience(
            "autodebit_holiday",
            "Autodebit jatuh di hari libur",
            "notice",
            COMMON_FIELDS + ("due_date", "holiday_name", "bank", "amount", "debit_date"),
            (
                Option("start", "Jatuh tempo dari", "date", lambda today: today + timedelta(days=1)),
                Option("end", "sampai", "date", lambda today: today + timedelta(days=31)),
            ),
            autodebit_on_holiday,
        ),
        Audience(
            "due_in_days",
            "Pengingat jatuh tempo (tanpa autodebit)",
            "reminder",
            COMMON_FIELDS + ("instalment_number", "amount", "due_date", "virtual_account"),
            (
                Option("days", "Jatuh tempo dalam (hari)", "int", lambda today: 3),
                Option("include_arrears", "Termasuk kontrak yang menunggak", "bool", lambda today: False),
            ),
            due_in_days,
        ),
        Audience(
            "holiday_service_hours",
            "Jam layanan cabang saat hari libur",
            "notice",
            COMMON_FIELDS + ("holiday_date", "holiday_name", "branch_name", "branch_hours"),
            (Option("day", "Tanggal libur", "date", _next_holiday),),
            holiday_service_hours,
        ),
        Audience("all_active", "Semua nasabah aktif (ucapan)", "marketing", COMMON_FIELDS, (), all_active),
    )
}


def parse_options(audience: Audience, raw: Dict[str, Any], today: date) -> Dict[str, Any]:
    """The audience's options from a form or JSON (missing ones take their default); ValueError
    with an Indonesian reason for a bad value."""
    values: Dict[str, Any] = {}
    for option in audience.options:
        given = raw.get(option.name)
        if given in (None, ""):
            value = option.default(today)
        elif option.kind == "date":
            try:
                value = given if isinstance(given, date) else date.fromisoformat(str(given))
            except ValueError:
                raise ValueError(f"{option.label}: tanggal harus berformat YYYY-MM-DD")
        elif option.kind == "int":
            try:
                value = int(given)
            except (TypeError, ValueError):
                raise ValueError(f"{option.label}: harus angka")
            if not 0 <= value <= 60:
                raise ValueError(f"{option.label}: antara 0 dan 60")
        else:
            value = str(given).lower() in ("1", "true", "on", "yes", "ya")
        values[option.name] = value
    if "start" in values and "end" in values and values["end"] < values["start"]:
        raise ValueError("Tanggal akhir tidak boleh sebelum tanggal awal")
    if "start" in values and (values["end"] - values["start"]).days > 92:
        raise ValueError("Rentang tanggal paling lama 3 bulan")
    return values


def stored_options(options: Dict[str, Any]) -> Dict[str, Any]:
    """Options as JSON (dates as ISO text)."""
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in options.items()}


def members(session: Session, name: str, options: Dict[str, Any], today: date, brand: str) -> Iterator[Member]:
    audience = AUDIENCES[name]
    parsed = parse_options(audience, options, today)
    return audience.query(session, today, brand, **parsed)


def list_audiences() -> List[Audience]:
    return list(AUDIENCES.values())
