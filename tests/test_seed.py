"""The seed's invariants: data a real CRM database would hold, consistent everywhere."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm import db, policy, seed, workdays
from crm.models import (
    Bpkb,
    BpkbStatus,
    Branch,
    BranchHours,
    Contract,
    ContractStatus,
    Customer,
    HolidayOverride,
    Instalment,
    Service,
)
from tests.conftest import SEED_TODAY

TODAY = SEED_TODAY


@pytest.fixture(scope="module")
def data(seeded_engine):
    with Session(seeded_engine) as session:
        customers = session.execute(select(Customer)).scalars().all()
        contracts = session.execute(select(Contract)).scalars().all()
        instalments = defaultdict(list)
        for row in session.execute(select(Instalment).order_by(Instalment.sequence)).scalars():
            instalments[row.contract_id].append(row)
        bpkbs = {b.contract_id: b for b in session.execute(select(Bpkb)).scalars()}
        session.expunge_all()
    return customers, contracts, instalments, bpkbs


def test_counts(data):
    customers, contracts, _, bpkbs = data
    assert len(customers) == 200
    assert len(contracts) >= 200
    assert set(bpkbs) == {c.id for c in contracts}


def test_schedules_match_tenor_start_and_due_day(data):
    _, contracts, instalments, _ = data
    for contract in contracts:
        rows = instalments[contract.id]
        assert [r.sequence for r in rows] == list(range(1, contract.tenor_months + 1))
        expected = seed.due_dates(contract.start_date, contract.due_day, contract.tenor_months)
        assert [r.due_date for r in rows] == expected
        assert rows[0].due_date > contract.start_date
        assert (rows[0].due_date.year * 12 + rows[0].due_date.month) - (
            contract.start_date.year * 12 + contract.start_date.month
        ) == 1
        assert all(r.amount == contract.monthly_instalment for r in rows)
        # the instalments repay the principal plus (flat) interest, never less
        assert contract.monthly_instalment * contract.tenor_months >= contract.principal


def test_payments_follow_status(data):
    _, contracts, instalments, bpkbs = data
    for contract in contracts:
        rows = instalments[contract.id]
        future = [r for r in rows if r.due_date >= TODAY]
        assert all(r.paid_at is None and r.late_fee == 0 for r in future)
        past = [r for r in rows if r.due_date < TODAY]
        unpaid = [r for r in past if r.paid_at is None]
        # unpaid instalments are always the latest ones (a run at the end of the past)
        assert past[len(past) - len(unpaid) :] == unpaid
        for row in past:
            if row.paid_at is not None:
                assert row.paid_at.date() < TODAY
                assert row.paid_amount == row.amount + row.late_fee
                days_late = (row.paid_at.date() - row.due_date).days
                assert row.late_fee == policy.late_fee(row.amount, days_late)
            else:
                assert row.late_fee == policy.late_fee(row.amount, (TODAY - row.due_date).days) > 0
        bpkb = bpkbs[contract.id]
        if contract.status is ContractStatus.PAID_OFF:
            assert not future and not unpaid
            assert bpkb.status in (BpkbStatus.READY, BpkbStatus.HANDED_OVER)
        elif contract.status is ContractStatus.ACTIVE:
            assert future or unpaid
            assert bpkb.status in (BpkbStatus.HELD, BpkbStatus.LENT_OUT)
        else:
            assert unpaid and bpkb.status is BpkbStatus.HELD


def test_scenarios_are_present(data):
    customers, contracts, instalments, bpkbs = data
    by_customer = defaultdict(list)
    for contract in contracts:
        by_customer[contract.customer_id].append(contract)
    assert sum(len(v) > 1 for v in by_customer.values()) >= 10, "customers with several contracts"
    in_arrears = {
        c.customer_id
        for c in contracts
        if c.status is ContractStatus.ACTIVE
        and any(r.paid_at is None and r.due_date < TODAY for r in instalments[c.id])
    }
    assert len(in_arrears) >= 10
    ready = [c for c in contracts if c.status is ContractStatus.PAID_OFF and bpkbs[c.id].status is BpkbStatus.READY]
    assert len(ready) >= 10
    assert any(c.status is ContractStatus.WRITTEN_OFF for c in contracts)
    assert any(b.status is BpkbStatus.LENT_OUT for b in bpkbs.values())
    assert {c.product.value for c in contracts} == {"new_car", "multipurpose", "fleet"}


def test_autodebit_dates_fall_on_public_holidays(data):
    _, contracts, instalments, _ = data
    holidays = workdays.public_holidays(range(TODAY.year - 7, TODAY.year + 6))
    hits = [r for c in contracts if c.autodebit_bank for r in instalments[c.id] if r.due_date in holidays]
    assert len(hits) >= 20
    upcoming = [r for r in hits if r.due_date >= TODAY]
    assert upcoming, "some autodebit falls on a coming public holiday"


def test_identities(data):
    customers, *_ = data
    assert len({c.nik for c in customers}) == len(customers)
    for customer in customers:
        assert re.fullmatch(r"\d{16}", customer.nik)
        day = int(customer.nik[6:8])
        day = day - 40 if day > 40 else day
        assert (day, int(customer.nik[8:10]), int(customer.nik[10:12])) == (
            customer.date_of_birth.day,
            customer.date_of_birth.month,
            customer.date_of_birth.year % 100,
        )
        assert re.fullmatch(r"\+628\d{8,11}", customer.phone)
        assert 18 <= (TODAY - customer.date_of_birth).days // 365 <= 80


def test_contract_numbers_and_plates(data):
    _, contracts, *_ = data
    assert len({c.number for c in contracts}) == len(contracts)
    for contract in contracts:
        assert re.fullmatch(r"K\d{11}", contract.number)
        assert re.fullmatch(r"[A-Z]{1,2} \d{1,4} [A-Z]{2,3}", contract.plate_number)
        assert contract.vehicle_brand in ("Toyota", "Daihatsu")
        assert 1 <= contract.due_day <= 28


def test_demo_customers(data):
    customers, contracts, instalments, bpkbs = data
    by_name = {c.name: c for c in customers}
    by_number = {c.number: c for c in contracts}
    holidays = workdays.public_holidays(range(TODAY.year, TODAY.year + 2))
    for demo in seed.DEMO_CUSTOMERS:
        customer = by_name[demo.name]
        assert customer.date_of_birth == demo.date_of_birth and customer.phone == demo.phone
        for expected in demo.contracts:
            assert by_number[expected.number].customer_id == customer.id
    budi = by_number["K10124000001"]
    coming = [r.due_date for r in instalments[budi.id] if TODAY <= r.due_date < date(TODAY.year + 1, TODAY.month, 28)]
    assert budi.autodebit_bank == "BCA" and any(day in holidays for day in coming)
    siti = by_number["K20123000002"]
    assert sum(r.paid_at is None and r.due_date < TODAY for r in instalments[siti.id]) == 2
    agus = by_number["K30121000003"]
    assert agus.status is ContractStatus.PAID_OFF and bpkbs[agus.id].status is BpkbStatus.READY
    rudi = by_number["K40120000006"]
    assert bpkbs[rudi.id].status is BpkbStatus.LENT_OUT


def test_branch_hours_and_holiday_overrides(seeded_engine):
    with Session(seeded_engine) as session:
        assert session.execute(select(func.count()).select_from(Branch)).scalar_one() == len(seed.BRANCHES)
        sundays = (
            session.execute(
                select(BranchHours).where(BranchHours.weekday == 6, BranchHours.service == Service.BRANCH_OFFICE)
            )
            .scalars()
            .all()
        )
        assert sundays == []  # branch offices are closed on Sunday
        independence = (
            session.execute(select(HolidayOverride).where(HolidayOverride.day == date(TODAY.year, 8, 17)))
            .scalars()
            .all()
        )
        assert {o.service: (o.opens, o.closes) for o in independence}[Service.BRANCH_OFFICE] == (None, None)
        assert len(independence) == 3


def test_each_branch_has_an_address_and_phone_of_its_own_city(seeded_engine):
    """Customers are told a branch's address and phone: Surabaya's is on a Surabaya street with
    Surabaya's area code, not another city's."""
    area_codes = {"Jakarta Utara": "21", "Bandung": "22", "Surabaya": "31", "Medan": "61", "Denpasar": "361"}
    with Session(seeded_engine) as session:
        branches = session.execute(select(Branch)).scalars().all()
    assert len({b.address for b in branches}) == len({b.phone for b in branches}) == len(branches)
    for branch in branches:
        assert branch.address.endswith(f", {branch.city}")
        if branch.city in area_codes:
            assert branch.phone.startswith(f"+62 {area_codes[branch.city]} ")
    surabaya = next(b for b in branches if b.city == "Surabaya")
    assert surabaya.address == "Jl. Basuki Rahmat No. 77, Surabaya"


def test_same_seed_gives_the_same_data(tmp_path):
    snapshots = []
    for name in ("a", "b"):
        engine = db.create_db_engine(f"sqlite:///{tmp_path / name}.db")
        db.migrate(engine)
        seed.seed(engine, 30, today=TODAY)
        with Session(engine) as session:
            snapshots.append(
                [
                    (c.name, c.nik, c.phone, c.date_of_birth)
                    for c in session.execute(select(Customer).order_by(Customer.id)).scalars()
                ]
                + [
                    (c.number, c.principal, c.start_date, c.status)
                    for c in session.execute(select(Contract).order_by(Contract.id)).scalars()
                ]
            )
        engine.dispose()
    assert snapshots[0] == snapshots[1]


def test_add_months_and_instalment_arithmetic():
    assert workdays.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert workdays.add_months(date(2026, 11, 5), 3, 25) == date(2027, 2, 25)
    assert workdays.add_months(date(2026, 1, 5), -2, 10) == date(2025, 11, 10)
    assert seed.monthly_instalment(120_000_000, 12, 0.05) == 10_500_000
    assert policy.late_fee(5_000_000, 10) == 100_000 and policy.late_fee(5_000_000, -2) == 0
