"""The CRM queue behind the console: staff accounts and logins, claim races, resolving,
due times, filters and the customer-care availability used for waiting messages."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crm import policy
from crm.db import session_scope
from crm.models import AuditEntry, CaseKind, Escalation, EscalationEvent, EscalationReason, EscalationStatus, Staff
from crm.services import staff as staff_service
from crm.services.cases import file_case
from crm.services.escalations import QueueError, claim, escalate, resolution_due, resolve, unclaim, waiting_too_long
from crm.services.hours import customer_care_availability
from crm.services.queue import FilterError, list_items
from crm.workdays import add_working_days


def items_of(session, **filters):
    return list_items(session, **filters)["items"]


PASSWORD = "kata-sandi-rahasia"


def _staff(factory, username, role="agent"):
    with session_scope(factory) as session:
        return staff_service.create_staff(session, username, username.title() + " Putri", PASSWORD, role).id


def _item(factory, conversation="conv-1", channel="socketio", reason=EscalationReason.HUMAN_REQUEST):
    with session_scope(factory) as session:
        return escalate(session, conversation_id=conversation, channel=channel, reason=reason).escalation_id


def _claim(factory, item_id, staff_id):
    with session_scope(factory) as session:
        return claim(session, item_id, session.get(Staff, staff_id)).assignee_id


# --- staff and logins -------------------------------------------------------------------------


def test_passwords_are_stored_as_bcrypt_hashes_and_checked(session_factory):
    staff_id = _staff(session_factory, "rina")
    with session_scope(session_factory) as session:
        stored = session.get(Staff, staff_id).password_hash
        assert stored.startswith("$2b$") and PASSWORD not in stored
        assert staff_service.authenticate(session, "rina", PASSWORD, client="10.0.0.1").id == staff_id
        assert staff_service.authenticate(session, "RINA ", PASSWORD).id == staff_id  # as typed
        assert staff_service.authenticate(session, "rina", "salah-sekali", client="10.0.0.1") is None
        assert staff_service.authenticate(session, "nobody", PASSWORD) is None


@pytest.mark.parametrize(
    "username, password, problem",
    [
        ("ri", PASSWORD, "Username"),
        ("Rina Wijaya", PASSWORD, "Username"),
        ("rina", "pendek", "at least"),
        ("rina", "x" * 80, "72 bytes"),
    ],
)
def test_bad_staff_accounts_are_refused_with_a_reason(session_factory, username, password, problem):
    with session_scope(session_factory) as session:
        with pytest.raises(staff_service.StaffError, match=problem):
            staff_service.create_staff(session, username, "Rina", password, "agent")


def test_duplicate_usernames_are_refused(session_factory):
    _staff(session_factory, "rina")
    with session_scope(session_factory) as session:
        with pytest.raises(staff_service.StaffError, match="already exists"):
            staff_service.create_staff(session, "rina", "Rina", PASSWORD, "agent")


def test_too_many_failed_logins_are_throttled_and_audited(session_factory):
    _staff(session_factory, "rina")
    for _ in range(policy.LOGIN_MAX_FAILURES):
        with session_scope(session_factory) as session:
            assert staff_service.authenticate(session, "rina", "tebakan-salah", client="10.0.0.9") is None
    with session_scope(session_factory) as session:  # even the right password waits now
        with pytest.raises(staff_service.LoginThrottled):
            staff_service.authenticate(session, "rina", PASSWORD, client="10.0.0.9")
    later = datetime.utcnow() + timedelta(minutes=policy.LOGIN_FAILURE_WINDOW_MINUTES + 1)
    with session_scope(session_factory) as session:
        assert staff_service.authenticate(session, "rina", PASSWORD, client="10.0.0.9", now=later) is not None
        actions = [a for (a,) in session.execute(select(AuditEntry.action).order_by(AuditEntry.id))]
    assert actions.count("login_failed") == policy.LOGIN_MAX_FAILURES
    assert "login_throttled" in actions and actions[-1] == "login"


def test_sessions_expire_and_end(session_factory):
    staff_id = _staff(session_factory, "rina")
    with session_scope(session_factory) as session:
        new = staff_service.start_session(session, session.get(Staff, staff_id))
    with session_scope(session_factory) as session:
        assert staff_service.find_session(session, new.token).csrf_token == new.csrf_token
        assert staff_service.find_session(session, "forged") is None
        late = datetime.utcnow() + timedelta(hours=policy.STAFF_SESSION_HOURS + 1)
        assert staff_service.find_session(session, new.token, now=late) is None
        staff_service.end_session(session, new.token)
    with session_scope(session_factory) as session:
        assert staff_service.find_session(session, new.token) is None


def test_first_supervisor_comes_from_settings_once(session_factory):
    with session_scope(session_factory) as session:
        assert staff_service.ensure_first_supervisor(session, None, None) is None
        assert staff_service.ensure_first_supervisor(session, "kepala", PASSWORD).role.value == "supervisor"
    with session_scope(session_factory) as session:
        assert staff_service.ensure_first_supervisor(session, "kepala2", PASSWORD) is None


# --- claim, resolve ----------------------------------------------------------------------------


def test_two_agents_claiming_at_once_exactly_one_wins(session_factory):
    agents = [_staff(session_factory, f"agen{i}") for i in range(8)]
    for round_ in range(5):
        item_id = _item(session_factory, f"race-{round_}")

        def attempt(staff_id, item_id=item_id):
            try:
                return _claim(session_factory, item_id, staff_id)
            except QueueError as refusal:
                return str(refusal)

        with ThreadPoolExecutor(max_workers=len(agents)) as pool:
            results = list(pool.map(attempt, agents))
        winners = [r for r in results if isinstance(r, int)]
        assert len(winners) == 1, results
        assert all("sudah diambil" in r for r in results if isinstance(r, str))
        with session_scope(session_factory) as session:
            escalation = session.get(Escalation, item_id)
            assert escalation.status is EscalationStatus.CLAIMED and escalation.assignee_id == winners[0]
            claims = session.execute(
                select(func.count())
                .select_from(EscalationEvent)
                .where(EscalationEvent.escalation_id == item_id, EscalationEvent.to_status == EscalationStatus.CLAIMED)
            ).scalar_one()
            assert claims == 1


def test_only_the_holder_or_a_supervisor_may_act(session_factory):
    rina, budi, boss = (
        _staff(session_factory, "rina"),
        _staff(session_factory, "budi"),
        _staff(session_factory, "kepala", "supervisor"),
    )
    item_id = _item(session_factory)
    with session_scope(session_factory) as session:
        with pytest.raises(QueueError, match="Ambil alih"):
            resolve(session, item_id, session.get(Staff, rina), "selesai")
    _claim(session_factory, item_id, rina)
    with session_scope(session_factory) as session:
        with pytest.raises(QueueError, match="sudah diambil"):
            claim(session, item_id, session.get(Staff, budi))
    with session_scope(session_factory) as session:
        with pytest.raises(QueueError, match="dipegang oleh"):
            resolve(session, item_id, session.get(Staff, budi), "selesai")
    with session_scope(session_factory) as session:
        with pytest.raises(QueueError, match="catatan"):
            resolve(session, item_id, session.get(Staff, rina), "   ")
    assert _claim(session_factory, item_id, boss) == boss  # a supervisor may take it over
    with session_scope(session_factory) as session:
        done = resolve(session, item_id, session.get(Staff, boss), "Sudah dijelaskan ke nasabah.")
        assert done.status is EscalationStatus.RESOLVED and done.resolved_at and done.note
    with session_scope(session_factory) as session:
        with pytest.raises(QueueError, match="sudah diselesaikan"):
            claim(session, item_id, session.get(Staff, rina))
        trail = [(e.from_status, e.to_status) for e in session.get(Escalation, item_id).events]
    assert trail == [
        (None, EscalationStatus.OPEN),
        (EscalationStatus.OPEN, EscalationStatus.CLAIMED),
        (EscalationStatus.CLAIMED, EscalationStatus.CLAIMED),
        (EscalationStatus.CLAIMED, EscalationStatus.RESOLVED),
    ]


def test_an_undone_claim_returns_the_item_to_the_queue(session_factory):
    rina = _staff(session_factory, "rina")
    item_id = _item(session_factory)
    _claim(session_factory, item_id, rina)
    with session_scope(session_factory) as session:
        unclaim(session, item_id, session.get(Staff, rina), "Rasa unreachable")
    with session_scope(session_factory) as session:
        escalation = session.get(Escalation, item_id)
        assert escalation.status is EscalationStatus.OPEN and escalation.assignee_id is None


# --- due times, cases, filters ----------------------------------------------------------------


def test_ojk_due_time_counts_working_days_by_complaint_form():
    created = datetime(2026, 12, 23, 3, 0)  # Wed 23 Dec 2026, 10:00 WIB; 25 Dec and weekends are off
    written = resolution_due(created, "whatsapp")
    verbal = resolution_due(created, "phone")
    assert verbal.date() == add_working_days(date(2026, 12, 23), 5) and verbal.hour == 16  # 23:59 WIB
    assert written.date() == add_working_days(date(2026, 12, 23), 10)
    assert add_working_days(date(2026, 12, 23), 2) == date(2026, 12, 28)  # skips Christmas and the weekend
    assert verbal.date() == date(2026, 12, 31)  # 24, 28, 29, 30, 31 Dec


def test_filing_a_case_writes_case_and_one_queue_item(demo_db):
    with session_scope(demo_db) as session:
        filed = file_case(
            session,
            kind=CaseKind.VEHICLE_THEFT,
            conversation_id="case-1",
            channel="whatsapp",
            data={"incident_place": "Jl. Sudirman"},
            customer_id=1,
            contract_number="K10124000001",
        )
        again = file_case(
            session, kind=CaseKind.COMPLAINT, conversation_id="case-1", channel="whatsapp", data={"message": "kecewa"}
        )
    assert filed.reference.startswith("CASE-") and filed.escalation.created
    assert not again.escalation.created and again.escalation.escalation_id == filed.escalation.escalation_id
    with session_scope(demo_db) as session:
        items = items_of(session)
    assert len(items) == 1
    item = items[0]
    assert item["case"]["reference"] == filed.reference and item["case"]["verified"]
    assert item["case"]["contract"] == "K10124000001" and item["customer"]["name"]
    assert "*" in item["customer"]["phone"]  # masked
    assert item["due"] and not item["overdue"]


def test_an_unverified_case_keeps_no_customer_and_ignores_a_foreign_contract(demo_db):
    with session_scope(demo_db) as session:
        filed = file_case(
            session,
            kind="credit_takeover",
            conversation_id="case-2",
            channel="rest",
            data={},
            customer_id=None,
            contract_number="K10124000001",
        )
        items = items_of(session)
    assert items[0]["customer"] is None and items[0]["case"]["verified"] is False
    assert items[0]["case"]["contract"] is None and filed.reference in items[0]["summary"]


def test_queue_filters(session_factory):
    web, whatsapp = "web:" + "a" * 32, "whatsapp:6281234567890"
    _item(session_factory, web, "socketio", EscalationReason.COMPLAINT)
    _item(session_factory, whatsapp, "whatsapp", EscalationReason.FALLBACK)
    with session_scope(session_factory) as session:
        assert {i["conversation_id"] for i in items_of(session, channel="whatsapp", reveal_contact=True)} == {whatsapp}
        # a WhatsApp conversation id is the customer's number: masked unless revealed
        assert {i["conversation_id"] for i in items_of(session, channel="whatsapp")} == {"whatsapp:62812•••••890"}
        # a website session id is never shown in full, to anyone
        assert {i["conversation_id"] for i in items_of(session, reason="complaint", reveal_contact=True)} == {
            "web:aaaaaaaa…"
        }
        assert items_of(session, status="resolved") == []
        assert len(items_of(session, status="")) == 2
        assert len(items_of(session, max_age_hours="1")) == 2
        for bad in (
            {"status": "weird"},
            {"reason": "x"},
            {"max_age_hours": "lama"},
            {"max_age_hours": "nan"},
            {"max_age_hours": "inf"},
            {"max_age_hours": "1e300"},
            {"max_age_hours": "-1"},
            {"sort": "random"},
            {"page": "0"},
            {"page": "x"},
            {"per_page": "1000"},
        ):
            with pytest.raises(FilterError):
                list_items(session, **bad)


def test_waiting_too_long_lists_unclaimed_items_not_yet_told(session_factory):
    item_id = _item(session_factory)
    with session_scope(session_factory) as session:
        assert waiting_too_long(session, timedelta(minutes=5)) == []
        later = datetime.utcnow() + timedelta(minutes=6)
        assert [e.id for e in waiting_too_long(session, timedelta(minutes=5), now=later)] == [item_id]
        session.get(Escalation, item_id).customer_notified_at = datetime.utcnow()
    with session_scope(session_factory) as session:
        assert waiting_too_long(session, timedelta(minutes=5), now=later) == []


def test_a_notice_is_taken_once_and_never_for_a_claimed_item(session_factory):
    """The notifier lists items, then sends one by one: an item claimed in between is not told
    "all agents are busy"; a notice that could not be sent is taken again at the next round."""
    from crm.services.escalations import release_notice, take_notice

    told, claimed = _item(session_factory, "conv-told"), _item(session_factory, "conv-claimed")
    _claim(session_factory, claimed, _staff(session_factory, "rina"))
    with session_scope(session_factory) as session:
        assert take_notice(session, told) is True
        assert take_notice(session, told) is False  # once
        assert take_notice(session, claimed) is False
        release_notice(session, told)
    with session_scope(session_factory) as session:
        assert take_notice(session, told) is True


def test_customer_care_availability(demo_db):
    with session_scope(demo_db) as session:
        monday_noon = customer_care_availability(session, datetime(2026, 11, 23, 12, 0))
        assert monday_noon.open_now and monday_noon.closes.hour == 20
        night = customer_care_availability(session, datetime(2026, 11, 23, 22, 30))
        assert not night.open_now and night.next_open == datetime(2026, 11, 24, 8, 0)
        christmas_eve_late = customer_care_availability(session, datetime(2026, 12, 24, 21, 0))
        assert christmas_eve_late.next_open.date() == date(2026, 12, 25)  # holiday hours still open


def test_failures_from_one_address_across_usernames_are_throttled_too(session_factory):
    _staff(session_factory, "rina")
    for i in range(policy.LOGIN_MAX_FAILURES_PER_CLIENT):
        with session_scope(session_factory) as session:
            staff_service.authenticate(session, f"tebak{i}", "salah-salah", client="10.0.0.7")
    with session_scope(session_factory) as session:
        with pytest.raises(staff_service.LoginThrottled):
            staff_service.authenticate(session, "rina", PASSWORD, client="10.0.0.7")
        assert staff_service.authenticate(session, "rina", PASSWORD, client="10.0.0.8") is not None


def test_transcript_lines_from_tracker_events():
    from crm.console.rasa_api import transcript

    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "<b>halo</b>", "timestamp": 1},
        {"event": "bot", "text": "Pilih:", "data": {"buttons": [{"title": "Ya"}, {"title": "Tidak"}]}, "timestamp": 2},
        {"event": "pause", "timestamp": 3},
        {"event": "bot", "text": "Saya Rina", "metadata": {"agent": "rina", "agent_name": "Rina W"}, "timestamp": 4},
        {"event": "resume", "timestamp": 5},
    ]
    lines = transcript({"events": events})
    assert [line["who"] for line in lines] == ["customer", "bot", "system", "agent", "system"]
    assert lines[0]["text"] == "<b>halo</b>"  # raw: the browser writes it as text
    assert lines[1]["text"] == "Pilih:\n[Ya | Tidak]" and lines[3]["agent"] == "Rina W"


def test_console_texts_come_from_the_domain():
    from crm.responses import render

    text = render("utter_takeover_started", agent_name="Rina", brand_name="Uji Finance")
    assert "Rina" in text and "Uji Finance" in text and "{" not in text
    with pytest.raises(KeyError):
        render("utter_does_not_exist")


def test_whatsapp_window_is_24_hours_from_the_customers_last_message():
    from crm.console.rasa_api import whatsapp_window_open

    tracker = {
        "events": [
            {"event": "user", "input_channel": "whatsapp", "timestamp": 1000.0},
            {"event": "bot", "timestamp": 90000.0},
        ]
    }
    assert whatsapp_window_open(tracker, 1000.0 + 23 * 3600)
    assert not whatsapp_window_open(tracker, 1000.0 + 24 * 3600 + 1)  # bot messages do not reopen it
    assert not whatsapp_window_open({"events": []}, 1000.0)


def test_what_each_role_sees_of_contact_data(session_factory):
    from crm.services.queue import describe, may_see_contact

    _item(session_factory, "whatsapp:6281234567890", "whatsapp", EscalationReason.HUMAN_REQUEST)
    with session_scope(session_factory) as session:
        escalation = session.execute(select(Escalation)).scalars().first()
        escalation.summary = "lahir 17-08-1985, NIK 3171012345670001, hp 081234567890"
        from types import SimpleNamespace

        held = SimpleNamespace(assignee_id=7)
        assert may_see_contact("supervisor", 1, held) and may_see_contact("agent", 7, held)
        assert not may_see_contact("agent", 8, held) and not may_see_contact("agent", None, escalation)
        hidden = describe(escalation, mask_free_text=True)
        assert "6281234567890" not in hidden["conversation_id"] and "1985" not in hidden["summary"]
        assert "3171012345670001" not in hidden["summary"] and "081234567890" not in hidden["summary"]
        shown = describe(escalation, reveal_contact=True)
        assert shown["conversation_id"] == "whatsapp:6281234567890" and "17-08-1985" in shown["summary"]


def test_a_stranger_cannot_lock_staff_out_of_the_console(session_factory):
    _staff(session_factory, "rina")
    with session_scope(session_factory) as session:  # rina's usual address
        assert staff_service.authenticate(session, "rina", PASSWORD, client="10.1.1.1") is not None
    for n in range(policy.LOGIN_MAX_FAILURES_PER_USERNAME):  # many addresses, a few guesses each
        with session_scope(session_factory) as session:
            staff_service.authenticate(session, "rina", "tebakan-salah", client=f"203.0.113.{n % 50}")
    with session_scope(session_factory) as session:
        with pytest.raises(staff_service.LoginThrottled):  # a new address: refused during the attack
            staff_service.authenticate(session, "rina", PASSWORD, client="198.51.100.7")
        staff = staff_service.authenticate(session, "rina", PASSWORD, client="10.1.1.1")  # her own: works
        assert staff is not None and staff.failed_attempts >= policy.LOGIN_MAX_FAILURES_PER_USERNAME
        new = staff_service.start_session(session, staff)
    with session_scope(session_factory) as session:
        notice = staff_service.find_session(session, new.token).notice
    assert notice and "percobaan login gagal" in notice  # she is told


def test_failed_logins_slow_down_progressively_per_username_and_address(session_factory):
    _staff(session_factory, "rina")
    delays = []
    for _ in range(policy.LOGIN_MAX_FAILURES):
        with session_scope(session_factory) as session:
            delays.append(staff_service.login_delay(session, "rina", "10.0.0.5"))
            staff_service.authenticate(session, "rina", "salah-salah", client="10.0.0.5")
    assert delays[0] == 0.0 and delays == sorted(delays) and delays[-1] > delays[policy.LOGIN_SLOW_AFTER]
    with session_scope(session_factory) as session:
        assert staff_service.login_delay(session, "rina", "10.0.0.6") == 0.0  # another address: no wait


def test_the_queue_pages_so_the_newest_and_the_most_urgent_are_always_reachable(session_factory):
    ids = [_item(session_factory, f"rest:old-{n}") for n in range(250)]  # a flood of old items
    urgent = _item(session_factory, "rest:urgent")
    with session_scope(session_factory) as session:
        session.get(Escalation, urgent).due_at = datetime.utcnow()  # due first
    with session_scope(session_factory) as session:
        first = list_items(session)
        assert first["total"] == 251 and len(first["items"]) == 50 and first["items"][0]["id"] == urgent  # newest
        assert first["most_urgent"][0]["id"] == urgent and len(first["most_urgent"]) == 5
        assert list_items(session, sort="urgent")["items"][0]["id"] == urgent
        last = list_items(session, sort="oldest", page="6", per_page="50")  # 251 = 5 pages of 50 + 1
        assert [i["id"] for i in last["items"]] == [urgent]
        assert list_items(session, sort="oldest", page="5")["items"][-1]["id"] == ids[-1]


def test_flooding_is_shown_without_any_address(session_factory):
    from crm.services.escalations import escalate

    with session_scope(session_factory) as session:
        for n in range(40):
            escalate(
                session,
                conversation_id=f"rest:f-{n}",
                channel="rest",
                client="ip:abc",
                reason=EscalationReason.HUMAN_REQUEST,
                client_limit=5,
            )
        flood = list_items(session)["flooding"]
    assert flood == [{"source": "sumber 1", "items_last_hour": 40}]
