"""Synthetic but consistent Indonesian customer data for development, demos and tests.

Everything is derived from one random seed and one reference date ("today"), so the same
call gives the same database. Invariants (checked by tests/test_seed.py):

- every contract has exactly `tenor_months` instalments, monthly on `due_day`, the first one
  the month after `start_date`;
- instalments due before today are paid, except for customers in arrears, whose latest 1-3
  are unpaid with an accrued late fee;
- paid-off contracts have every instalment paid and their BPKB ready at the branch (or, if paid
  off long ago, sometimes already handed over); active contracts' BPKB is held or lent out;
- NIKs are 16 digits that encode the date of birth (day + 40 for women), phones are E.164;
- some customers have several contracts and some autodebit dates fall on Indonesian public
  holidays (`holidays` package).

A small fixed set of demo customers (:data:`DEMO_CUSTOMERS`, listed in the README) always
exists so anyone can try the bot.
"""

from __future__ import annotations

import math
import random
import sys
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from faker import Faker
from sqlalchemy import delete, insert
from sqlalchemy.engine import Engine

from crm.clock import local_today
from crm.models import (
    Base,
    Bpkb,
    BpkbStatus,
    Branch,
    BranchHours,
    Contract,
    ContractStatus,
    Customer,
    HolidayOverride,
    Instalment,
    Payment,
    Product,
    Service,
    WhatsAppContact,
)
from crm.policy import late_fee
from crm.services.payments import payment_channels
from crm.workdays import add_months, public_holidays

CHUNK = 5_000

# code, name, city, plate prefix
BRANCHES: Sequence[Tuple[str, str, str, str]] = (
    ("101", "Cabang Jakarta Sunter", "Jakarta Utara", "B"),
    ("102", "Cabang Jakarta Fatmawati", "Jakarta Selatan", "B"),
    ("103", "Cabang Bekasi", "Bekasi", "B"),
    ("201", "Cabang Bandung", "Bandung", "D"),
    ("301", "Cabang Surabaya", "Surabaya", "L"),
    ("302", "Cabang Semarang", "Semarang", "H"),
    ("303", "Cabang Yogyakarta", "Yogyakarta", "AB"),
    ("401", "Cabang Medan", "Medan", "BK"),
    ("402", "Cabang Palembang", "Palembang", "BG"),
    ("501", "Cabang Makassar", "Makassar", "DD"),
    ("502", "Cabang Balikpapan", "Balikpapan", "KT"),
    ("601", "Cabang Denpasar", "Denpasar", "DK"),
)
# branch code -> (street address, telephone area code): synthetic numbers on each city's own
# streets, so an address and a phone customers are given belong to that branch's city
BRANCH_CONTACTS: Dict[str, Tuple[str, str]] = {
    "101": ("Jl. Danau Sunter Utara No. 12", "21"),
    "102": ("Jl. RS Fatmawati Raya No. 45", "21"),
    "103": ("Jl. Ahmad Yani No. 8", "21"),
    "201": ("Jl. Soekarno-Hatta No. 210", "22"),
    "301": ("Jl. Basuki Rahmat No. 77", "31"),
    "302": ("Jl. Pandanaran No. 31", "24"),
    "303": ("Jl. Magelang Km 5 No. 18", "274"),
    "401": ("Jl. Gatot Subroto No. 120", "61"),
    "402": ("Jl. Jenderal Sudirman No. 55", "711"),
    "501": ("Jl. Urip Sumoharjo No. 90", "411"),
    "502": ("Jl. MT Haryono No. 14", "542"),
    "601": ("Jl. Teuku Umar No. 66", "361"),
}

# brand -> (model, typical OTR price in rupiah)
VEHICLES: Dict[str, Sequence[Tuple[str, int]]] = {
    "Toyota": (
        ("Agya", 170_000_000),
        ("Calya", 175_000_000),
        ("Avanza", 260_000_000),
        ("Veloz", 310_000_000),
        ("Raize", 280_000_000),
        ("Rush", 300_000_000),
        ("Yaris Cross", 380_000_000),
        ("Innova Zenix", 470_000_000),
        ("Fortuner", 600_000_000),
        ("Hilux", 420_000_000),
    ),
    "Daihatsu": (
        ("Ayla", 150_000_000),
        ("Sigra", 160_000_000),
        ("Xenia", 240_000_000),
        ("Rocky", 250_000_000),
        ("Terios", 270_000_000),
        ("Gran Max", 200_000_000),
        ("Luxio", 240_000_000),
    ),
}
FLEET_MODELS = (("Toyota", "Hilux"), ("Daihatsu", "Gran Max"), ("Toyota", "Innova Zenix"))
BANKS = ("BCA", "BRI", "Mandiri", "BNI", "CIMB Niaga", "Permata", "BTN")
MOBILE_PREFIXES = (
    "811",
    "812",
    "813",
    "821",
    "822",
    "852",
    "853",
    "814",
    "815",
    "816",
    "855",
    "856",
    "857",
    "858",
    "817",
    "818",
    "819",
    "859",
    "877",
    "878",
    "881",
    "882",
    "895",
    "896",
    "897",
)
# province+regency codes used for NIKs, per branch city (approximate, synthetic)
NIK_REGIONS = ("3171", "3174", "3275", "3273", "3578", "3374", "3471", "1271", "1671", "7371", "6471", "5171")

WEEKLY_HOURS: Dict[Service, Dict[int, Tuple[time, time]]] = {
    Service.BRANCH_OFFICE: {**{d: (time(8), time(16)) for d in range(5)}, 5: (time(8), time(12))},
    Service.SERVICE_LOUNGE: {d: (time(9), time(17)) for d in range(6)},
    Service.CUSTOMER_CARE: {**{d: (time(8), time(20)) for d in range(6)}, 6: (time(8), time(17))},
}
# On public holidays, as in the company's usual notice: branches closed, lounge and care shorter.
HOLIDAY_HOURS: Dict[Service, Optional[Tuple[time, time]]] = {
    Service.BRANCH_OFFICE: None,
    Service.SERVICE_LOUNGE: (time(10), time(16)),
    Service.CUSTOMER_CARE: (time(8), time(16)),
}


@dataclass(frozen=True)
class DemoContract:
    number: str
    product: Product
    brand: str
    model: str
    principal: int
    tenor: int
    months_elapsed: int  # instalments due before today
    unpaid: int = 0  # of those, how many (the latest) are unpaid
    autodebit_bank: Optional[str] = None
    bpkb: BpkbStatus = BpkbStatus.HELD
    due_day: Optional[int] = None  # None: the next public-holiday day (autodebit demo)


@dataclass(frozen=True)
class DemoCustomer:
    name: str
    date_of_birth: date
    female: bool
    phone: str
    branch_code: str
    contracts: Tuple[DemoContract, ...]
    story: str  # what the customer is there to demonstrate (README)
    mother: str = ""  # mother's maiden name (the second factor on WhatsApp from another number)


DEMO_CUSTOMERS: Tuple[DemoCustomer, ...] = (
    DemoCustomer(
        "Budi Santoso",
        date(1985, 8, 17),
        False,
        "+6281210000001",
        "101",
        (
            DemoContract(
                "K10124000001",
                Product.NEW_CAR,
                "Toyota",
                "Avanza",
                210_000_000,
                48,
                22,
                autodebit_bank="BCA",
                due_day=None,
            ),
        ),
        "active, autodebit BCA; its due day is the day of the next public holiday, so a coming"
        " autodebit falls on a holiday",
        mother="Sri Wahyuni",
    ),
    DemoCustomer(
        "Siti Rahmawati",
        date(1990, 3, 5),
        True,
        "+6281210000002",
        "201",
        (
            DemoContract(
                "K20123000002", Product.NEW_CAR, "Daihatsu", "Xenia", 190_000_000, 36, 20, unpaid=2, due_day=10
            ),
        ),
        "active, two instalments in arrears with late fees",
        mother="Aminah",
    ),
    DemoCustomer(
        "Agus Wijaya",
        date(1978, 12, 1),
        False,
        "+6281210000003",
        "301",
        (
            DemoContract(
                "K30121000003", Product.NEW_CAR, "Toyota", "Rush", 240_000_000, 36, 36, bpkb=BpkbStatus.READY, due_day=5
            ),
        ),
        "paid off, BPKB ready for pickup at Cabang Surabaya",
        mother="Suparmi",
    ),
    DemoCustomer(
        "Dewi Lestari",
        date(1988, 11, 23),
        True,
        "+6281210000004",
        "102",
        (
            DemoContract(
                "K10224000004",
                Product.NEW_CAR,
                "Toyota",
                "Raize",
                230_000_000,
                60,
                10,
                autodebit_bank="Mandiri",
                due_day=25,
            ),
            DemoContract(
                "K10223000005", Product.MULTIPURPOSE, "Toyota", "Yaris Cross", 120_000_000, 24, 15, due_day=15
            ),
        ),
        "two active contracts (new-car credit and Siap Dana multipurpose loan)",
        mother="Ratna Sari",
    ),
    DemoCustomer(
        "Rudi Hartono",
        date(1975, 6, 30),
        False,
        "+6281210000006",
        "401",
        (
            DemoContract(
                "K40120000006",
                Product.NEW_CAR,
                "Toyota",
                "Fortuner",
                450_000_000,
                60,
                40,
                autodebit_bank="BRI",
                bpkb=BpkbStatus.LENT_OUT,
                due_day=20,
            ),
        ),
        "active, BPKB lent out for the 5-yearly STNK renewal",
        mother="Kartini",
    ),
)


@dataclass
class SeedReport:
    customers: int = 0
    contracts: int = 0
    instalments: int = 0
    branches: int = 0
    holiday_overrides: int = 0
    seconds: float = 0.0


# ---------------------------------------------------------------------------------------------
# Pure helpers


def due_dates(start_date: date, due_day: int, tenor: int) -> List[date]:
    """The due date of each instalment: monthly on `due_day`, starting the month after start."""
    return [add_months(start_date, i, due_day) for i in range(1, tenor + 1)]


def monthly_instalment(principal: int, tenor: int, flat_rate_per_year: float) -> int:
    """Flat-rate instalment, rounded up to the next thousand rupiah."""
    total = principal * (1 + flat_rate_per_year * tenor / 12)
    return int(math.ceil(total / tenor / 1000.0) * 1000)


def make_nik(region: str, date_of_birth: date, female: bool, serial: int) -> str:
    """16 digits: region (4) + district (2) + DDMMYY (day + 40 for women) + serial (4)."""
    district = 1 + serial % 40
    day = date_of_birth.day + (40 if female else 0)
    return f"{region}{district:02d}{day:02d}{date_of_birth.month:02d}{date_of_birth.year % 100:02d}{serial % 10000:04d}"


def next_holiday_due_day(today: date, holiday_days: Dict[date, str]) -> Tuple[date, int]:
    """The first public holiday after today whose day of month can be a due day (1-28)."""
    for day in sorted(holiday_days):
        if day > today and day.day <= 28:
            return day, day.day
    raise ValueError("no public holiday with day <= 28 after today")  # pragma: no cover


# ---------------------------------------------------------------------------------------------
# Generation


class _Generator:
    def __init__(self, seed: int, today: date):
        self.rng = random.Random(seed)
        self.fake = Faker("id_ID")
        self.fake.seed_instance(seed)
        self.mothers = Faker("id_ID")  # its own stream: the other synthetic data stays as it was
        self.mothers.seed_instance(seed + 1)
        self.today = today
        self.now = datetime.combine(today, time(9))
        self.holidays = public_holidays(range(today.year - 7, today.year + 6))
        self.customers: List[dict] = []
        self.contracts: List[dict] = []
        self.instalments: List[dict] = []
        self.bpkbs: List[dict] = []
        self.used_niks: set = set()
        self.used_phones: set = set()
        self.contract_serial = 100
        self.nik_serial = 1

    # -- identities
    def phone(self) -> str:
        while True:
            number = (
                "+62"
                + self.rng.choice(MOBILE_PREFIXES)
                + "".join(self.rng.choice("0123456789") for _ in range(self.rng.choice((7, 8))))
            )
            if number not in self.used_phones:
                self.used_phones.add(number)
                return number

    def nik(self, branch_index: int, date_of_birth: date, female: bool) -> str:
        while True:
            nik = make_nik(NIK_REGIONS[branch_index], date_of_birth, female, self.nik_serial)
            self.nik_serial += 1
            if nik not in self.used_niks:
                self.used_niks.add(nik)
                return nik

    def plate(self, prefix: str) -> str:
        letters = "".join(self.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(self.rng.choice((2, 3))))
        return f"{prefix} {self.rng.randint(1, 9999)} {letters}"

    # -- rows
    def add_customer(self, *, name, date_of_birth, female, phone, branch_index, mother=None) -> int:
        customer_id = len(self.customers) + 1
        branch = BRANCHES[branch_index]
        self.customers.append(
            dict(
                id=customer_id,
                name=name,
                nik=self.nik(branch_index, date_of_birth, female),
                date_of_birth=date_of_birth,
                phone=phone,
                email=self._email(name, customer_id),
                address=self.fake.street_address(),
                city=branch[2],
                created_at=self.now,
                mother_maiden_name=mother or f"{self.mothers.first_name_female()} {self.mothers.last_name_female()}",
            )
        )
        return customer_id

    def _email(self, name: str, customer_id: int) -> Optional[str]:
        if self.rng.random() < 0.2:
            return None
        local = "".join(ch for ch in name.lower().replace(" ", ".") if ch.isalnum() or ch == ".")
        return f"{local}{customer_id}@{self.rng.choice(('gmail.com', 'yahoo.co.id', 'outlook.com'))}"

    def add_contract(
        self,
        *,
        number: str,
        customer_id: int,
        branch_index: int,
        product: Product,
        brand: str,
        model: str,
        principal: int,
        tenor: int,
        months_elapsed: int,
        unpaid: int,
        due_day: int,
        autodebit_bank: Optional[str],
        bpkb_status: Optional[BpkbStatus],
        late_payer: bool,
        written_off: bool = False,
    ) -> None:
        """Add a contract whose `months_elapsed` instalments are due before today."""
        # Choose start_date so that exactly `months_elapsed` due dates are before today.
        first_due_after_today = add_months(self.today, 0, due_day)
        if first_due_after_today <= self.today:
            first_due_after_today = add_months(self.today, 1, due_day)
        # Any day of the month before the first due date keeps the schedule where it is.
        start_date = add_months(first_due_after_today, -(months_elapsed + 1), self.rng.randint(1, 28))
        dates = due_dates(start_date, due_day, tenor)

        contract_id = len(self.contracts) + 1
        rate = 0.11 if product is Product.MULTIPURPOSE else self.rng.choice((0.045, 0.05, 0.055, 0.06))
        amount = monthly_instalment(principal, tenor, rate)
        paid_off = months_elapsed >= tenor and unpaid == 0 and not written_off
        status = (
            ContractStatus.WRITTEN_OFF
            if written_off
            else ContractStatus.PAID_OFF
            if paid_off
            else ContractStatus.ACTIVE
        )
        branch = BRANCHES[branch_index]
        # A multipurpose loan is secured by a car the customer already owns.
        vehicle_age = self.rng.randint(1, 6) if product is Product.MULTIPURPOSE else 0
        vehicle_year = start_date.year - vehicle_age
        self.contracts.append(
            dict(
                id=contract_id,
                number=number,
                customer_id=customer_id,
                branch_id=branch_index + 1,
                product=product,
                vehicle_brand=brand,
                vehicle_model=model,
                vehicle_year=vehicle_year,
                plate_number=self.plate(branch[3]),
                principal=principal,
                tenor_months=tenor,
                monthly_instalment=amount,
                start_date=start_date,
                due_day=due_day,
                autodebit_bank=autodebit_bank,
                virtual_account=virtual_account(number),
                virtual_account_bank=autodebit_bank or "BCA",
                status=status,
            )
        )
        last_paid: Optional[date] = None
        past = [d for d in dates if d < self.today]
        unpaid_from = len(past) - unpaid
        for sequence, due in enumerate(dates, start=1):
            row = dict(
                contract_id=contract_id,
                sequence=sequence,
                due_date=due,
                amount=amount,
                paid_at=None,
                paid_amount=None,
                late_fee=0,
            )
            if due < self.today and sequence <= unpaid_from:
                days_late = 0
                if autodebit_bank is None and late_payer and self.rng.random() < 0.3:
                    days_late = self.rng.randint(1, 12)
                elif autodebit_bank is None:
                    days_late = -self.rng.randint(0, 3)
                paid_day = min(due + timedelta(days=days_late), self.today - timedelta(days=1))
                fee = late_fee(amount, (paid_day - due).days)
                row.update(
                    paid_at=datetime.combine(paid_day, time(self.rng.randint(7, 20), self.rng.randint(0, 59))),
                    paid_amount=amount + fee,
                    late_fee=fee,
                )
                last_paid = paid_day
            elif due < self.today:  # in arrears: accrued fee as of today
                row["late_fee"] = late_fee(amount, (self.today - due).days)
            row["id"] = len(self.instalments) + 1
            self.instalments.append(row)

        if bpkb_status is None:
            if status is ContractStatus.PAID_OFF:
                paid_off_on = last_paid or self.today
                recent = (self.today - paid_off_on).days < 365
                bpkb_status = BpkbStatus.READY if recent or self.rng.random() < 0.5 else BpkbStatus.HANDED_OVER
            else:
                bpkb_status = BpkbStatus.LENT_OUT if self.rng.random() < 0.04 else BpkbStatus.HELD
        since = {
            BpkbStatus.HELD: start_date + timedelta(days=30),
            BpkbStatus.LENT_OUT: self.today - timedelta(days=self.rng.randint(1, 10)),
            BpkbStatus.READY: min((last_paid or self.today) + timedelta(days=14), self.today),
            BpkbStatus.HANDED_OVER: min((last_paid or self.today) + timedelta(days=30), self.today),
        }[bpkb_status]
        self.bpkbs.append(
            dict(id=contract_id, contract_id=contract_id, status=bpkb_status, branch_id=branch_index + 1, since=since)
        )

    def next_contract_number(self, branch_index: int, year: int) -> str:
        self.contract_serial += 1
        return f"K{BRANCHES[branch_index][0]}{year % 100:02d}{self.contract_serial:06d}"

    # -- scenarios
    def demo_customers(self) -> None:
        _, holiday_day = next_holiday_due_day(self.today, self.holidays)
        for demo in DEMO_CUSTOMERS:
            branch_index = [b[0] for b in BRANCHES].index(demo.branch_code)
            self.used_phones.add(demo.phone)
            customer_id = self.add_customer(
                name=demo.name,
                date_of_birth=demo.date_of_birth,
                female=demo.female,
                phone=demo.phone,
                branch_index=branch_index,
                mother=demo.mother,
            )
            for contract in demo.contracts:
                due_day = contract.due_day or holiday_day
                self.add_contract(
                    number=contract.number,
                    customer_id=customer_id,
                    branch_index=branch_index,
                    product=contract.product,
                    brand=contract.brand,
                    model=contract.model,
                    principal=contract.principal,
                    tenor=contract.tenor,
                    months_elapsed=contract.months_elapsed,
                    unpaid=contract.unpaid,
                    due_day=due_day,
                    autodebit_bank=contract.autodebit_bank,
                    bpkb_status=contract.bpkb,
                    late_payer=False,
                )

    def random_customer(self) -> None:
        rng = self.rng
        female = rng.random() < 0.45
        name = self.fake.name_female() if female else self.fake.name_male()
        dob = date(rng.randint(1960, 2002), rng.randint(1, 12), rng.randint(1, 28))
        branch_index = rng.randrange(len(BRANCHES))
        customer_id = self.add_customer(
            name=name, date_of_birth=dob, female=female, phone=self.phone(), branch_index=branch_index
        )
        n_contracts = rng.choices((1, 2, 3), weights=(80, 16, 4))[0]
        in_arrears = rng.random() < 0.15
        late_payer = in_arrears or rng.random() < 0.2
        for k in range(n_contracts):
            product = rng.choices((Product.NEW_CAR, Product.MULTIPURPOSE, Product.FLEET), weights=(75, 20, 5))[0]
            if product is Product.FLEET:
                brand, model = rng.choice(FLEET_MODELS)
                price = dict(VEHICLES[brand])[model] * rng.randint(2, 6)
            else:
                brand = rng.choice(("Toyota", "Toyota", "Daihatsu"))
                model, price = rng.choice(VEHICLES[brand])
            down_payment = rng.choice((0.2, 0.25, 0.3, 0.35))
            principal = int(price * (1 - down_payment) // 1_000_000 * 1_000_000)
            if product is Product.MULTIPURPOSE:
                principal = int(price * rng.choice((0.3, 0.4, 0.5)) // 1_000_000 * 1_000_000)
            tenor = rng.choice((12, 24, 36, 48, 60) if product is not Product.MULTIPURPOSE else (12, 24, 36))
            # 70 % running, 25 % finished, 5 % written off
            kind = rng.choices(("running", "finished", "written_off"), weights=(70, 25, 5))[0]
            if kind == "running":
                months_elapsed = rng.randint(0, tenor - 1)
            elif kind == "finished":
                months_elapsed = tenor + rng.randint(0, 30)
            else:
                months_elapsed = rng.randint(6, tenor - 1)
            unpaid = 0
            if kind == "written_off":
                unpaid = min(months_elapsed, rng.randint(4, 6))
            elif in_arrears and kind == "running" and k == 0 and months_elapsed > 0:
                unpaid = min(months_elapsed, rng.randint(1, 3))
            autodebit_bank = rng.choice(BANKS) if rng.random() < 0.6 else None
            start_year = add_months(self.today, -months_elapsed).year
            self.add_contract(
                number=self.next_contract_number(branch_index, start_year),
                customer_id=customer_id,
                branch_index=branch_index,
                product=product,
                brand=brand,
                model=model,
                principal=principal,
                tenor=tenor,
                months_elapsed=months_elapsed,
                unpaid=unpaid,
                due_day=rng.randint(1, 28),
                autodebit_bank=autodebit_bank,
                bpkb_status=None,
                late_payer=late_payer,
                written_off=kind == "written_off",
            )


def _branch_rows() -> Tuple[List[dict], List[dict]]:
    branches, hours = [], []
    for index, (code, name, city, _prefix) in enumerate(BRANCHES, start=1):
        street, area_code = BRANCH_CONTACTS[code]
        branches.append(
            dict(
                id=index,
                code=code,
                name=name,
                city=city,
                address=f"{street}, {city}",
                phone=f"+62 {area_code} {5000000 + index * 1111}",
            )
        )
        for service, week in WEEKLY_HOURS.items():
            for weekday, (opens, closes) in week.items():
                hours.append(dict(branch_id=index, service=service, weekday=weekday, opens=opens, closes=closes))
    return branches, hours


def _holiday_rows(holiday_days: Dict[date, str], years: Iterable[int]) -> List[dict]:
    wanted = set(years)
    rows = []
    for day, name in sorted(holiday_days.items()):
        if day.year not in wanted:
            continue
        for service, slot in HOLIDAY_HOURS.items():
            rows.append(
                dict(
                    day=day,
                    branch_id=None,
                    service=service,
                    opens=slot[0] if slot else None,
                    closes=slot[1] if slot else None,
                    name=name[:120],
                )
            )
    return rows


def clear(engine: Engine) -> None:
    """Delete every row of every table (children first): a full reset before re-seeding."""
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))


def virtual_account(number: str) -> str:
    """The contract's virtual account number: the company's prefix and the contract's digits."""
    return "8808" + number[1:]


# channels of paid instalments of contracts without autodebit, in turn (no randomness: adding
# payments left every other seeded value as it was)
PAID_THROUGH = ("virtual_account", "atm", "retail", "ewallet")
IN_FLIGHT_CONTRACT = "K20123000002"  # Siti: paid yesterday at an ATM, not posted yet


def _payment_rows(contracts: List[dict], instalments: List[dict], today: date) -> List[dict]:
    """One payment per paid instalment, posted after its channel's delay; the demo payment in
    flight for IN_FLIGHT_CONTRACT's first unpaid instalment."""
    delays = {c.id: c.posting_hours for c in payment_channels().channels}
    by_id = {c["id"]: c for c in contracts}
    rows: List[dict] = []
    first_unpaid: Dict[int, dict] = {}
    for row in instalments:
        contract = by_id[row["contract_id"]]
        if row["paid_at"] is None:
            first_unpaid.setdefault(row["contract_id"], row)
            continue
        channel = (
            "autodebit" if contract["autodebit_bank"] else PAID_THROUGH[(row["contract_id"] + row["sequence"]) % 4]
        )
        rows.append(
            dict(
                contract_id=row["contract_id"],
                instalment_id=row["id"],
                paid_at=row["paid_at"],
                posted_at=row["paid_at"] + timedelta(hours=delays.get(channel, 24)),
                channel=channel,
                amount=row["paid_amount"],
                reference=f"PAY-{row['contract_id']:06d}-{row['sequence']:03d}",
            )
        )
    for contract in contracts:
        pending = first_unpaid.get(contract["id"])
        if contract["number"] == IN_FLIGHT_CONTRACT and pending is not None:
            rows.append(
                dict(
                    contract_id=contract["id"],
                    instalment_id=pending["id"],
                    # 21.30 WIB, after the ATM cut-off: in flight all of today, whatever the hour
                    paid_at=datetime.combine(today - timedelta(days=1), time(14, 30)),
                    posted_at=None,
                    channel="atm",
                    amount=pending["amount"],
                    reference=f"PAY-{contract['id']:06d}-{pending['sequence']:03d}",
                )
            )
    return rows


def _contact_rows(customers: List[dict]) -> List[dict]:
    """WhatsApp consent as the contract forms recorded it: nine in ten opted in when they signed
    (the demo customers all did); of those, one in ten later answered STOP to a promo."""
    rows = []
    for customer in customers:
        demo = customer["id"] <= len(DEMO_CUSTOMERS)
        if not demo and customer["id"] % 10 == 7:
            continue  # never opted in: no campaign reaches them
        stopped = not demo and customer["id"] % 10 == 3
        rows.append(
            dict(
                customer_id=customer["id"],
                opted_in_at=customer["created_at"],
                opt_in_source="contract_form",
                marketing_opt_out_at=customer["created_at"] if stopped else None,
            )
        )
    return rows


def seed(
    engine: Engine,
    customers: int = 300,
    *,
    seed_value: int = 20261122,
    today: Optional[date] = None,
    progress: Optional[Callable[[str], None]] = None,
) -> SeedReport:
    """Fill an empty, migrated database with `customers` synthetic customers (demo ones included)."""
    started = datetime.now()
    today = today or local_today()
    say = progress or (lambda _msg: None)
    generator = _Generator(seed_value, today)
    generator.demo_customers()
    total = max(customers, len(DEMO_CUSTOMERS))
    step = max(total // 10, 1)
    for index in range(len(DEMO_CUSTOMERS), total):
        generator.random_customer()
        if (index + 1) % step == 0:
            say(f"generated {index + 1}/{total} customers")

    payments = _payment_rows(generator.contracts, generator.instalments, today)
    branches, hours = _branch_rows()
    overrides = _holiday_rows(generator.holidays, range(today.year - 1, today.year + 2))
    plan = (
        (Branch, branches),
        (BranchHours, hours),
        (HolidayOverride, overrides),
        (Customer, generator.customers),
        (WhatsAppContact, _contact_rows(generator.customers)),
        (Contract, generator.contracts),
        (Bpkb, generator.bpkbs),
        (Instalment, generator.instalments),
        (Payment, payments),
    )
    with engine.begin() as connection:
        for model, rows in plan:
            for start in range(0, len(rows), CHUNK):
                connection.execute(insert(model.__table__), rows[start : start + CHUNK])
            say(f"wrote {len(rows)} {model.__tablename__}")

    return SeedReport(
        customers=len(generator.customers),
        contracts=len(generator.contracts),
        instalments=len(generator.instalments),
        branches=len(branches),
        holiday_overrides=len(overrides),
        seconds=(datetime.now() - started).total_seconds(),
    )


def print_progress(message: str) -> None:
    print(f"  seed: {message}", file=sys.stderr, flush=True)


def insert_bulk_customers(
    connection: Any,
    first_id: int,
    count: int,
    *,
    branch_id: int,
    now: datetime,
    phone_prefix: str,
    phone_digits: int = 5,
    source: str = "contract_form",
) -> None:
    """`count` plain customers (ids from `first_id`, phones `phone_prefix` + a zero-padded index),
    each with an active contract and WhatsApp consent: the volume the campaign tests and the
    outbound benchmark send to. Inserted in chunks of 5,000 in the caller's transaction."""
    for start in range(0, count, 5000):
        indexes = range(start, min(start + 5000, count))
        connection.execute(
            insert(Customer.__table__),
            [
                dict(
                    id=first_id + i,
                    name=f"Nasabah Uji {i}",
                    nik=f"3171{first_id + i:012d}",
                    date_of_birth=date(1980, 1, 1),
                    phone=f"{phone_prefix}{i:0{phone_digits}d}",
                    address="Jl. Uji",
                    city="Jakarta",
                    created_at=now,
                )
                for i in indexes
            ],
        )
        connection.execute(
            insert(Contract.__table__),
            [
                dict(
                    number=f"K9{first_id + i:010d}",
                    customer_id=first_id + i,
                    branch_id=branch_id,
                    product=Product.NEW_CAR.value,
                    vehicle_brand="Toyota",
                    vehicle_model="Avanza",
                    vehicle_year=2024,
                    plate_number="B 1 UJI",
                    principal=100_000_000,
                    tenor_months=36,
                    monthly_instalment=3_000_000,
                    start_date=date(2025, 1, 1),
                    due_day=5,
                    status=ContractStatus.ACTIVE.value,
                )
                for i in indexes
            ],
        )
        connection.execute(
            insert(WhatsAppContact.__table__),
            [dict(customer_id=first_id + i, opted_in_at=now, opt_in_source=source) for i in indexes],
        )
