"""Case report forms, filing a case, complaints and requests for a person, run as the action
server runs them against a real seeded database."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import cases, handover
from crm.db import session_scope
from crm.models import Case, CaseKind, Escalation, EscalationReason
from crm.settings import PROJECT_ROOT
from tests.support.actions import BUDI, responses, run, slot_events, tracker  # noqa: F401

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
FORMS = {
    "insurance_claim_form": cases.ValidateInsuranceClaimForm(),
    "theft_form": cases.ValidateTheftForm(),
    "deceased_form": cases.ValidateDeceasedForm(),
    "takeover_form": cases.ValidateTakeoverForm(),
}

pytestmark = pytest.mark.usefixtures("actions_environment")


def check(
    form: str,
    slot: str,
    text: str,
    intent: str = "inform",
    slots: Optional[Dict[str, Any]] = None,
    channel: str = "rest",
    sender: str = "conv-test",
):
    """Run the form's validation as Rasa does after the customer answered `slot` with `text`."""
    t = tracker(
        slots={"requested_slot": slot, slot: text, **(slots or {})},
        text=text,
        intent=intent,
        channel=channel,
        sender=sender,
    )
    t.events.append({"event": "slot", "name": slot, "value": text})
    dispatcher = CollectingDispatcher()
    events = asyncio.run(FORMS[form].run(dispatcher, t, DOMAIN))
    return slot_events(events), responses(dispatcher.messages)


def test_unverified_customer_is_asked_to_link_the_account_first():
    form = FORMS["theft_form"]
    t = tracker(slots={})
    required = asyncio.run(form.required_slots([], CollectingDispatcher(), t, {}))
    assert required == ["case_contract", "incident_date", "incident_place", "police_report_number"]
    verified = tracker(slots={"verified": True})
    assert asyncio.run(form.required_slots([], CollectingDispatcher(), verified, {}))[0] == "incident_date"
    locked = tracker(slots={"verification_locked": True})
    assert "case_contract" not in asyncio.run(form.required_slots([], CollectingDispatcher(), locked, {}))


def test_contract_and_birth_date_verify_inside_the_case_form():
    slots, said = check("insurance_claim_form", "case_contract", f"{BUDI} 17-08-1985")
    assert slots["case_contract"] == BUDI and slots["verified"] is True and slots["selected_contract"] == BUDI
    assert said == ["utter_verified"] and slots["requested_slot"] == "incident_date"


def test_skipping_verification_files_unverified():
    slots, said = check("deceased_form", "case_contract", "lewati aja, ga tau nomornya")
    assert slots["case_contract"] == cases.UNVERIFIED and said == ["utter_case_unverified"]
    assert "verified" not in slots


def test_wrong_birth_date_counts_and_the_third_goes_on_unverified():
    slots, said = check("theft_form", "case_contract", f"{BUDI} 01-01-1990")
    assert slots["case_contract"] is None and slots["verification_failures"] == 1.0
    assert said == ["utter_case_verification_failed"]
    slots, said = check("theft_form", "case_contract", f"{BUDI} 01-01-1990", slots={"verification_failures": 2.0})
    assert slots["case_contract"] == cases.UNVERIFIED and slots["verification_locked"] is True


@pytest.mark.parametrize("birth_date", ["17-08-1985", "18-08-1985"])
def test_whatsapp_from_another_number_files_unverified_with_the_number_noted_whatever_the_birth_date(birth_date):
    slots, said = check(
        "takeover_form", "case_contract", f"{BUDI} {birth_date}", channel="whatsapp", sender="whatsapp:6289999999999"
    )
    assert slots["case_contract"] == f"{cases.UNVERIFIED}:{BUDI}" and "verified" not in slots
    assert said == ["utter_case_unverified"] and "verification_failures" not in slots


@pytest.mark.parametrize("text", ["halo", "17-08-1985"])
def test_incomplete_account_answers_are_explained(text):
    slots, said = check("theft_form", "case_contract", text)
    assert slots["case_contract"] is None and said == ["utter_case_contract_invalid"]


def test_a_contract_number_sent_alone_waits_for_the_birth_date():
    slots, said = check("theft_form", "case_contract", "K10124000001")
    assert slots["case_contract"] is None and slots["case_contract_number"] == BUDI and said == []
    asked = tracker(slots={"case_contract_number": BUDI})
    assert responses(run(cases.ActionAskCaseContract(), asked)[0]) == ["utter_ask_case_birth_date"]
    assert responses(run(cases.ActionAskCaseContract(), tracker(slots={}))[0]) == ["utter_ask_case_contract"]
    slots, said = check("theft_form", "case_contract", "17-08-1985", slots={"case_contract_number": BUDI})
    assert slots["case_contract"] == BUDI and slots["verified"] is True and said == ["utter_verified"]
    assert slots["case_contract_number"] is None
    slots, said = check("theft_form", "case_contract", "01-01-1990", slots={"case_contract_number": BUDI})
    assert slots["case_contract"] is None and said == ["utter_case_verification_failed"]
    assert slots["case_contract_number"] is None  # a wrong pair is asked again whole


@pytest.mark.parametrize(
    "text, expected",
    [
        ("kemarin", "2026-11-21"),
        ("20 november 2026", "2026-11-20"),
        ("tgl 3 kemarin", None),
        ("besok", None),
        ("entahlah", None),
    ],
)
def test_incident_dates_must_be_past_dates(text, expected):
    slots, said = check("theft_form", "incident_date", text, slots={"verified": True})
    if expected is not None:
        assert slots["incident_date"] == expected and said == []
    elif slots["incident_date"] is None:
        assert said == ["utter_invalid_case_date"]
    else:  # "tgl 3 kemarin" may read as 3 November: any answer must be a past date
        assert slots["incident_date"] <= "2026-11-22"


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        ("sudah, kemarin lapor ke polsek", "inform", "ya"),
        ("ya", "affirm", "ya"),
        ("belum", "deny", "belum"),
        ("blm sempat", "inform", "belum"),
        ("hmm", "inform", None),
    ],
)
def test_yes_no_answers(text, intent, expected):
    slots, said = check("insurance_claim_form", "police_report", text, intent=intent, slots={"verified": True})
    assert slots["police_report"] == expected
    assert said == ([] if expected else ["utter_invalid_yes_no"])


def test_police_report_number_or_not_yet():
    assert (
        check("theft_form", "police_report_number", "belum", intent="deny", slots={"verified": True})[0][
            "police_report_number"
        ]
        == "belum"
    )
    number = "STPLK/123/XI/2026/Polsek"
    assert (
        check("theft_form", "police_report_number", number, slots={"verified": True})[0]["police_report_number"]
        == number
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("0812 3456 7890", "+6281234567890"),
        ("+62 812-3456-7890", "+6281234567890"),
        ("12345", None),
        ("tidak tahu", None),
    ],
)
def test_candidate_phone_is_normalised(text, expected):
    slots, said = check("takeover_form", "candidate_phone", text, slots={"verified": True})
    assert slots["candidate_phone"] == expected
    assert said == ([] if expected else ["utter_invalid_phone"])


def test_empty_or_symbol_only_text_is_asked_again():
    slots, said = check("insurance_claim_form", "damage", "🙏🙏", slots={"verified": True})
    assert slots["damage"] is None and said == ["utter_invalid_case_text"]
    long_text = "bemper penyok " * 100
    assert len(check("insurance_claim_form", "damage", long_text, slots={"verified": True})[0]["damage"]) <= 500


def test_batal_stops_the_form_and_nothing_is_filed(actions_environment):  # noqa: F811
    slots, _ = check("deceased_form", "reporter_name", "batal", slots={"verified": True})
    assert slots["case_cancelled"] is True and slots["requested_slot"] is None
    done = tracker(slots={"case_cancelled": True}, events=[{"event": "active_loop", "name": "deceased_form"}])
    messages, events = run(cases.ActionSubmitCase(), done)
    assert responses(messages) == ["utter_case_cancelled"]
    assert slot_events(events)["case_cancelled"] is False
    with session_scope(actions_environment) as session:
        assert session.execute(select(Case)).first() is None


def _finished(form: str, slots: Dict[str, Any], sender: str = "conv-case") -> Tracker:
    history: List[dict] = [
        {"event": "user", "text": "mobil saya hilang", "parse_data": {}, "input_channel": "socketio"},
        {"event": "active_loop", "name": form},
        {"event": "user", "text": "semalam", "parse_data": {}, "input_channel": "socketio"},
        {"event": "active_loop", "name": None},
    ]
    return tracker(slots=slots, events=history, sender=sender)


def test_submitting_a_verified_theft_report_files_case_and_escalates(actions_environment):  # noqa: F811
    slots = {
        "verified": True,
        "customer_id": 1.0,
        "selected_contract": BUDI,
        "case_contract": BUDI,
        "incident_date": "2026-11-21",
        "incident_place": "parkiran pasar",
        "police_report_number": "belum",
    }
    messages, events = run(cases.ActionSubmitCase(), _finished("theft_form", slots))
    said = responses(messages)
    assert said[0] == "utter_case_filed_vehicle_theft"
    assert said[1] in ("utter_handover_wait_agent", "utter_handover_after_hours")
    reference = messages[0]["reference"]
    with session_scope(actions_environment) as session:
        case = session.execute(select(Case)).scalar_one()
        escalation = session.execute(select(Escalation)).scalar_one()
        assert case.reference == reference and case.kind is CaseKind.VEHICLE_THEFT and case.verified
        assert case.contract.number == BUDI and case.channel == "socketio"
        assert case.data["incident_place"] == "parkiran pasar" and "semalam" in case.data["recent_messages"]
        assert escalation.case_id == case.id and escalation.reason is EscalationReason.CASE_REPORT
        assert escalation.customer_id == 1 and escalation.due_at is not None
    cleared = slot_events(events)
    assert cleared["incident_place"] is None and cleared["case_contract"] is None


def test_submitting_an_unverified_takeover_keeps_the_number_given(actions_environment):  # noqa: F811
    slots = {
        "case_contract": f"unverified:{BUDI}",
        "candidate_name": "Andi",
        "candidate_relation": "adik",
        "candidate_phone": "+6281234567890",
    }
    messages, _ = run(cases.ActionSubmitCase(), _finished("takeover_form", slots))
    assert responses(messages)[0] == "utter_case_filed_credit_takeover"
    with session_scope(actions_environment) as session:
        case = session.execute(select(Case)).scalar_one()
        assert not case.verified and case.customer_id is None and case.contract_id is None
        assert case.data["contract_number_given"] == BUDI


def test_complaint_is_filed_with_an_ojk_due_time(actions_environment):  # noqa: F811
    t = tracker(
        text="debt collector kalian kasar sekali",
        intent="complain",
        channel="whatsapp",
        sender="whatsapp:6281200000000",
    )
    messages, _ = run(handover.ActionHandover(), t)
    assert responses(messages)[0] == "utter_complaint_received"
    assert messages[0]["reference"].startswith("CASE-") and "WIB" in messages[0]["due"]
    with session_scope(actions_environment) as session:
        escalation = session.execute(select(Escalation)).scalar_one()
        assert escalation.reason is EscalationReason.COMPLAINT and escalation.case.kind is CaseKind.COMPLAINT
        assert escalation.case.data["message"] == "debt collector kalian kasar sekali"


def test_a_complaint_without_its_subject_asks_for_it_and_more_goes_to_the_same_case(actions_environment):  # noqa: F811
    """ "saya mau komplain" is asked what happened before anything is filed; the answer files the
    complaint with those words; another complaint message while it waits in the queue is added
    to that case, not filed as a second case with a due date of its own."""
    from actions import account

    asked, events = run(handover.ActionHandover(), tracker(text="saya mau komplain", intent="complain", sender="c1"))
    assert (
        responses(asked) == ["utter_ask_complaint_details"]
        and slot_events(events)["pending_offer"] == "complaint_details"
    )
    pending = {"offer_open": True, "pending_offer": "complaint_details"}
    again, events = run(account.ActionHandleOffer(), tracker(slots=pending, text="iya", intent="affirm", sender="c1"))
    assert responses(again) == ["utter_ask_complaint_details"] and events == []
    details = "kolektor kalian datang malam malam dan teriak2 di depan rumah"
    filed, events = run(handover.ActionHandover(), tracker(slots=pending, text=details, intent="complain", sender="c1"))
    assert responses(filed)[0] == "utter_complaint_received" and slot_events(events)["offer_open"] is False
    more = "sudah 3 kali begitu, tetangga sampai keluar"
    added, _ = run(handover.ActionHandover(), tracker(text=more, intent="complain", sender="c1"))
    assert responses(added) == ["utter_complaint_added"] and added[0]["reference"] == filed[0]["reference"]
    with session_scope(actions_environment) as session:
        case = session.execute(select(Case)).scalar_one()
        assert case.data["message"] == details and case.data["added"] == more
    declined, events = run(
        account.ActionHandleOffer(), tracker(slots=pending, text="ga jadi", intent="deny", sender="c2")
    )
    assert responses(declined) == ["utter_offer_declined"] and slot_events(events)["offer_open"] is False


def test_request_for_a_person_escalates_once(actions_environment):  # noqa: F811
    t = tracker(text="mau bicara dengan cs", intent="request_human")
    for _ in range(2):
        messages, _ = run(handover.ActionHandover(), t)
        assert responses(messages)[0] == "utter_handover_human"
    with session_scope(actions_environment) as session:
        escalations = session.execute(select(Escalation)).scalars().all()
        assert len(escalations) == 1 and escalations[0].reason is EscalationReason.HUMAN_REQUEST


def test_after_hours_the_customer_is_told_when_staff_answer(actions_environment, monkeypatch):  # noqa: F811
    from datetime import datetime

    from crm.settings import Settings

    monkeypatch.setattr(Settings, "current_time", lambda self: datetime(2026, 11, 22, 21, 30))  # Sunday night
    messages, _ = run(handover.ActionHandover(), tracker(text="sambungkan ke cs", intent="request_human"))
    assert responses(messages) == ["utter_handover_human", "utter_handover_after_hours"]
    assert messages[1]["next_open"] == "Senin, 23 November 2026 pukul 08.00 WIB"
