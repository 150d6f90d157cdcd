"""How the actions take what customers actually do in a conversation: a question in the middle
of a form, a change of mind with a reason, a name or a letter number that is not one, a date
already given, the wait for staff, a contract that is not theirs (issue: conversations as
customers have them). Run as the action server runs them against a real demo database."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions import account, asides, cases, common, fallback, handover, hours, verification
from crm.db import session_scope
from crm.models import EscalationReason
from crm.services import escalations
from crm.settings import PROJECT_ROOT
from tests.support.actions import (
    AGUS,
    BUDI,
    DEWI_CAR,
    DEWI_LOAN,
    SITI,
    responses,
    run,
    slot_events,
    tracker,
    verified_slots,
)

pytestmark = pytest.mark.usefixtures("actions_environment")
DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
WEDNESDAY = date(2026, 12, 2)


def form_turn(
    form,
    slot: str,
    text: str,
    intent: str = "inform",
    confidence: float = 0.97,
    slots: Optional[Dict[str, Any]] = None,
    events: Optional[List[dict]] = None,
):
    """The form's validation after the customer answered `slot` with `text`, as Rasa runs it."""
    t = tracker(
        slots={"requested_slot": slot, slot: text, **(slots or {})},
        text=text,
        intent=intent,
        confidence=confidence,
        active_loop=form.form_name(),
        events=events,
    )
    t.events.append({"event": "slot", "name": slot, "value": text})
    dispatcher = CollectingDispatcher()
    result = asyncio.run(form.run(dispatcher, t, DOMAIN))
    return result, responses(dispatcher.messages)


def rejected(events) -> bool:
    return any(e.get("event") == "action_execution_rejected" for e in events)


# --- a question in the middle of a form ------------------------------------------------------


@pytest.mark.parametrize(
    "form, slot",
    [
        (verification.ValidateVerificationForm(), "contract_number"),
        (cases.ValidateTheftForm(), "incident_place"),
        (cases.ValidateTakeoverForm(), "candidate_name"),
    ],
)
def test_a_clear_question_is_an_aside_and_the_slot_stays_open(form, slot):
    events, said = form_turn(form, slot, "kalau cabang medan hari sabtu buka jam berapa?", intent="ask_office_hours")
    assert rejected(events) and slot_events(events)[slot] is None
    assert said == []  # no "format is wrong": the aside rule answers it


def test_a_button_for_a_person_is_an_aside_in_verification():
    """ "Bicara ke petugas" under the help for a forgotten contract number sends /request_human:
    a click is as clear as a question, and the form does not read it as a contract number."""
    events, said = form_turn(
        verification.ValidateVerificationForm(), "contract_number", "/request_human", "request_human"
    )
    assert rejected(events) and said == []


@pytest.mark.parametrize(
    "intent, text, reply",
    [
        ("hold_on", "bentar ya kak saya cari dulu", "utter_hold_on"),  # the "ya" of a wait is no yes
        ("confused", "gak ngerti kak", "utter_confused_in_form"),  # the "gak" of "gak ngerti" is no no
    ],
)
@pytest.mark.parametrize(
    "form, slot",
    [
        (verification.ValidateVerificationForm(), "contract_number"),
        (verification.ValidateVerificationForm(), "date_of_birth"),
        (cases.ValidateTheftForm(), "incident_place"),  # a free-text answer: neither is a place
        (cases.ValidateTheftForm(), "police_report"),  # nor a yes or a no
    ],
)
def test_a_wait_or_not_understanding_is_acknowledged_and_the_question_asked_again(form, slot, intent, text, reply):
    events, said = form_turn(form, slot, text, intent=intent)
    assert rejected(events) and slot_events(events)[slot] is None and said == []
    t = tracker(text=text, intent=intent, active_loop="theft_form")
    assert responses(run(asides.ActionAnswerAside(), t)[0]) == [reply]


def test_a_wait_that_carries_the_answer_is_the_answer():
    events, _ = form_turn(
        verification.ValidateVerificationForm(), "contract_number", f"bentar ya, ini {BUDI}", intent="hold_on"
    )
    assert not rejected(events) and slot_events(events)["contract_number"] == BUDI


def test_an_answer_that_mentions_a_place_is_an_answer():
    events, said = form_turn(
        cases.ValidateTheftForm(), "incident_place", "di parkiran mall taman anggrek jakarta", intent="ask_office_hours"
    )
    assert not rejected(events) and slot_events(events)["incident_place"] == "di parkiran mall taman anggrek jakarta"


def test_an_unsure_classification_is_taken_as_the_answer():
    events, _ = form_turn(
        cases.ValidateTheftForm(),
        "incident_place",
        "depan kantor cabang bisa?",
        intent="ask_office_hours",
        confidence=0.6,
    )
    assert not rejected(events)


def test_a_question_that_carries_the_answer_is_the_answer():
    events, said = form_turn(
        verification.ValidateVerificationForm(), "contract_number", f"{BUDI} cicilan saya brp?", intent="ask_instalment"
    )
    assert not rejected(events) and slot_events(events)["contract_number"] == BUDI


def test_once_answered_the_aside_does_not_reject_again():
    question = "kalau cabang medan hari sabtu buka jam berapa?"
    message = {"text": question, "intent": {"name": "ask_office_hours", "confidence": 0.99}, "entities": []}
    history = [
        {"event": "user", "text": question, "parse_data": message, "input_channel": "rest"},
        {"event": "action", "name": "action_answer_aside"},
    ]
    events, _ = form_turn(cases.ValidateTheftForm(), "incident_place", question, "ask_office_hours", events=history)
    assert not rejected(events)


def test_the_aside_is_answered_without_opening_a_question(monkeypatch):
    monkeypatch.setenv("CRM_TODAY", WEDNESDAY.isoformat())
    common.reset()
    t = tracker(text="cabang medan hari sabtu buka jam berapa?", intent="ask_office_hours", active_loop="theft_form")
    messages, events = run(asides.ActionAnswerAside(), t)
    assert responses(messages) == ["utter_office_hours"] and messages[0]["day"].startswith("Sabtu, 5 Desember")
    assert slot_events(events).get("offer_open") in (None, False)
    t = tracker(text="cicilan saya berapa?", intent="ask_instalment", active_loop="verification_form")
    assert responses(run(asides.ActionAnswerAside(), t)[0]) == ["utter_aside_after_verification"]


def test_an_account_question_asked_before_another_during_verification_is_offered_after(actions_environment):
    """ "autodebet bulan depan kena libur ga", then during verification "stnk saya udah 5 tahun":
    the STNK question was answered after verification and the autodebit one forgotten; it is
    offered as a button after the answer."""
    from actions import account

    first, second = "autodebet bulan depan kena libur ga", "stnk saya udah 5 tahun, mau ganti plat"
    events = [
        {"event": "user", "text": first},
        {"event": "slot", "name": "account_topic", "value": "autodebit"},
        {"event": "active_loop", "name": "verification_form"},
        {"event": "user", "text": second},
        {"event": "slot", "name": "account_topic", "value": "stnk_renewal"},
    ]
    t = tracker(
        slots={"account_topic": "stnk_renewal"},
        text=second,
        intent="ask_stnk_renewal",
        events=events,
        active_loop="verification_form",
    )
    messages, aside_events = run(asides.ActionAnswerAside(), t)
    assert responses(messages) == ["utter_aside_after_verification"]
    assert slot_events(aside_events)["earlier_topic"] == "autodebit"
    slots = verified_slots(BUDI, account_topic="stnk_renewal", topic_text=second, earlier_topic="autodebit")
    answered, answer_events = run(account.ActionAnswerAccount(), tracker(slots=slots, text=second))
    assert responses(answered)[0] == "utter_stnk_info" and responses(answered)[-1] == "utter_asked_before"
    assert [b["payload"] for b in answered[-1]["buttons"]] == ["/ask_autodebit"]
    assert slot_events(answer_events)["earlier_topic"] is None
    # the same question twice is offered nothing
    t = tracker(
        slots={"account_topic": "autodebit"},
        text=first,
        intent="ask_autodebit",
        events=events[:3]
        + [{"event": "user", "text": first}, {"event": "slot", "name": "account_topic", "value": "autodebit"}],
        active_loop="verification_form",
    )
    assert "earlier_topic" not in slot_events(run(asides.ActionAnswerAside(), t)[1])


def test_rules_send_every_aside_intent_of_every_form_to_the_aside_action():
    rules = yaml.safe_load((PROJECT_ROOT / "data" / "rules" / "asides.yml").read_text())["rules"]
    covered = {}
    for rule in rules:
        form = rule["condition"][0]["active_loop"]
        covered[form] = {step["intent"] for step in rule["steps"][0]["or"]}
        assert rule["steps"][1:] == [{"action": asides.NAME}, {"action": form}, {"active_loop": form}]
    assert covered == {form: asides.ASIDE_INTENTS for form in DOMAIN["forms"]}


# --- changes of mind, names, letter numbers ---------------------------------------------------


@pytest.mark.parametrize(
    "slot, text",
    [
        ("candidate_name", "ga jadi deh, mau diskusi sm istri dulu"),
        ("candidate_relation", "nggak jadi deh, nanti aja"),
        ("candidate_phone", "batal aja"),
        ("candidate_name", "skip dulu"),
    ],
)
def test_a_change_of_mind_with_a_reason_cancels(slot, text):
    events, _ = form_turn(cases.ValidateTakeoverForm(), slot, text, intent="deny")
    assert slot_events(events)["case_cancelled"] is True and slot_events(events)[slot] is None


@pytest.mark.parametrize("text", ["mau diskusi dulu sama istri", "12345", "saya kurang tau"])
def test_a_name_is_a_name(text):
    events, said = form_turn(cases.ValidateTakeoverForm(), "candidate_name", text)
    assert slot_events(events)["candidate_name"] is None and said == ["utter_invalid_name"]
    events, said = form_turn(cases.ValidateTakeoverForm(), "candidate_name", "Rina Marlina")
    assert slot_events(events)["candidate_name"] == "Rina Marlina" and said == []


@pytest.mark.parametrize(
    "text, stored, said",
    [
        ("kemarin", None, ["utter_invalid_police_report_number"]),
        ("sudah", "sudah lapor, nomor menyusul", ["utter_police_report_number_to_follow"]),
        ("udah lapor polisi tadi pagi", "sudah lapor, nomor menyusul", ["utter_police_report_number_to_follow"]),
        ("belum ada", "belum", []),
        ("belum", "belum", []),
        ("LP/B/1234/XII/2026/SPKT", "LP/B/1234/XII/2026/SPKT", []),
    ],
)
def test_a_police_letter_number_looks_like_one_or_is_belum(text, stored, said):
    events, messages = form_turn(cases.ValidateTheftForm(), "police_report_number", text, slots={"verified": True})
    assert slot_events(events)["police_report_number"] == stored and messages == said


# --- days already given, days said loosely ---------------------------------------------------


def test_the_day_in_the_report_is_not_asked_again(monkeypatch):
    monkeypatch.setenv("CRM_TODAY", WEDNESDAY.isoformat())
    common.reset()
    t = tracker(text="min mobil saya dicuri semalam jam 11", intent="report_vehicle_theft", slots={"verified": True})
    dispatcher = CollectingDispatcher()
    events = asyncio.run(cases.ValidateTheftForm().run(dispatcher, t, DOMAIN))
    assert slot_events(events)["incident_date"] == "2026-12-01 23:00"
    assert slot_events(events)["requested_slot"] == "incident_place" and dispatcher.messages == []


@pytest.mark.parametrize(
    "opening, description, damage, asked",
    [
        (
            "kemarin mobil saya ditabrak dari belakang pas lampu merah, bemper belakang penyok, mau klaim",
            True,
            True,
            "incident_place",
        ),
        ("mobil saya kebanjiran semalam di garasi rumah, mau klaim asuransi", True, False, "incident_place"),
        ("mau klaim asuransi karena kecelakaan kak", False, False, "incident_date"),
        ("mau klaim asuransi, bemper depan penyok", False, True, "incident_date"),
    ],
)
def test_what_the_claim_already_told_is_not_asked_again(monkeypatch, opening, description, damage, asked):
    """A customer who opened the claim with what happened (or what broke) is not asked to tell it
    again; an opening that only names the event is no description."""
    monkeypatch.setenv("CRM_TODAY", WEDNESDAY.isoformat())
    common.reset()
    t = tracker(text=opening, intent="report_insurance_claim", slots={"verified": True})
    events = asyncio.run(cases.ValidateInsuranceClaimForm().run(CollectingDispatcher(), t, DOMAIN))
    slots = slot_events(events)
    assert slots.get("incident_description") == (opening if description else None)
    assert slots.get("damage") == (opening if damage else None)
    assert slots["requested_slot"] == asked


@pytest.mark.parametrize(
    "form, intent, opening, place",
    [
        (
            cases.ValidateInsuranceClaimForm(),
            "report_insurance_claim",
            "ditabrak truk di tol cikampek km 57 tadi pagi, bemper penyok, mau klaim",
            "tol cikampek km 57",
        ),
        (
            cases.ValidateTheftForm(),
            "report_vehicle_theft",
            "mobil saya dicuri semalam di jl. melati bekasi",
            "jl. melati bekasi",
        ),
        (cases.ValidateTheftForm(), "report_vehicle_theft", "mobil saya hilang dicuri tadi malam di depan rumah", None),
        (cases.ValidateInsuranceClaimForm(), "report_insurance_claim", "kemarin keserempet di jalan pulang", None),
    ],
)
def test_a_place_the_report_names_is_not_asked_again(monkeypatch, form, intent, opening, place):
    """A road or area named in the opening is where it happened; "di depan rumah" names no place
    staff could find, so it is still asked."""
    monkeypatch.setenv("CRM_TODAY", WEDNESDAY.isoformat())
    common.reset()
    t = tracker(text=opening, intent=intent, slots={"verified": True})
    events = asyncio.run(form.run(CollectingDispatcher(), t, DOMAIN))
    slots = slot_events(events)
    assert slots.get("incident_place") == place
    assert (slots["requested_slot"] == "incident_place") is (place is None)


def test_an_answer_is_not_overwritten_by_the_opening(monkeypatch):
    """Once the description question is open, the customer's answer is the description."""
    opening = {"event": "user", "text": "mobil saya ditabrak truk di tol, mau klaim", "parse_data": {}}
    events, said = form_turn(
        cases.ValidateInsuranceClaimForm(),
        "incident_description",
        "truknya pindah jalur tiba-tiba",
        slots={"verified": True},
        events=[opening],
    )
    assert slot_events(events)["incident_description"] == "truknya pindah jalur tiba-tiba" and said == []


def test_when_told_at_the_damage_question_is_noted_and_the_damage_asked_again(monkeypatch):
    """ "kemarin sore sekitar jam 4" asked what was damaged: the incident's time, not the damage."""
    monkeypatch.setenv("CRM_TODAY", "2026-12-05")
    opening = {"event": "user", "text": "mobil saya ditabrak dari belakang di tol jagorawi", "parse_data": {}}
    known = {
        "verified": True,
        "incident_date": "2026-12-04",
        "incident_place": "tol jagorawi",
        "incident_description": "x",
    }
    events, said = form_turn(
        cases.ValidateInsuranceClaimForm(), "damage", "kemarin sore sekitar jam 4", slots=known, events=[opening]
    )
    slots = slot_events(events)
    assert said[0] == "utter_incident_time_noted" and slots["incident_date"] == "2026-12-04 16:00"
    assert slots["requested_slot"] == "damage"  # asked again
    events, said = form_turn(
        cases.ValidateInsuranceClaimForm(), "damage", "bemper belakang penyok", slots=known, events=[opening]
    )
    assert slot_events(events)["damage"] == "bemper belakang penyok"


def test_when_told_at_the_place_question_is_noted_and_the_place_asked_again(monkeypatch):
    """ "semalam sekitar jam 2" asked where a stolen car was: the theft's time, not its place; an
    answer that says where ("di depan rumah", even with a time) is the place."""
    monkeypatch.setenv("CRM_TODAY", "2026-12-05")
    opening = {"event": "user", "text": "innova saya hilang dicuri semalam", "parse_data": {}}
    known = {"verified": True, "incident_date": "2026-12-04"}
    events, said = form_turn(
        cases.ValidateTheftForm(), "incident_place", "semalam sekitar jam 2", slots=known, events=[opening]
    )
    slots = slot_events(events)
    assert (
        said == ["utter_incident_time_noted"] and slots["incident_date"] == "2026-12-05 02:00"
    )  # 2 a.m. last night: today
    assert slots["requested_slot"] == "incident_place"  # asked again
    for place in ("di depan rumah, jl melati 5 bekasi", "parkiran mall kemarin sore", "jl. sudirman jam 2"):
        events, said = form_turn(cases.ValidateTheftForm(), "incident_place", place, slots=known, events=[opening])
        assert slot_events(events)["incident_place"] == place and said == [], place


def test_a_day_said_in_months_is_kept_as_approximate(monkeypatch):
    """ "beliau meninggal bulan lalu": staff see the day and that it is only that near."""
    monkeypatch.setenv("CRM_TODAY", "2026-12-05")
    opening = "saya ahli waris pak hendra, beliau meninggal bulan lalu"
    t = tracker(text=opening, intent="report_debtor_deceased", slots={"verified": True})
    events = asyncio.run(cases.ValidateDeceasedForm().run(CollectingDispatcher(), t, DOMAIN))
    assert slot_events(events)["death_date"] == '2026-11-05 (kira-kira: "bulan lalu")'
    events, said = form_turn(cases.ValidateDeceasedForm(), "death_date", "2 minggu yang lalu", slots={"verified": True})
    assert slot_events(events)["death_date"] == '2026-11-21 (kira-kira: "2 minggu yang lalu")' and said == []
    # the day told at the certificate's yes/no question: noted, the question asked again
    known = {"verified": True, "reporter_name": "Rina", "reporter_relation": "anak", "death_date": "2026-11-05"}
    events, said = form_turn(
        cases.ValidateDeceasedForm(), "death_certificate", "sekitar tanggal 10 november", slots=known
    )
    slots = slot_events(events)
    assert said == ["utter_incident_time_noted"] and slots["death_date"] == "2026-11-10"
    assert slots["requested_slot"] == "death_certificate"


def test_who_is_who_said_in_the_opening_is_not_asked_again(monkeypatch):
    """ "suami saya meninggal kemarin": the reporter is the widow; "mau over kredit ke adik saya":
    the new debtor is a younger sibling. Neither is asked again; an opening that does not say is."""
    monkeypatch.setenv("CRM_TODAY", "2026-12-05")
    for opening, relation in (
        ("suami saya meninggal kemarin, mobilnya masih kredit", "istri"),
        ("ayah saya meninggal", "anak"),
        ("nenek saya meninggal, mobilnya atas nama beliau", "cucu"),
        ("saya istri almarhum pak budi", "istri"),
        ("debitur atas nama hendra meninggal", None),
    ):
        t = tracker(text=opening, intent="report_debtor_deceased", slots={"verified": True})
        events = asyncio.run(cases.ValidateDeceasedForm().run(CollectingDispatcher(), t, DOMAIN))
        assert slot_events(events).get("reporter_relation") == relation, opening
    t = tracker(
        text="saya mau over kredit mobil ke adik saya", intent="request_credit_takeover", slots={"verified": True}
    )
    events = asyncio.run(cases.ValidateTakeoverForm().run(CollectingDispatcher(), t, DOMAIN))
    assert slot_events(events)["candidate_relation"] == "adik"
    t = tracker(text="mau over kredit", intent="request_credit_takeover", slots={"verified": True})
    events = asyncio.run(cases.ValidateTakeoverForm().run(CollectingDispatcher(), t, DOMAIN))
    assert "candidate_relation" not in slot_events(events)


def test_a_loose_incident_time_is_read():
    events, said = form_turn(cases.ValidateTheftForm(), "incident_date", "semalam jam 11", slots={"verified": True})
    assert slot_events(events)["incident_date"].endswith(" 23:00") and said == []


def test_an_unreadable_day_is_named_back():
    events, said = form_turn(cases.ValidateTheftForm(), "incident_date", "tgl 31 februari", slots={"verified": True})
    assert said == ["utter_date_not_understood", "utter_invalid_case_date"]


def test_office_hours_for_the_weekday_named(monkeypatch):
    monkeypatch.setenv("CRM_TODAY", WEDNESDAY.isoformat())
    common.reset()
    t = tracker(text="cs nya klo hari minggu bs dihubungi sampe jam brp", intent="ask_office_hours")
    messages, _ = run(hours.ActionAnswerOfficeHours(), t)
    assert messages[0]["day"].startswith("Minggu, 6 Desember")
    messages, _ = run(
        hours.ActionAnswerOfficeHours(), tracker(text="buka ga tgl 31 februari", intent="ask_office_hours")
    )
    assert responses(messages)[0] == "utter_date_not_understood" and messages[0]["unread"] == "31 februari"


# --- the wait for staff ------------------------------------------------------------------------


def _escalate(session_factory, sender: str) -> int:
    with session_scope(session_factory) as session:
        return escalations.escalate(
            session, conversation_id=sender, channel="rest", reason=EscalationReason.HUMAN_REQUEST, summary="x"
        ).escalation_id


def test_while_waiting_the_bot_acknowledges_once_then_keeps_quiet(actions_environment):
    sender = "rest:waiting"
    item = _escalate(actions_environment, sender)
    first, events = run(handover.ActionReplyOrWait(), tracker(text="di parkiran mall taman anggrek", sender=sender))
    said = responses(first)
    assert said[0] == "utter_waiting_passed_on" and said[1] in (
        "utter_handover_wait_agent",
        "utter_handover_after_hours",
    )
    assert slot_events(events) == {"wait_acknowledged": str(item)}
    again, events = run(
        handover.ActionReplyOrWait(), tracker(text="halo?", sender=sender, slots={"wait_acknowledged": str(item)})
    )
    assert again == [] and events == []
    not_understood, _ = run(
        fallback.ActionFallback(),
        tracker(text="xzq", intent="nlu_fallback", sender=sender, slots={"wait_acknowledged": str(item)}),
    )
    assert not_understood == []  # no "please rephrase", no second escalation


def test_right_after_the_handover_the_wait_is_not_told_twice(actions_environment):
    """The complaint's answer said when staff answer; the next message is acknowledged without
    saying it again."""
    sender = "rest:just-handed-over"
    _escalate(actions_environment, sender)
    history = [
        {"event": "user", "text": "kolektor kalian kasar"},
        {"event": "bot", "text": "...", "metadata": {"utter_action": "utter_handover_after_hours"}},
        {"event": "user", "text": "K20123000002 05-03-1990"},
    ]
    said, _ = run(handover.ActionReplyOrWait(), tracker(text="K20123000002 05-03-1990", sender=sender, events=history))
    assert responses(said) == ["utter_waiting_passed_on"]


def test_without_a_wait_the_bot_asks_how_it_can_help():
    messages, _ = run(handover.ActionReplyOrWait(), tracker(text="ok", intent="affirm", sender="rest:nobody"))
    assert responses(messages) == ["utter_how_can_i_help"]


# --- contracts and who is speaking -----------------------------------------------------------


def test_a_contract_that_is_not_the_verified_customers_is_said_so_and_offered_verification():
    slots = verified_slots(BUDI, account_topic="instalment")
    t = tracker(slots=slots, text=f"cicilan {SITI} berapa?", intent="ask_instalment")
    messages, events = run(account.ActionAnswerAccount(), t)
    assert responses(messages) == ["utter_contract_not_verified"] and messages[0]["contract_number"] == SITI
    assert slot_events(events)["pending_offer"] == "verify_other"
    yes = tracker(slots={**slots, **slot_events(events)}, text="/affirm", intent="affirm")
    _, events = run(account.ActionHandleOffer(), yes)
    assert {"event": "followup", "name": "verification_form"} in [
        {k: e[k] for k in ("event", "name")} for e in events if e.get("event") == "followup"
    ]
    assert slot_events(events)["verified"] is None and slot_events(events)["contract_number"] == SITI


def test_another_contract_of_the_same_customer_is_answered_for_that_contract():
    slots = verified_slots(DEWI_CAR, account_topic="instalment")
    t = tracker(slots=slots, text=f"kalau yang {DEWI_LOAN} cicilannya brp", intent="ask_instalment")
    messages, events = run(account.ActionAnswerAccount(), t)
    assert responses(messages)[0] == "utter_instalment_summary" and messages[0]["contract_number"] == DEWI_LOAN
    assert slot_events(events)["selected_contract"] == DEWI_LOAN
    by_car = tracker(slots=slots, text="kalau bpkb yaris saya kapan bisa diambil", intent="ask_bpkb_pickup")
    messages, events = run(account.ActionAnswerAccount(), by_car)  # Yaris Cross: the other contract, by name
    assert messages[0]["contract_number"] == DEWI_LOAN and slot_events(events)["selected_contract"] == DEWI_LOAN
    same = tracker(slots=slots, text="g bisa bayar cicilan raize bulan ini", intent="ask_instalment")
    assert run(account.ActionAnswerAccount(), same)[0][0]["contract_number"] == DEWI_CAR


@pytest.mark.parametrize(
    "action, intent",
    [(handover.ActionReplyOrWait(), "inform"), (fallback.ActionFallback(), "nlu_fallback")],
)
def test_a_month_asked_right_after_the_instalment_or_autodebit_is_that_months(monkeypatch, action, intent):
    """ "kalau bulan depan?" right after the instalment answer: that month's instalment; after the
    autodebit answer: its debit day (moved before a holiday); a month past the last instalment is
    said so. Not once another answer came in between."""
    monkeypatch.setenv("CRM_TODAY", "2026-12-05")
    common.reset()

    def turn(topic: str, text: str, answered: str = "action_answer_account") -> List[str]:
        history = [_user("cicilan saya", "ask_instalment"), {"event": "action", "name": answered}, _user(text, intent)]
        slots = verified_slots(BUDI, account_topic=topic)
        messages, _ = run(action, tracker(slots=slots, text=text, intent=intent, events=history))
        return messages

    month = turn("instalment", "kalau bulan depan?")
    assert responses(month) == ["utter_instalment_in_month"] and month[0]["month"] == "Januari 2027"
    assert month[0]["due"].endswith("25 Januari 2027") and month[0]["amount"] == "Rp5.425.000"
    debit = turn("autodebit", "kalo desember?")
    assert responses(debit) == ["utter_autodebit_in_month"] and "24 Desember 2026" in debit[0]["line"]
    assert responses(turn("instalment", "kalau desember 2030?")) == ["utter_no_instalment_in_month"]
    assert "utter_instalment_in_month" not in responses(
        turn("instalment", "kalau bulan depan?", "action_answer_office_hours")
    )


def test_the_reporter_of_a_death_is_not_greeted_by_the_debtors_name():
    events, said = form_turn(cases.ValidateDeceasedForm(), "case_contract", f"{BUDI} 17-08-1985")
    assert said == ["utter_case_contract_found"] and slot_events(events)["verified"] is True


def test_a_contract_number_and_birth_date_sent_unasked_start_verification(actions_environment):
    said = tracker(text="K10124000001 17-08-1985", intent="inform", sender="rest:creds")
    messages, events = run(handover.ActionReplyOrWait(), said)
    assert messages == [] and slot_events(events)["contract_number"] == BUDI
    assert {"event": "followup", "name": "verification_form"} in [
        {k: e.get(k) for k in ("event", "name")} for e in events
    ]
    number_only = tracker(text="K10124000001", intent="inform", sender="rest:creds")
    assert responses(run(handover.ActionReplyOrWait(), number_only)[0]) == ["utter_how_can_i_help"]
    verified = tracker(text="K10124000001 17-08-1985", intent="inform", slots={"verified": True})
    assert responses(run(handover.ActionReplyOrWait(), verified)[0]) == ["utter_how_can_i_help"]


def test_the_credentials_after_one_suggested_topic_answer_it(actions_environment):
    """ "cicilan" (unsure) got the button "Info angsuran"; the credentials typed instead of the
    click mean that topic. Two topics suggested: which one is not guessed."""

    def history(*payloads: str) -> List[dict]:
        buttons = [{"title": p, "payload": p} for p in payloads]
        bot = {"event": "bot", "text": "Apakah tentang salah satu ini?", "data": {"buttons": buttons}}
        creds = _user("K10124000001 17-08-1985", "inform")
        return [_user("cicilan", "nlu_fallback"), bot, creds]

    one = tracker(text="K10124000001 17-08-1985", intent="inform", events=history("/ask_instalment"))
    _, events = run(handover.ActionReplyOrWait(), one)
    assert slot_events(events)["account_topic"] == "instalment"
    two = tracker(text="K10124000001 17-08-1985", intent="inform", events=history("/ask_instalment", "/ask_late_fee"))
    _, events = run(handover.ActionReplyOrWait(), two)
    assert "account_topic" not in slot_events(events) and slot_events(events)["contract_number"] == BUDI


def test_an_unsure_question_with_the_credentials_is_offered_after_verification(actions_environment):
    """ "mau tanya angsuran, K10124000001 17-08-1985": the question is below the floor to answer it
    at once (0.24), so after verification its topic is offered as a button; nothing leaning to an
    account topic, the usual question."""
    from crm import policy

    slots = verified_slots(BUDI)
    leaning = {"name": "ask_instalment", "confidence": policy.SUGGEST_TOPIC_FLOOR + 0.04}
    t = tracker(slots=slots, text="mau tanya angsuran, K10124000001 17-08-1985", intent="inform")
    t.latest_message["question"] = leaning
    messages, _ = run(account.ActionAnswerAccount(), t)
    assert (
        responses(messages) == ["utter_verified_which_topic"] and messages[0]["buttons"][0]["title"] == "Info angsuran"
    )
    t.latest_message["question"] = {"name": "ask_office_hours", "confidence": 0.3}
    assert responses(run(account.ActionAnswerAccount(), t)[0]) == ["utter_how_can_i_help"]


def test_a_birth_date_sent_unasked_after_the_number_starts_verification(actions_environment):
    """ "K10124000001", then "17-08-1985" in a message of its own: the same as both in one."""
    said = tracker(text="17-08-1985", intent="inform", sender="rest:creds", slots={"contract_number": BUDI})
    messages, events = run(handover.ActionReplyOrWait(), said)
    assert messages == [] and slot_events(events)["contract_number"] == BUDI
    assert "verification_form" in [e.get("name") for e in events if e["event"] == "followup"]
    # no number yet, or a date that is no answer ("I paid on ..." is another intent's business)
    no_number = tracker(text="17-08-1985", intent="inform", sender="rest:creds")
    assert responses(run(handover.ActionReplyOrWait(), no_number)[0]) == ["utter_how_can_i_help"]
    not_inform = tracker(text="17-08-1985", intent="greet", sender="rest:creds", slots={"contract_number": BUDI})
    assert run(handover.ActionReplyOrWait(), not_inform)[1] == []


def test_the_question_sent_with_the_credentials_is_answered_after_verification(actions_environment):
    """ "mau ganti jatuh tempo ke tgl 10, K10124000001 lahir 17-08-1985": verified, then the
    due-date change for day 10 (the birth date is no part of the question)."""
    text = "mau ganti jatuh tempo ke tgl 10, K10124000001 lahir 17-08-1985"
    said = tracker(text=text, intent="inform", sender="rest:asked")
    said.latest_message["entities"] = [
        {"entity": "date", "start": text.index("17-"), "end": len(text), "value": "17-08-1985"}
    ]
    said.latest_message["question"] = {"name": "request_due_date_change", "confidence": 0.97}
    messages, events = run(handover.ActionReplyOrWait(), said)
    slots = slot_events(events)
    assert slots["account_topic"] == "due_date_change" and slots["contract_number"] == BUDI
    assert slots["topic_text"] == "mau ganti jatuh tempo ke tgl 10, lahir"
    assert "verification_form" in [e.get("name") for e in events if e["event"] == "followup"]
    # unsure, or no account question (a complaint is never filed from a guess): verified only
    for question in ({"name": "ask_instalment", "confidence": 0.3}, {"name": "complain", "confidence": 0.95}):
        said.latest_message["question"] = question
        assert "account_topic" not in slot_events(run(handover.ActionReplyOrWait(), said)[1])


def test_a_va_number_asked_with_the_credentials_is_given_after_verification(actions_environment):
    """ "no va saya brp? K10124000001 17-08-1985": the VA number is no account question of the
    NLU's, but the words ask for it."""
    said = tracker(text="no va saya brp? K10124000001 17-08-1985", intent="inform", sender="rest:va")
    slots = slot_events(run(handover.ActionReplyOrWait(), said)[1])
    assert slots["account_topic"] == "payment_methods" and slots["contract_number"] == BUDI
    plain = tracker(text="K10124000001 17-08-1985", intent="inform", sender="rest:va")
    assert "account_topic" not in slot_events(run(handover.ActionReplyOrWait(), plain)[1])


def test_a_salam_is_answered_in_kind(actions_environment):
    messages, _ = run(handover.ActionReplyOrWait(), tracker(text="assalamualaikum min", intent="greet"))
    assert responses(messages) == ["utter_answer_salam", "utter_greet"]


@pytest.mark.parametrize(
    "intent, reply",
    [
        ("greet", "utter_greet"),
        ("out_of_scope", "utter_out_of_scope"),
        ("hold_on", "utter_hold_on"),
        ("confused", "utter_confused"),
        ("inform", "utter_how_can_i_help"),
    ],
)
def test_small_talk_gets_its_reply_unless_the_conversation_waits(actions_environment, intent, reply):
    messages, _ = run(handover.ActionReplyOrWait(), tracker(text="halo", intent=intent, sender="rest:idle"))
    assert responses(messages) == [reply]
    item = _escalate(actions_environment, "rest:waits")
    waiting = tracker(text="halo?", intent=intent, sender="rest:waits", slots={"wait_acknowledged": str(item)})
    assert run(handover.ActionReplyOrWait(), waiting)[0] == []


def test_a_greeting_after_the_bot_has_spoken_is_answered_briefly(actions_environment):
    """ "oi" or "halo?" in the middle of a conversation does not get the whole introduction again;
    a new session does."""
    said = {"event": "user", "text": "oi", "parse_data": {"intent": {"name": "greet"}}, "input_channel": "rest"}
    earlier = [{"event": "session_started"}, said, {"event": "bot", "text": "Halo..."}, said]
    messages, _ = run(handover.ActionReplyOrWait(), tracker(text="oi", intent="greet", events=earlier))
    assert responses(messages) == ["utter_greet_again"]
    new_session = [*earlier, {"event": "session_started"}, said]
    messages, _ = run(handover.ActionReplyOrWait(), tracker(text="oi", intent="greet", events=new_session))
    assert responses(messages) == ["utter_greet"]


def test_a_no_thanks_after_an_answer_closes_politely(actions_environment):
    """ "tidak, terima kasih" (deny) with no question open: nothing more, not the topic list again;
    at the start of a conversation it still gets "how can I help"."""
    said = {"event": "user", "text": "tidak, terima kasih", "parse_data": {"intent": {"name": "deny"}}}
    answered = [{"event": "session_started"}, {"event": "bot", "text": "Jam layanan..."}, said]
    no = tracker(text="tidak, terima kasih", intent="deny", events=answered, sender="rest:nothing-more")
    assert responses(run(handover.ActionReplyOrWait(), no)[0]) == ["utter_nothing_more"]
    first = tracker(text="tidak", intent="deny", events=[{"event": "session_started"}, said], sender="rest:first")
    assert responses(run(handover.ActionReplyOrWait(), first)[0]) == ["utter_how_can_i_help"]


def test_a_wait_keeps_the_question_the_bot_asked_open(actions_environment):
    """'bentar ya kak, tanya suami dulu' under the due-date confirmation is no answer to it."""
    slots = verified_slots(AGUS, offer_open=True, pending_offer="due_date_confirm")
    t = tracker(slots=slots, text="bentar ya kak tanya suami dulu", intent="hold_on")
    messages, events = run(handover.ActionReplyOrWait(), t)
    assert responses(messages) == ["utter_hold_on"] and events == []


def test_not_understanding_keeps_the_question_the_bot_asked_open(actions_environment):
    """'gak ngerti' under the due-date confirmation is no "no": the question stays open."""
    slots = verified_slots(AGUS, offer_open=True, pending_offer="due_date_confirm")
    t = tracker(slots=slots, text="gak ngerti maksudnya", intent="confused")
    messages, events = run(handover.ActionReplyOrWait(), t)
    assert responses(messages) == ["utter_confused"] and events == []


def test_a_day_said_just_before_the_report_is_used(monkeypatch):
    monkeypatch.setenv("CRM_TODAY", WEDNESDAY.isoformat())
    common.reset()
    said = [("motor sy ilang kemarin sore kak", "nlu_fallback"), ("mau lapor kehilangan", "report_vehicle_theft")]
    events = [
        {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}, "input_channel": "rest"}
        for text, intent in said
    ]
    t = tracker(text=said[-1][0], intent=said[-1][1], slots={"verified": True}, events=events)
    result = asyncio.run(cases.ValidateTheftForm().run(CollectingDispatcher(), t, DOMAIN))
    assert slot_events(result)["incident_date"] == "2026-12-01"


def test_the_earliest_day_offered_is_a_day(actions_environment):
    """'yang paling cepet aja' at the date buttons, whatever the classifier made of it."""
    slots = verified_slots(AGUS, offer_open=True, pending_offer="bpkb_pickup")
    t = tracker(slots=slots, text="yang paling cepet aja", intent="out_of_scope")
    messages, _ = run(handover.ActionReplyOrWait(), t)
    assert responses(messages) == ["utter_request_created"] and "23 November 2026" in messages[0]["details"]


@pytest.mark.parametrize(
    "action, text, intent",
    [
        (handover.ActionReplyOrWait(), "harus bawa apa aja", "out_of_scope"),
        (fallback.ActionFallback(), "ambilnya dimana ya", "nlu_fallback"),
        (fallback.ActionFallback(), "bisa diwakilkan ga?", "nlu_fallback"),
        (handover.ActionReplyOrWait(), "bisa diambil sama adik saya?", "out_of_scope"),
    ],
)
def test_a_question_at_the_date_buttons_gets_the_answer_again(actions_environment, action, text, intent):
    """A question about the pickup while the bot waits for a day is answered by the pickup answer
    (where, what to bring), the buttons with it; not "the date could not be read". Who may collect
    for the customer is answered alone."""
    slots = verified_slots(AGUS, offer_open=True, pending_offer="bpkb_pickup")
    messages, events = run(action, tracker(slots=slots, text=text, intent=intent))
    whole = ["utter_offer_answer_again", "utter_bpkb_ready", "utter_offer_pickup_day"]
    assert responses(messages) == (
        ["utter_by_proxy", "utter_offer_pickup_day"] if "adik" in text or "wakil" in text else whole
    )
    assert slot_events(events)["pending_offer"] == "bpkb_pickup"
    unread, _ = run(action, tracker(slots=slots, text="yg itu aja", intent=intent))
    assert responses(unread) == ["utter_day_not_understood"]


def test_who_may_collect_right_after_the_pickup_was_booked_is_answered_alone(actions_environment):
    """ "yang ambil istri saya boleh?" right after the pickup day was booked repeated the whole
    pickup answer and offered the days again; it gets who may collect, nothing more."""
    from actions import account

    text = "yang ambil istri saya boleh?"
    events = [
        {"event": "user", "text": "bisa diambil hari sabtu?"},
        {"event": "bot", "text": "...", "metadata": {"utter_action": "utter_request_created"}},
        {"event": "user", "text": text},
    ]
    slots = verified_slots(AGUS, account_topic="bpkb_pickup")
    t = tracker(slots=slots, text=text, intent="ask_bpkb_pickup", events=events)
    messages, events_out = run(account.ActionAnswerAccount(), t)
    assert responses(messages) == ["utter_by_proxy"]
    assert slot_events(events_out)["offer_open"] is False


def test_who_may_collect_a_borrowed_bpkb_is_answered_alone(actions_environment):
    """ "boleh diwakilkan?" under the BPKB loan's day buttons: who may collect, the buttons again;
    the whole STNK answer is not repeated."""
    slots = verified_slots(BUDI, account_topic="stnk_renewal", offer_open=True, pending_offer="bpkb_loan")
    messages, events = run(
        fallback.ActionFallback(), tracker(slots=slots, text="boleh diwakilkan?", intent="nlu_fallback")
    )
    assert responses(messages) == ["utter_by_proxy", "utter_offer_loan_day"]
    assert slot_events(events)["pending_offer"] == "bpkb_loan"


def test_a_follow_up_hours_question_keeps_the_city(monkeypatch):
    monkeypatch.setenv("CRM_TODAY", WEDNESDAY.isoformat())
    common.reset()
    first, events = run(hours.ActionAnswerOfficeHours(), tracker(text="jam buka cabang bandung hari sabtu?"))
    assert "Bandung" in first[0]["branch_name"] and slot_events(events)["hours_city"] == "Bandung"
    again = tracker(text="kalau tgl 25 desember buka ga", slots={"hours_city": "Bandung"})
    messages, _ = run(hours.ActionAnswerOfficeHours(), again)
    assert responses(messages) == ["utter_office_hours"] and messages[0]["day"].startswith("Jumat, 25 Desember")
    # a city of two branches: the follow-up day is answered for both
    first, events = run(hours.ActionAnswerOfficeHours(), tracker(text="cabang jakarta buka sampai jam brp hari ini"))
    assert len(first) == 2
    again = tracker(text="kalau besok?", slots={"hours_city": slot_events(events)["hours_city"]})
    messages, _ = run(hours.ActionAnswerOfficeHours(), again)
    assert [m["branch_name"] for m in messages] == [m["branch_name"] for m in first]


# --- several questions in one message ----------------------------------------------------------


def _user(text: str, intent: str, **parse: Any) -> dict:
    data = {"text": text, "intent": {"name": intent, "confidence": 0.95}, "entities": [], **parse}
    return {"event": "user", "text": text, "parse_data": data}


def test_the_other_question_of_a_message_is_offered_after_the_answer():
    """ "denda saya berapa? terus bpkb kapan bisa diambil?": the BPKB answer comes after the
    credentials, then the late fee as a button; once, not at a later answer."""
    question = "denda saya berapa? terus bpkb kapan bisa diambil?"
    asked = [{"name": "ask_late_fee", "confidence": 0.99}, {"name": "ask_bpkb_pickup", "confidence": 0.99}]
    history = [
        _user(question, "ask_bpkb_pickup", also_asked=asked),
        {"event": "action", "name": "verification_form"},
        _user("K20123000002 05-03-1990", "inform"),
        {"event": "action", "name": "verification_form"},
    ]
    slots = verified_slots(SITI, account_topic="bpkb_pickup", topic_text=question)
    t = tracker(slots=slots, text="K20123000002 05-03-1990", events=history)
    messages, _ = run(account.ActionAnswerAccount(), t)
    offered = [m for m in messages if m.get("response") == "utter_also_asked"]
    assert [b["payload"] for b in offered[0]["buttons"]] == ["/ask_late_fee"]
    # a later answer (the button pressed) offers nothing again
    later = [*history, {"event": "action", "name": "action_answer_account"}, _user("/ask_late_fee", "ask_late_fee")]
    slots = {**slots, "account_topic": "late_fee"}
    messages, _ = run(account.ActionAnswerAccount(), tracker(slots=slots, text="/ask_late_fee", events=later))
    assert "utter_also_asked" not in responses(messages) and "utter_late_fee_breakdown" in responses(messages)


def test_a_question_the_answer_already_covers_is_not_offered():
    """ "stnk ... mau perpanjang 5 tahunan, bpkb nya gimana": the STNK answer is the BPKB loan, so
    "Pengambilan BPKB" is not offered after it; a late-fee question in the same message is."""
    text = "stnk saya udah mati mau perpanjang 5 tahunan, bpkb nya gimana? dendanya juga berapa"
    asked = [{"name": "ask_bpkb_pickup", "confidence": 0.95}, {"name": "ask_late_fee", "confidence": 0.95}]
    history = [_user(text, "ask_stnk_renewal", also_asked=asked)]
    slots = verified_slots(BUDI, account_topic="stnk_renewal", topic_text=text)
    messages, _ = run(account.ActionAnswerAccount(), tracker(slots=slots, text=text, events=history))
    offered = [m for m in messages if m.get("response") == "utter_also_asked"]
    assert [b["payload"] for b in offered[0]["buttons"]] == ["/ask_late_fee"]


def test_one_question_offers_nothing_more():
    history = [_user("denda saya berapa", "ask_late_fee")]
    slots = verified_slots(SITI, account_topic="late_fee", topic_text="denda saya berapa")
    messages, _ = run(account.ActionAnswerAccount(), tracker(slots=slots, text="denda saya berapa", events=history))
    assert "utter_also_asked" not in responses(messages)


def test_office_hours_offer_the_other_question_too(monkeypatch):
    monkeypatch.setenv("CRM_TODAY", WEDNESDAY.isoformat())
    common.reset()
    text = "kantor cabang medan buka jam berapa? terus bpkb kapan bisa diambil?"
    history = [_user(text, "ask_office_hours", also_asked=[{"name": "ask_bpkb_pickup", "confidence": 0.97}])]
    messages, _ = run(hours.ActionAnswerOfficeHours(), tracker(text=text, intent="ask_office_hours", events=history))
    assert responses(messages)[-1] == "utter_also_asked"
    assert [b["title"] for b in messages[-1]["buttons"]] == ["Pengambilan BPKB"]


@pytest.mark.parametrize(
    "action, intent",
    [
        (handover.ActionReplyOrWait(), "out_of_scope"),
        (fallback.ActionFallback(), "nlu_fallback"),
        (handover.ActionReplyOrWait(), "greet"),  # "alamat?": the letters of "selamat"
        (handover.ActionReplyOrWait(), "inform"),
    ],
)
def test_a_branch_phone_or_address_is_answered_with_the_branch(monkeypatch, action, intent):
    """ "minta nomor telepon cabang bandung" read as unrelated, unsure, a greeting or an answer:
    the branch's answer, which carries its address and phone, also when asked right after the
    branch's hours; without a branch named, the usual reply."""
    monkeypatch.setenv("CRM_TODAY", WEDNESDAY.isoformat())
    common.reset()
    messages, _ = run(action, tracker(text="minta nomor telepon cabang bandung", intent=intent, sender=f"tel-{intent}"))
    assert responses(messages)[0] == "utter_office_hours" and "Bandung" in messages[0]["branch_name"]
    assert messages[0]["phone"] and messages[0]["address"]
    messages, _ = run(action, tracker(text="minta nomor telepon pacar saya", intent=intent, sender=f"tel2-{intent}"))
    assert "utter_office_hours" not in responses(messages)
    # "alamatnya dimana ya" right after Bekasi's hours: Bekasi's answer again, with its address
    history = [
        {"event": "user", "text": "jam buka cabang bekasi"},
        {"event": "action", "name": "action_answer_office_hours"},
        {"event": "slot", "name": "hours_city", "value": "Bekasi"},
        {"event": "user", "text": "alamatnya dimana ya"},
    ]
    after = tracker(
        text="alamatnya dimana ya",
        intent=intent,
        sender=f"adr-{intent}",
        slots={"hours_city": "Bekasi"},
        events=history,
    )
    messages, _ = run(action, after)
    assert responses(messages)[0] == "utter_office_hours" and "Bekasi" in messages[0]["branch_name"]


@pytest.mark.parametrize(
    "action, intent",
    [(handover.ActionReplyOrWait(), "out_of_scope"), (fallback.ActionFallback(), "nlu_fallback")],
)
def test_paying_through_a_named_channel_is_a_payment_method_question(action, intent):
    """ "aku mau bayar via shopeepay bisa?" read as unrelated or unsure: that channel's steps; a
    way not accepted is said so; where to pay ("oke, bayarnya kemana?"), every channel. Another
    party's bill, a payment already made, a channel named without paying, or a late payment get the
    usual reply."""
    common.reset()
    messages, _ = run(action, tracker(text="aku mau bayar via shopeepay bisa?", intent=intent, sender=f"sp-{intent}"))
    assert responses(messages)[0] == "utter_payment_steps" and "OVO" in messages[0]["title"]
    messages, _ = run(action, tracker(text="byr cicilan pake kredivo bisa ga", intent=intent, sender=f"kv-{intent}"))
    assert responses(messages)[0] == "utter_payment_not_accepted"
    messages, _ = run(action, tracker(text="oke, bayarnya kemana?", intent=intent, sender=f"wh-{intent}"))
    assert responses(messages)[0] == "utter_payment_methods_general"  # where to pay: every channel
    for text in (
        "bayar listrik pakai gopay gimana",
        "padahal sudah setor lewat atm",
        "saldo gopay saya hilang",
        "bayar pdam lewat mana",
        "kalau telat bayar gimana",
    ):
        messages, _ = run(action, tracker(text=text, intent=intent, sender=f"no-{intent}-{len(text)}"))
        assert not {"utter_payment_steps", "utter_payment_not_accepted", "utter_payment_methods_general"} & set(
            responses(messages)
        ), text


@pytest.mark.parametrize(
    "action, intent",
    [(handover.ActionReplyOrWait(), "out_of_scope"), (fallback.ActionFallback(), "nlu_fallback")],
)
def test_a_wish_to_stop_our_messages_is_told_how(action, intent):
    """ "stop kirim pesan promo ke saya" read as unrelated or unsure: how to stop them."""
    messages, _ = run(action, tracker(text="stop kirim pesan promo ke saya", intent=intent, sender=f"stop-{intent}"))
    assert responses(messages) == ["utter_opt_out_how"]


@pytest.mark.parametrize(
    "action, intent",
    [(handover.ActionReplyOrWait(), "out_of_scope"), (fallback.ActionFallback(), "nlu_fallback")],
)
def test_the_statement_by_email_is_answered_after_the_statement(action, intent):
    """ "kirim ke email aja" right after the statement: it is sent in this chat (or by staff), not
    "di luar layanan saya"; the same words with no statement given get the usual reply."""
    common.reset()
    after = verified_slots(SITI, account_topic="statement")
    messages, _ = run(action, tracker(slots=after, text="kirim ke email aja", intent=intent, sender=f"em-{intent}"))
    assert responses(messages) == ["utter_statement_by_email"]
    before = verified_slots(SITI, account_topic="instalment")
    messages, _ = run(action, tracker(slots=before, text="kirim ke email aja", intent=intent, sender=f"em2-{intent}"))
    assert "utter_statement_by_email" not in responses(messages)


@pytest.mark.parametrize(
    "action, intent",
    [(handover.ActionReplyOrWait(), "out_of_scope"), (fallback.ActionFallback(), "nlu_fallback")],
)
def test_where_to_find_the_contract_number_is_answered(action, intent):
    """ "nomor kontrak liat dimana ya" outside the verification form: where it is written, and a
    person; not "di luar layanan saya"."""
    common.reset()
    for text in ("nomor kontrak liat dimana ya", "saya ga tau nomor kontraknya"):
        messages, _ = run(action, tracker(text=text, intent=intent, sender=f"nk-{intent}-{len(text)}"))
        assert responses(messages) == ["utter_contract_number_help"], text


@pytest.mark.parametrize(
    "action, intent",
    [(handover.ActionReplyOrWait(), "out_of_scope"), (fallback.ActionFallback(), "nlu_fallback")],
)
def test_paid_yet_billed_is_the_payment_check(action, intent):
    """ "saya dapat sms tunggakan padahal sudah setor" read as unrelated or unsure: the payment
    check, after verification, as when the NLU places it; a payment still to make is not."""
    common.reset()
    text = "saya dapat sms tunggakan padahal sudah setor"
    _, events = run(action, tracker(text=text, intent=intent, sender=f"pb-{intent}"))
    assert slot_events(events)["account_topic"] == "payment_not_posted" and slot_events(events)["topic_text"] == text
    assert {"event": "followup", "name": "verification_form"} in [
        {k: e.get(k) for k in ("event", "name")} for e in events
    ]
    _, events = run(action, tracker(text="tagihan saya mau bayar lewat atm", intent=intent, sender=f"pb2-{intent}"))
    assert slot_events(events).get("account_topic") != "payment_not_posted"
