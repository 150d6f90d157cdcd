"""Domain services against a real seeded database (demo customers, today = 22 Nov 2026)."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest

from crm import policy
from crm.db import session_scope
from crm.models import BpkbStatus, Service, ServiceRequest
from crm.services import accounts, hours, service_requests, verification
from crm.services.verification import Outcome
from tests.conftest import SEED_TODAY as TODAY

BUDI, SITI, AGUS, DEWI_CAR, DEWI_LOAN, RUDI = (
    "K10124000001",
    "K20123000002",
    "K30121000003",
    "K10224000004",
    "K10223000005",
    "K40120000006",
)


@pytest.fixture
def session(demo_db):
    with session_scope(demo_db) as s:
        yield s


def _customer(session, number, dob, phone=None):
    result = verification.verify(session, number, dob, sender_phone=phone)
    assert result.outcome is Outcome.VERIFIED
    return result.customer_id


# --- verification --------------------------------------------------------------------------


def test_verify_with_contract_and_birth_date(session):
    result = verification.verify(session, BUDI, date(1985, 8, 17))
    assert result.outcome is Outcome.VERIFIED and result.customer_name == "Budi Santoso"


@pytest.mark.parametrize(
    "number, dob",
    [
        (BUDI, date(1985, 8, 18)),  # wrong date of birth
        ("K99999999999", date(1985, 8, 17)),  # unknown contract
        (SITI, date(1985, 8, 17)),  # someone else's contract
    ],
)
def test_mismatch_does_not_say_which_part_was_wrong(session, number, dob):
    result = verification.verify(session, number, dob)
    assert result == verification.Verification(Outcome.MISMATCH)


def test_whatsapp_number_of_the_contract_is_enough(session):
    for same_number in ("6281210000001", "0812-1000-0001"):
        result = verification.verify(session, BUDI, date(1985, 8, 17), sender_phone=same_number)
        assert result.outcome is Outcome.VERIFIED


@pytest.mark.parametrize(
    "number, dob",
    [
        (BUDI, date(1985, 8, 17)),  # all right
        (BUDI, date(1985, 8, 18)),  # wrong date of birth
        ("K99999999999", date(1985, 8, 17)),  # unknown contract
    ],
)
def test_another_whatsapp_number_is_always_asked_the_second_factor_so_no_answer_reveals_the_birth_date(
    session, number, dob
):
    result = verification.verify(session, number, dob, sender_phone="+6285700000000", client="whatsapp:x")
    assert result == verification.Verification(Outcome.SECOND_FACTOR)
    assert verification.client_failures(session, "whatsapp:x") == 0  # nothing counted before every factor


def test_the_second_factor_checks_every_factor_at_once(session):
    proof = verification.pending_proof("s", BUDI, date(1985, 8, 17))
    wrong_date = verification.pending_proof("s", BUDI, date(1985, 8, 18))
    check = lambda p, name: verification.verify_second_factor(session, BUDI, p, name, secret="s").outcome  # noqa: E731
    assert check(proof, "Sri Wahyuni") is Outcome.VERIFIED
    assert check(proof, "ibu saya sri  wahyuni") is Outcome.VERIFIED
    assert check(proof, "Aminah") is Outcome.MISMATCH
    assert check(wrong_date, "Sri Wahyuni") is Outcome.MISMATCH  # right name, wrong date: one answer
    assert check(verification.pending_proof("other secret", BUDI, date(1985, 8, 17)), "Sri Wahyuni") is Outcome.MISMATCH


@pytest.mark.parametrize(
    "answer, matches",
    [
        ("Sri Wahyuni", True),
        ("sri wahyuni", True),
        ("SRI WAHYUNI", True),
        ("nama ibu saya Sri Wahyuni", True),
        ("Bu Sri Wahyuni", True),
        ("Sri", False),
        ("Wahyuni", False),
        ("Sri Wahyuni Aminah Kartini Ratna Sari", False),
        ("", False),
        ("x" * 200, False),
    ],
)
def test_mother_name_answers_as_customers_type_them(answer, matches):
    assert verification.mother_name_matches(answer, "Sri Wahyuni") is matches


def test_the_second_factor_is_not_derivable_from_the_birth_date(session):
    """The NIK's digits encode the birth date (DDMMYY), so the old '6 NIK digits' question was
    half answered by the first factor. The mother's name has no such relation."""
    customer = session.get(accounts.Customer, _customer(session, BUDI, date(1985, 8, 17)))
    assert customer.mother_maiden_name and not any(ch.isdigit() for ch in customer.mother_maiden_name)
    others = session.execute(verification.select(accounts.Customer.mother_maiden_name)).scalars().all()
    assert all(others), "every seeded customer has a mother's maiden name"


def test_failures_across_conversations_lock_the_contract_and_queue_one_item(session):
    from crm.models import Escalation, EscalationReason

    for n in range(policy.VERIFY_CONTRACT_MAX_FAILURES):
        result = verification.verify(
            session, BUDI, date(1985, 1, n + 1), client=f"ip:{n}", conversation_id=f"rest:attacker-{n}", channel="rest"
        )
        assert result.outcome is Outcome.MISMATCH
    assert result.lock_engaged
    locked = verification.verify(session, BUDI, date(1985, 8, 17), client="ip:owner")  # even the right date
    assert locked.outcome is Outcome.LOCKED
    assert verification.verify(session, BUDI, date(1985, 1, 9), client="ip:9").outcome is Outcome.LOCKED
    items = session.execute(verification.select(Escalation)).scalars().all()
    assert len(items) == 1 and items[0].reason is EscalationReason.VERIFICATION
    assert items[0].customer_id is not None and "K10124000001" in items[0].summary


def test_an_unknown_contract_locks_the_same_way_so_locks_reveal_nothing(session):
    for n in range(policy.VERIFY_CONTRACT_MAX_FAILURES):
        verification.verify(
            session, "K99999999999", date(1985, 1, n + 1), client=f"ip:{n}", conversation_id=f"rest:a-{n}"
        )
    assert verification.verify(session, "K99999999999", date(1985, 1, 9)).outcome is Outcome.LOCKED


def test_staff_release_a_lock_and_the_owner_verifies(session):
    from crm.models import Staff, StaffRole

    for n in range(policy.VERIFY_CONTRACT_MAX_FAILURES):
        verification.verify(session, BUDI, date(1985, 1, n + 1), client=f"ip:{n}")
    staff = Staff(username="rina", full_name="Rina", password_hash="x", role=StaffRole.AGENT)
    session.add(staff)
    session.flush()
    assert [lock.contract_number for lock in verification.active_locks(session)] == [BUDI]
    assert verification.release_lock(session, BUDI, staff)
    assert verification.verify(session, BUDI, date(1985, 8, 17)).outcome is Outcome.VERIFIED
    assert verification.verify(session, BUDI, date(1985, 1, 30)).outcome is Outcome.MISMATCH  # count starts again


def test_a_client_address_failing_across_contracts_is_slowed_then_refused(session):
    delays = []
    for n in range(policy.VERIFY_CLIENT_MAX_FAILURES):
        contract = f"K1012400{n:04d}"
        delays.append(verification.verify(session, contract, date(1985, 1, 1), client="ip:attacker").delay_seconds)
    assert delays[: policy.VERIFY_CLIENT_SLOW_AFTER - 1] == [0.0] * (policy.VERIFY_CLIENT_SLOW_AFTER - 1)
    assert delays[-1] == policy.VERIFY_CLIENT_MAX_DELAY_SECONDS and delays == sorted(delays)
    refused = verification.verify(session, BUDI, date(1985, 8, 17), client="ip:attacker")
    assert refused.outcome is Outcome.REFUSED  # even the right answer: nothing is checked
    assert verification.verify(session, BUDI, date(1985, 8, 17), client="ip:other").outcome is Outcome.VERIFIED


# --- contracts and instalments ----------------------------------------------------------------


def test_several_contracts(session):
    customer_id = _customer(session, DEWI_CAR, date(1988, 11, 23))
    contracts = accounts.customer_contracts(session, customer_id)
    assert [c.number for c in contracts] == [DEWI_LOAN, DEWI_CAR]
    # the one the words point to: named by car, plate or number, or "yang satunya" of two
    assert accounts.contract_meant(contracts, "kalau yang raize?", DEWI_LOAN).number == DEWI_CAR
    assert accounts.contract_meant(contracts, "yg b5155kky", DEWI_LOAN).number == DEWI_CAR
    assert accounts.contract_meant(contracts, "kalau yang satunya?", DEWI_LOAN).number == DEWI_CAR
    assert accounts.contract_meant(contracts, "mobil yg lain gmn", DEWI_CAR).number == DEWI_LOAN
    assert accounts.contract_meant(contracts, "ada yang lain?", DEWI_LOAN) is None  # something else
    assert accounts.contract_meant(contracts, "raize sama yaris", DEWI_LOAN) is None  # both
    assert accounts.contract_meant(contracts[:1], "yang satunya", DEWI_LOAN) is None  # no other


def test_other_customers_contract_is_refused(session):
    budi = _customer(session, BUDI, date(1985, 8, 17))
    for read in (accounts.instalment_summary, accounts.bpkb_info, accounts.autodebit_schedule):
        with pytest.raises(accounts.ContractNotFound):
            read(session, budi, SITI, TODAY)


def test_instalment_summary_of_a_customer_in_arrears(session):
    siti = _customer(session, SITI, date(1990, 3, 5))
    summary = accounts.instalment_summary(session, siti, SITI, TODAY)
    assert summary.tenor == 36 and summary.paid_count == 18
    assert summary.arrears_count == 2
    assert summary.arrears_amount == 2 * summary.monthly_amount
    assert summary.arrears_fees > 0
    assert summary.next_due.overdue and summary.next_due.due_date == date(2026, 10, 10)
    assert summary.outstanding == (36 - 18) * summary.monthly_amount
    assert [line.paid for line in summary.recent] == [True] * 3
    assert [line.due_date for line in summary.upcoming] == [date(2026, 10, 10), date(2026, 11, 10), date(2026, 12, 10)]


def test_instalment_summary_of_a_customer_paying_on_time(session):
    budi = _customer(session, BUDI, date(1985, 8, 17))
    summary = accounts.instalment_summary(session, budi, BUDI, TODAY)
    assert summary.arrears_count == 0 and summary.arrears_fees == 0
    assert summary.next_due.due_date == date(2026, 11, 25) and not summary.next_due.overdue
    assert summary.paid_count == 22 and summary.autodebit_bank == "BCA"


def test_bpkb_of_a_paid_off_contract(session):
    agus = _customer(session, AGUS, date(1978, 12, 1))
    info = accounts.bpkb_info(session, agus, AGUS, TODAY)
    assert info.status is BpkbStatus.READY and info.remaining_amount == 0
    assert info.branch.city == "Surabaya" and info.expected_ready is None


def test_bpkb_of_an_active_contract(session):
    budi = _customer(session, BUDI, date(1985, 8, 17))
    info = accounts.bpkb_info(session, budi, BUDI, TODAY)
    assert info.status is BpkbStatus.HELD and info.remaining_count == 26
    assert info.expected_ready > date(2028, 10, 1)


def test_autodebit_moves_off_holidays_and_weekends(session):
    budi = _customer(session, BUDI, date(1985, 8, 17))
    schedule = accounts.autodebit_schedule(session, budi, BUDI, TODAY)
    assert schedule.bank == "BCA"
    christmas = next(d for d in schedule.dates if d.due_date == date(2026, 12, 25))
    assert christmas.moved and christmas.debit_date == date(2026, 12, 24) and "Natal" in christmas.reason
    assert not schedule.dates[0].moved  # 25 Nov 2026 is a Wednesday
    assert accounts.debit_date_for(date(2027, 4, 25)).debit_date == date(2027, 4, 23)  # Sunday -> Friday


def test_no_autodebit(session):
    siti = _customer(session, SITI, date(1990, 3, 5))
    schedule = accounts.autodebit_schedule(session, siti, SITI, TODAY)
    assert schedule.bank is None and schedule.dates == []


# --- office hours ------------------------------------------------------------------------------


def test_regular_and_holiday_hours(session):
    surabaya = hours.find_branches(session, "jam buka cabang surabaya")[0]
    monday = hours.hours_on(session, surabaya.id, date(2026, 11, 23))
    assert (monday[Service.BRANCH_OFFICE].opens, monday[Service.BRANCH_OFFICE].closes) == (time(8), time(16))
    sunday = hours.hours_on(session, surabaya.id, date(2026, 11, 22))
    assert not sunday[Service.BRANCH_OFFICE].open and sunday[Service.CUSTOMER_CARE].open
    christmas = hours.hours_on(session, surabaya.id, date(2026, 12, 25))
    assert not christmas[Service.BRANCH_OFFICE].open and "Natal" in christmas[Service.BRANCH_OFFICE].holiday
    assert christmas[Service.SERVICE_LOUNGE].opens == time(10)


def test_find_branches_by_city(session):
    assert [b.city for b in hours.find_branches(session, "cabang jakarta")] == ["Jakarta Utara", "Jakarta Selatan"]
    assert [b.city for b in hours.find_branches(session, "kantor di medan buka jam brp")] == ["Medan"]
    # a branch's own name or its part of the city picks it alone
    assert [b.name for b in hours.find_branches(session, "cabang jakarta sunter pas natal")] == [
        "Cabang Jakarta Sunter"
    ]
    assert [b.name for b in hours.find_branches(session, "jakarta selatan buka?")] == ["Cabang Jakarta Fatmawati"]
    assert [b.name for b in hours.find_branches(session, "yg di fatmawati")] == ["Cabang Jakarta Fatmawati"]
    assert hours.find_branches(session, "jam buka kantor") == []


def test_open_days_skip_sundays_and_holidays(session):
    branch = hours.find_branches(session, "surabaya")[0]
    days = hours.open_days(session, branch.id, date(2026, 12, 24), 3)
    assert days == [date(2026, 12, 24), date(2026, 12, 26), date(2026, 12, 28)]


# --- requests ---------------------------------------------------------------------------------


def test_bpkb_pickup_appointment(session):
    agus = _customer(session, AGUS, date(1978, 12, 1))
    request = service_requests.book_bpkb_pickup(session, agus, AGUS, date(2026, 11, 24), TODAY, "conv-1")
    assert re.fullmatch(r"REQ-\d{4}-\d{6}", request.reference)
    assert request.scheduled_for == date(2026, 11, 24)
    assert session.get(ServiceRequest, request.id).conversation_id == "conv-1"


@pytest.mark.parametrize(
    "day, code",
    [
        (date(2026, 11, 29), "branch_closed"),  # Sunday
        (date(2026, 12, 25), "branch_closed"),  # Christmas
        (date(2026, 11, 22), "date_not_future"),
        (date(2027, 3, 1), "date_too_far"),
    ],
)
def test_bpkb_pickup_on_a_bad_day(session, day, code):
    agus = _customer(session, AGUS, date(1978, 12, 1))
    with pytest.raises(service_requests.Refused) as refused:
        service_requests.book_bpkb_pickup(session, agus, AGUS, day, TODAY)
    assert refused.value.code == code


def test_bpkb_pickup_before_payoff(session):
    budi = _customer(session, BUDI, date(1985, 8, 17))
    with pytest.raises(service_requests.Refused, match="not_paid_off"):
        service_requests.book_bpkb_pickup(session, budi, BUDI, date(2026, 11, 24), TODAY)


def test_bpkb_loan_rules(session):
    budi = _customer(session, BUDI, date(1985, 8, 17))
    assert service_requests.bpkb_loan_refusal(session, budi, BUDI, TODAY) is None
    request = service_requests.book_bpkb_loan(session, budi, BUDI, date(2026, 11, 25), TODAY)
    assert request.details["return_by"] == "2026-12-09" and request.details["fee"] > 0
    siti = _customer(session, SITI, date(1990, 3, 5))
    assert service_requests.bpkb_loan_refusal(session, siti, SITI, TODAY) == "in_arrears"
    rudi = _customer(session, RUDI, date(1975, 6, 30))
    assert service_requests.bpkb_loan_refusal(session, rudi, RUDI, TODAY) == "already_lent"
    agus = _customer(session, AGUS, date(1978, 12, 1))
    assert service_requests.bpkb_loan_refusal(session, agus, AGUS, TODAY) == "paid_off"


def test_due_date_change_quote_and_request(session):
    budi = _customer(session, BUDI, date(1985, 8, 17))
    quote = service_requests.due_date_change_quote(session, budi, BUDI, 10, TODAY)
    assert quote.current_day == 25 and quote.new_day == 10 and quote.fee > 0
    assert quote.current_dates[0] == date(2026, 11, 25)
    assert quote.new_dates == [date(2026, 12, 10), date(2027, 1, 10), date(2027, 2, 10)]
    request = service_requests.request_due_date_change(session, budi, BUDI, 10, TODAY)
    assert request.details["to_day"] == 10
    with pytest.raises(service_requests.Refused, match="recent_change"):
        service_requests.due_date_change_quote(session, budi, BUDI, 5, TODAY)


def test_the_first_moved_due_date_gives_notice(session):
    """Asked on 21 Nov, next due 25 Nov: "tgl 28" moves it to 28 Nov, but "tgl 23" (two days away) moves
    it to 23 Dec: never less than DUE_DATE_CHANGE_NOTICE_DAYS ahead."""
    budi = _customer(session, BUDI, date(1985, 8, 17))
    asked_on = date(2026, 11, 21)
    later = service_requests.due_date_change_quote(session, budi, BUDI, 28, asked_on)
    assert later.new_dates[0] == date(2026, 11, 28)
    too_soon = service_requests.due_date_change_quote(session, budi, BUDI, 23, asked_on)
    assert too_soon.new_dates[0] == date(2026, 12, 23)
    assert all(d >= asked_on + timedelta(days=policy.DUE_DATE_CHANGE_NOTICE_DAYS) for d in too_soon.new_dates)


@pytest.mark.parametrize("day", [0, 29, 31, None])
def test_due_day_must_be_1_to_28(session, day):
    budi = _customer(session, BUDI, date(1985, 8, 17))
    with pytest.raises(service_requests.Refused, match="invalid_day"):
        service_requests.due_date_change_quote(session, budi, BUDI, day, TODAY)


def test_due_date_change_refusals(session):
    siti = _customer(session, SITI, date(1990, 3, 5))
    with pytest.raises(service_requests.Refused, match="in_arrears"):
        service_requests.due_date_change_quote(session, siti, SITI, 15, TODAY)
    budi = _customer(session, BUDI, date(1985, 8, 17))
    with pytest.raises(service_requests.Refused, match="same_day"):
        service_requests.due_date_change_quote(session, budi, BUDI, 25, TODAY)
    agus = _customer(session, AGUS, date(1978, 12, 1))
    with pytest.raises(service_requests.Refused, match="not_active"):
        service_requests.due_date_change_quote(session, agus, AGUS, 15, TODAY)

    # the refusals that hold whatever day is asked, known before a day is asked for
    def refusal(customer_id, number):
        return service_requests.due_date_change_refusal(
            session, accounts.load_contract(session, customer_id, number), TODAY
        )

    assert refusal(siti, SITI).code == "in_arrears"
    assert refusal(agus, AGUS).code == "not_active"
    assert refusal(budi, BUDI) is None
