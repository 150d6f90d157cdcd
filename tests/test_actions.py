"""Custom actions against a real seeded database, run as the action server runs them."""

from __future__ import annotations

import asyncio
from typing import List

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import account, common, fallback, handover, hours, session, verification
from crm import policy
from crm.db import session_scope
from crm.models import Case, CaseKind, Escalation, EscalationReason, RequestKind, ServiceRequest
from crm.responses import render
from tests.support.actions import (  # noqa: F401
    AGUS,
    BUDI,
    DEWI_CAR,
    DEWI_LOAN,
    RUDI,
    SITI,
    responses,
    run,
    slot_events,
    tracker,
    verified_slots,
)

FORM = verification.ValidateVerificationForm()

pytestmark = pytest.mark.usefixtures("actions_environment")


def validate(slot: str, value: str, **kwargs):
    dispatcher = CollectingDispatcher()
    t = tracker(text=value, **kwargs)
    result = getattr(FORM, f"validate_{slot}")(value, dispatcher, t, {})
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return result, responses(dispatcher.messages)


# --- session start -----------------------------------------------------------------------


def test_session_start_sets_brand_and_listens():
    messages, events = run(session.ActionSessionStart(), tracker())
    assert [e["event"] for e in events] == ["session_started", "slot", "action"]
    assert events[1] == {"event": "slot", "timestamp": None, "name": "brand_name", "value": "Uji Finance"}
    assert messages == []


# --- verification form ---------------------------------------------------------------------


def test_verified_with_one_contract_selects_it():
    result, said = validate("date_of_birth", "17 Agustus 1985", slots={"contract_number": BUDI})
    assert said == ["utter_verified"]
    assert result["verified"] is True and result["selected_contract"] == BUDI
    assert result["date_of_birth"] is None  # the birth date is not kept in the tracker


def test_contract_and_birth_date_in_one_message():
    result, said = validate("contract_number", "K10124000001 lahir 17-08-1985")
    assert said == ["utter_verified"] and result["verified"] is True


def test_contract_and_birth_date_sent_before_the_question_are_used_when_verification_opens():
    """ "K10124000001 17-08-1985" first (the number fills the slot), then "mau ganti jatuh tempo"
    opens the form, which validates the number it already has: the date sent with it counts."""
    said_first = {"event": "user", "text": "K10124000001 17-08-1985", "parse_data": {}}
    asked = {"event": "user", "text": "mau ganti jatuh tempo", "parse_data": {}}

    def prefilled(events):
        dispatcher = CollectingDispatcher()
        t = tracker(text="mau ganti jatuh tempo", intent="request_due_date_change", events=events)
        return asyncio.run(FORM.validate_contract_number(BUDI, dispatcher, t, {})), responses(dispatcher.messages)

    result, said = prefilled([said_first, asked])
    assert said == ["utter_verified"] and result["verified"] is True
    result, said = prefilled([said_first, {"event": "session_started"}, asked])
    assert said == [] and result == {"contract_number": BUDI}  # a new session starts afresh


def test_a_birth_date_sent_on_its_own_after_the_number_is_used_when_verification_opens():
    """ "K10124000001", then "17-08-1985", then "mau ganti jatuh tempo": not asked for the date
    again. Only an answer (`inform`) sent after the number counts, and not past another number."""
    number = {"event": "user", "text": "K10124000001", "parse_data": {"intent": {"name": "inform"}}}
    asked = {"event": "user", "text": "mau ganti jatuh tempo", "parse_data": {}}

    def born(text: str, intent: str = "inform", before=(), after=()):
        dated = {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}
        dispatcher = CollectingDispatcher()
        t = tracker(
            text=asked["text"], intent="request_due_date_change", events=[*before, number, *after, dated, asked]
        )
        return asyncio.run(FORM.validate_contract_number(BUDI, dispatcher, t, {}))

    assert born("17-08-1985")["verified"] is True
    assert born("lahir 17 agustus 1985")["verified"] is True
    assert born("17-08-1985", intent="report_payment_not_posted") == {"contract_number": BUDI}
    other = {"event": "user", "text": "K20123000002", "parse_data": {"intent": {"name": "inform"}}}
    assert born("17-08-1985", after=[other]) == {"contract_number": BUDI}  # the date is the other number's
    dated_first = {"event": "user", "text": "17-08-1985", "parse_data": {"intent": {"name": "inform"}}}
    dispatcher = CollectingDispatcher()
    t = tracker(text=asked["text"], intent="request_due_date_change", events=[dated_first, number, asked])
    assert asyncio.run(FORM.validate_contract_number(BUDI, dispatcher, t, {})) == {"contract_number": BUDI}


def test_a_birth_date_on_its_own_is_looked_for_among_the_newest_messages_only(monkeypatch):
    """Reading a date costs up to 0.1 s: hundreds of messages with digits after the number do not
    make verification read each of them, and a date sent that long ago is asked for again."""
    number = {"event": "user", "text": "K10124000001", "parse_data": {"intent": {"name": "inform"}}}
    dated = {"event": "user", "text": "17-08-1985", "parse_data": {"intent": {"name": "inform"}}}
    noise = [
        {"event": "user", "text": f"{i} {i + 1}", "parse_data": {"intent": {"name": "inform"}}} for i in range(200)
    ]
    asked = {"event": "user", "text": "mau ganti jatuh tempo", "parse_data": {}}
    read = []
    real = verification.birth_date_in
    monkeypatch.setattr(verification, "birth_date_in", lambda text: read.append(text) or real(text))
    t = tracker(text=asked["text"], intent="request_due_date_change", events=[number, dated, *noise, asked])
    result = asyncio.run(FORM.validate_contract_number(BUDI, CollectingDispatcher(), t, {}))
    assert result == {"contract_number": BUDI} and len(read) <= verification._ANSWER_LOOKBACK


def test_a_question_that_says_the_contract_number_is_lost_gets_where_it_is_first():
    """ "mau tanya cicilan tapi lupa nomor kontrak" starts verification: where the number is
    written (and a person) comes with the question for it; a plain question gets the question."""
    for text, helped in (("saya mau tanya cicilan tapi lupa nomor kontrak", True), ("cicilan saya berapa", False)):
        dispatcher = CollectingDispatcher()
        t = tracker(text=text, intent="ask_instalment", sender="forgot", active_loop="verification_form")
        assert asyncio.run(FORM.extract_contract_number(dispatcher, t, {})) == {}
        assert (responses(dispatcher.messages) == ["utter_contract_number_help"]) is helped


def test_invalid_inputs_are_explained():
    assert validate("contract_number", "12345") == ({"contract_number": None}, ["utter_invalid_contract_number"])
    for tried in ("K1012400001", "1012400000", "08123456789", "k 101"):  # a number tried, badly: the format
        assert validate("contract_number", tried)[1] == ["utter_invalid_contract_number"], tried
    # the eleven digits alone, the K left out: the number (a phone number is not)
    assert validate("contract_number", "10124000001")[0] == {"contract_number": BUDI}
    # no number tried at all: where to find it, and a person
    assert validate("contract_number", "saya lupa nomor kontrak") == (
        {"contract_number": None},
        ["utter_contract_number_help"],
    )
    # "kalau 10 hari?" after "telat 3 hari kena denda berapa": the question changed, no number
    assert validate("contract_number", "kalau 10 hari?", slots={"account_topic": "late_fee"}) == (
        {"contract_number": None, "topic_text": "kalau 10 hari?"},
        ["utter_late_fee_days_noted"],
    )
    assert validate("contract_number", "kalau 10 hari?", slots={"account_topic": "instalment"}) == (
        {"contract_number": None},
        ["utter_contract_number_help"],
    )
    assert validate("date_of_birth", "kemarin", slots={"contract_number": BUDI}) == (
        {"date_of_birth": None},
        ["utter_invalid_date_of_birth"],
    )
    # courtesy is no date that failed to read: the question is only asked again
    for text, intent in (("makasih", "thank"), ("oke", "affirm")):
        assert validate("date_of_birth", text, slots={"contract_number": BUDI}, intent=intent) == (
            {"date_of_birth": None},
            [],
        )


def test_the_birth_date_is_asked_with_thanks_only_right_after_the_contract_number():
    user = {"event": "user", "text": "K10124000001", "parse_data": {}}
    number_set = {"event": "slot", "name": "contract_number", "value": BUDI}
    asked = verification.ActionAskDateOfBirth()
    assert responses(run(asked, tracker(events=[user, number_set]))[0]) == ["utter_ask_date_of_birth"]
    # a date it could not read, or a question answered in between: asked again, plainly
    again = {"event": "user", "text": "kemarin", "parse_data": {}}
    assert responses(run(asked, tracker(events=[user, number_set, again]))[0]) == ["utter_ask_date_of_birth_again"]


def test_failures_count_and_the_third_locks_and_escalates(actions_environment):
    result, said = validate("date_of_birth", "01-01-1980", slots={"contract_number": BUDI})
    assert said == ["utter_verification_failed"] and result["verification_failures"] == 1
    assert "verified" not in result and result["contract_number"] is None
    result, said = validate(
        "date_of_birth",
        "01-01-1980",
        slots={"contract_number": BUDI, "verification_failures": 2.0},
        sender="locked-conv",
    )
    assert result["verification_locked"] is True and said == []
    with session_scope(actions_environment) as session:
        escalation = session.execute(select(Escalation).filter_by(conversation_id="locked-conv")).scalar_one()
        assert escalation.reason is EscalationReason.VERIFICATION


def test_required_slots_follow_the_state(actions_environment):
    async def required(slots):
        return await FORM.required_slots(
            ["contract_number", "date_of_birth", "mother_name", "one_time_code"],
            CollectingDispatcher(),
            tracker(slots=slots),
            {},
        )

    assert asyncio.run(required({})) == ["contract_number", "date_of_birth"]
    assert asyncio.run(required({"pending_proof": "abc"})) == ["mother_name"]
    # the contract is chosen by the verification itself: nothing is asked after it
    assert asyncio.run(required({"verified": True})) == []
    assert asyncio.run(required({"verification_locked": True})) == []


@pytest.mark.parametrize("birth_date", ["17-08-1985", "18-08-1985"])
def test_whatsapp_from_another_number_asks_the_mother_s_name_whatever_the_birth_date(actions_environment, birth_date):
    result, said = validate(
        "date_of_birth",
        birth_date,
        slots={"contract_number": BUDI},
        channel="whatsapp",
        sender="whatsapp:6285700000000",
    )
    assert said == [] and "verified" not in result and result["pending_proof"]
    assert "verification_failures" not in result
    proof = result["pending_proof"]
    right, said = validate(
        "mother_name",
        "Sri Wahyuni",
        slots={"contract_number": BUDI, "pending_proof": proof},
        channel="whatsapp",
        sender="whatsapp:6285700000000",
    )
    if birth_date == "17-08-1985":
        assert right["verified"] is True and said == ["utter_verified"]
    else:
        assert "verified" not in right and right["verification_failures"] == 1
        assert said == ["utter_verification_failed"] and right["pending_proof"] is None


def test_a_locked_contract_ends_the_form_with_its_own_answer(actions_environment):
    for n in range(policy.VERIFY_CONTRACT_MAX_FAILURES):
        validate("date_of_birth", f"0{n + 1}-01-1980", slots={"contract_number": BUDI}, sender=f"rest:try-{n}")
    result, said = validate("date_of_birth", "17-08-1985", slots={"contract_number": BUDI}, sender="rest:owner")
    assert result["verification_locked"] is True and result["verification_lock_kind"] == "contract"
    assert "verified" not in result
    messages, _ = run(account.ActionAnswerAccount(), tracker(slots=result))
    assert responses(messages) == ["utter_verification_locked_contract"]


def test_whatsapp_from_the_contracts_number_is_enough():
    result, _ = validate(
        "date_of_birth",
        "17-08-1985",
        slots={"contract_number": BUDI},
        channel="whatsapp",
        sender="whatsapp:6281210000001",
    )
    assert result["verified"] is True


def test_several_contracts_the_one_named_or_typed_is_chosen(actions_environment):
    """ "mau nanya cicilan raize saya", then the Yaris Cross's credentials: the Raize; a question
    naming no car (or both) gets the contract whose number was typed. Either way the customer is
    told which contract the answer is about and which other contracts they have."""
    slots = {"contract_number": DEWI_LOAN, "topic_text": "selamat sore, mau nanya cicilan raize saya"}
    result, said = validate("date_of_birth", "23-11-1988", slots=slots, sender="rest:raize")
    assert result["verified"] is True and result["selected_contract"] == DEWI_CAR
    assert said == ["utter_verified", "utter_other_contracts"]
    for asked in ("mau nanya cicilan saya", "cicilan raize sama yaris berapa"):
        plain = {"contract_number": DEWI_LOAN, "topic_text": asked}
        result, _ = validate("date_of_birth", "23-11-1988", slots=plain, sender="rest:plain")
        assert result["verified"] is True and result["selected_contract"] == DEWI_LOAN, asked
    dispatcher = CollectingDispatcher()
    t = tracker(slots={"contract_number": DEWI_CAR})
    asyncio.run(FORM.validate_date_of_birth("23-11-1988", dispatcher, t, {}))
    note = dispatcher.messages[1]
    assert note["response"] == "utter_other_contracts" and note["contract_number"] == DEWI_CAR
    assert DEWI_LOAN in note["others"] and "Yaris Cross" in note["others"] and DEWI_CAR not in note["others"]
    # one contract: no note
    _, said = validate("date_of_birth", "17-08-1985", slots={"contract_number": BUDI}, sender="rest:one")
    assert said == ["utter_verified"]


# --- answers -------------------------------------------------------------------------------


_verified = verified_slots


def test_the_other_car_named_after_an_answer_gets_the_same_answer(actions_environment):
    """ "kalau yang raize?" (or "yang satunya?") after the Yaris Cross's instalment: read as
    unrelated or unsure, it points to the customer's other contract, so the instalment of that one
    follows."""
    from actions import handover

    slots = _verified(DEWI_LOAN, account_topic="instalment")
    for action, intent in ((handover.ActionReplyOrWait(), "out_of_scope"), (fallback.ActionFallback(), "nlu_fallback")):
        for text in ("kalau yang raize?", "kalau yang satunya?", "mobil yg lain gmn"):  # of two, "the other"
            messages, events = run(action, tracker(slots=slots, text=text, intent=intent))
            assert responses(messages)[0] == "utter_instalment_summary", (intent, text)
            assert slot_events(events)["selected_contract"] == DEWI_CAR
    # naming no contract of theirs, or nothing answered yet: as before
    unnamed, _ = run(
        handover.ActionReplyOrWait(), tracker(slots=slots, text="kalau yang avanza?", intent="out_of_scope")
    )
    assert responses(unnamed) == ["utter_out_of_scope"]
    fresh = _verified(DEWI_LOAN)
    unasked, _ = run(
        handover.ActionReplyOrWait(), tracker(slots=fresh, text="kalau yang raize?", intent="out_of_scope")
    )
    assert responses(unasked) == ["utter_out_of_scope"]


def test_a_message_of_sounds_only_is_not_told_it_is_out_of_scope(actions_environment):
    """ "hmm", "haha", "?" reach the NLU as out_of_scope (they mean nothing), but nothing was asked
    to be refused: the bot offers help, or after it has spoken, says it is there for more."""
    from actions import handover

    for text in ("hmm", "hahaha", "?"):
        first, _ = run(handover.ActionReplyOrWait(), tracker(text=text, intent="out_of_scope"))
        assert responses(first) == ["utter_how_can_i_help"], text
        later = [{"event": "bot", "text": "...", "metadata": {"utter_action": "utter_instalment_summary"}}]
        after, _ = run(handover.ActionReplyOrWait(), tracker(text=text, intent="out_of_scope", events=later))
        assert responses(after) == ["utter_nothing_more"], text
    asked, _ = run(handover.ActionReplyOrWait(), tracker(text="resep rendang dong", intent="out_of_scope"))
    assert responses(asked) == ["utter_out_of_scope"]


def test_the_other_car_named_alone_is_no_complaint(actions_environment):
    """ "yang yaris cross juga dong" after the Raize's statement leaned to a complaint (0.5) and got
    "do you want to complain?"; naming only the other car, it is the same answer for that car. A
    message that says more than the car keeps the confirming question."""
    slots = _verified(DEWI_CAR, account_topic="instalment")

    def fallback_with_complaint(text):
        t = tracker(slots=slots, text=text, intent="nlu_fallback")
        t.latest_message["intent_ranking"] = [
            {"name": "nlu_fallback", "confidence": 0.75},
            {"name": "complain", "confidence": 0.5},
        ]
        return run(fallback.ActionFallback(), t)

    messages, events = fallback_with_complaint("yang yaris cross juga dong")
    assert responses(messages)[0] == "utter_instalment_summary"
    assert slot_events(events)["selected_contract"] == DEWI_LOAN
    messages, _ = fallback_with_complaint("yang yaris cross pelayanannya parah")
    assert responses(messages) == ["utter_confirm_complain"]


def test_nothing_about_an_account_before_verification():
    for topic in account.ANSWERS:
        messages, _ = run(
            account.ActionAnswerAccount(), tracker(slots={"account_topic": topic, "selected_contract": BUDI})
        )
        assert messages == []


def test_injected_contract_of_someone_else_reveals_nothing():
    slots = _verified(BUDI, account_topic="instalment")
    slots["selected_contract"] = SITI
    messages, _ = run(account.ActionAnswerAccount(), tracker(slots=slots))
    assert responses(messages) == ["utter_how_can_i_help"]


def test_instalment_answer_says_when_a_moved_autodebit_is_taken(actions_environment):
    """The next instalment falls on a Sunday (20 Dec) and is paid by autodebit: the answer says the
    debit is on the Friday before; a due date on a working day says nothing more."""
    fortuner = _verified(RUDI, account_topic="instalment")
    messages, _ = run(account.ActionAnswerAccount(), tracker(slots=fortuner))
    assert responses(messages) == ["utter_instalment_summary", "utter_instalment_debit_moved", "utter_instalment_table"]
    assert messages[1]["bank"] == "BRI" and messages[1]["debit_date"].startswith("Jumat, 18 Desember")
    budi, _ = run(account.ActionAnswerAccount(), tracker(slots=_verified(BUDI, account_topic="instalment")))
    assert "utter_instalment_debit_moved" not in responses(budi)  # 25 Nov is a Wednesday


def test_why_the_bill_changed_is_answered_after_the_instalment():
    """ "kenapa cicilan saya bulan ini lebih besar dari biasanya?": the figures, then that the
    instalment itself is fixed and what makes a bill larger; a plain question gets the figures."""
    asked = _verified(BUDI, account_topic="instalment", topic_text="kenapa cicilan saya bulan ini lebih besar?")
    messages, _ = run(account.ActionAnswerAccount(), tracker(slots=asked))
    assert responses(messages)[-1] == "utter_instalment_why_changed" and messages[-1]["amount"] == "Rp5.425.000"
    plain = _verified(BUDI, account_topic="instalment", topic_text="cicilan saya berapa")
    messages, _ = run(account.ActionAnswerAccount(), tracker(slots=plain))
    assert "utter_instalment_why_changed" not in responses(messages)


def test_instalment_answer_with_arrears():
    messages, events = run(account.ActionAnswerAccount(), tracker(slots=_verified(SITI, account_topic="instalment")))
    assert responses(messages) == ["utter_instalment_summary", "utter_instalment_arrears", "utter_instalment_table"]
    assert messages[1]["arrears_count"] == 2 and messages[1]["arrears_fees"].startswith("Rp")
    table = messages[2]["table"].splitlines()
    assert len(table) == 6 and "TERLAMBAT" in table[3] and "lunas" in table[0]
    assert slot_events(events)["offer_open"] is False


def test_locked_conversation_gets_the_lock_message_and_when_staff_answer_only():
    messages, _ = run(
        account.ActionAnswerAccount(),
        tracker(slots={**_verified(BUDI, account_topic="instalment"), "verification_locked": True}),
    )
    said = responses(messages)
    assert said[0] == "utter_verification_locked" and len(said) == 2
    assert said[1] in ("utter_handover_wait_agent", "utter_handover_after_hours")


def test_bpkb_still_held_says_when_and_what_early_payoff_changes(actions_environment):
    """ "kalau mau lunasin semua, bpkb bisa langsung diambil?": the day at the usual pace, and how
    long after an early payoff."""
    messages, _ = run(account.ActionAnswerAccount(), tracker(slots=_verified(BUDI, account_topic="bpkb_pickup")))
    assert responses(messages) == ["utter_bpkb_active"]
    assert messages[0]["ready_days"] == policy.BPKB_READY_AFTER_DAYS and messages[0]["remaining_count"] > 0
    text = render("utter_bpkb_active", **{k: v for k, v in messages[0].items() if k != "response"})
    assert f"sekitar {policy.BPKB_READY_AFTER_DAYS} hari setelah pelunasan" in text


def test_a_double_debit_is_offered_as_a_complaint_not_answered_with_the_schedule(actions_environment):
    slots = _verified(BUDI, account_topic="autodebit", topic_text="autodebet saya kepotong 2 kali bulan ini")
    messages, _ = run(account.ActionAnswerAccount(), tracker(slots=slots))
    assert responses(messages) == ["utter_double_debit"]
    # "iya" typed instead of the button files the complaint with the words of the double debit
    open_slots = {**slots, "offer_open": True, "pending_offer": "complaint"}
    history = [
        {"event": "user", "text": "autodebet saya kepotong 2 kali bulan ini", "parse_data": {}},
        {"event": "user", "text": "iya", "parse_data": {}},
    ]
    messages, events = run(
        account.ActionHandleOffer(), tracker(slots=open_slots, intent="affirm", text="iya", events=history)
    )
    assert responses(messages)[0] == "utter_complaint_received" and slot_events(events)["offer_open"] is False
    with session_scope(actions_environment) as session:
        case = session.execute(select(Case).where(Case.reference == messages[0]["reference"])).scalar_one()
        assert case.kind is CaseKind.COMPLAINT and case.data["message"] == "autodebet saya kepotong 2 kali bulan ini"
    declined, _ = run(account.ActionHandleOffer(), tracker(slots=open_slots, intent="deny", text="ga usah"))
    assert responses(declined) == ["utter_offer_declined"]
    # the button: the complaint is the words typed before it, not the payload nor the credentials
    pressed = [
        {"event": "user", "text": "tolong bantu, autodebet saya kepotong 2 kali", "parse_data": {}},
        {"event": "user", "text": "K10124000001 17-08-1985", "parse_data": {}},
        {"event": "user", "text": "/complain", "parse_data": {}},
    ]
    messages, _ = run(
        handover.ActionHandover(),
        tracker(slots=slots, intent="complain", text="/complain", events=pressed, sender="another-conversation"),
    )
    with session_scope(actions_environment) as session:
        case = session.execute(select(Case).where(Case.reference == messages[0]["reference"])).scalar_one()
        assert case.data["message"] == "tolong bantu, autodebet saya kepotong 2 kali"
    schedule = _verified(BUDI, account_topic="autodebit", topic_text="autodebet tanggal 2 kali ini kena libur?")
    messages, _ = run(account.ActionAnswerAccount(), tracker(slots=schedule))
    assert responses(messages)[0] == "utter_autodebit_schedule"


def test_the_yearly_tax_needs_no_bpkb_and_no_loan_is_offered(actions_environment):
    slots = _verified(BUDI, account_topic="stnk_renewal", topic_text="pajak stnk tahunan gimana, perlu bpkb ga?")
    messages, events = run(account.ActionAnswerAccount(), tracker(slots=slots))
    assert responses(messages)[0] == "utter_stnk_yearly" and slot_events(events)["offer_open"] is False
    # the same answer for everyone: no verification asked for it
    unverified = {"account_topic": "stnk_renewal", "topic_text": "pajak stnk tahunan gimana, perlu bpkb ga?"}
    form = verification.ValidateVerificationForm()
    assert asyncio.run(form.required_slots([], CollectingDispatcher(), tracker(slots=unverified), {})) == []
    messages, _ = run(account.ActionAnswerAccount(), tracker(slots=unverified))
    assert responses(messages) == ["utter_stnk_yearly"]


@pytest.mark.parametrize(
    "topic, text, said",
    [
        ("late_fee", "denda keterlambatan dihitungnya gimana?", "utter_late_fee_rule"),
        ("late_fee", "kalau telat sehari dendanya berapa persen", "utter_late_fee_rule"),
        ("autodebit", "cara daftar autodebet bca gimana ya", "utter_autodebit_howto"),
        ("autodebit", "mau berhenti autodebet", "utter_autodebit_howto"),
        ("late_fee", "denda saya berapa", None),  # one's own account: verification first
        ("autodebit", "autodebet saya kapan dipotong", None),
    ],
)
def test_how_things_work_is_answered_without_verification(actions_environment, topic, text, said):
    slots = {"account_topic": topic, "topic_text": text}
    required = asyncio.run(
        verification.ValidateVerificationForm().required_slots([], CollectingDispatcher(), tracker(slots=slots), {})
    )
    messages, _ = run(account.ActionAnswerAccount(), tracker(slots=slots))
    if said is None:
        assert required == ["contract_number", "date_of_birth"] and messages == []
    else:
        assert required == [] and responses(messages) == [said]
        if said == "utter_late_fee_rule":
            assert messages[0]["rate"] == "0,2%"
    five = _verified(BUDI, account_topic="stnk_renewal", topic_text="stnk mau perpanjang 5 tahunan")
    messages, events = run(account.ActionAnswerAccount(), tracker(slots=five))
    assert responses(messages)[:2] == ["utter_stnk_info", "utter_offer_loan_day"]


def test_bpkb_ready_offers_open_days_and_books_one(actions_environment):
    messages, events = run(account.ActionAnswerAccount(), tracker(slots=_verified(AGUS, account_topic="bpkb_pickup")))
    assert responses(messages) == ["utter_bpkb_ready", "utter_offer_pickup_day"]
    assert [b["title"] for b in messages[1]["buttons"]][:3] == ["23 Nov 2026", "24 Nov 2026", "25 Nov 2026"]
    assert slot_events(events) == {"offer_open": True, "pending_offer": "bpkb_pickup"}
    slots = {**_verified(AGUS), "offer_open": True, "pending_offer": "bpkb_pickup"}
    closed, events = run(account.ActionHandleOffer(), tracker(slots=slots, text="hari minggu depan"))
    assert responses(closed) == ["utter_day_refused_branch_closed"] and events == []
    # the pickup question again, with a day ("bisa diambil hari minggu?"): that day, not the answer again
    asked = tracker(slots={**slots, "account_topic": "bpkb_pickup"}, text="bisa diambil hari minggu?")
    asked.latest_message["intent"] = {"name": "ask_bpkb_pickup", "confidence": 0.94}
    again, _ = run(account.ActionAnswerAccount(), asked)
    assert responses(again) == ["utter_day_refused_branch_closed"]
    booked, events = run(
        account.ActionHandleOffer(),
        tracker(slots=slots, text='/inform{"date":"2026-11-24"}', entities=[{"entity": "date", "value": "2026-11-24"}]),
    )
    assert responses(booked) == ["utter_request_created"] and booked[0]["reference"].startswith("REQ-2026-")
    assert slot_events(events)["offer_open"] is False
    with session_scope(actions_environment) as session:
        request = session.execute(select(ServiceRequest)).scalar_one()
        assert request.kind is RequestKind.BPKB_PICKUP and request.scheduled_for.isoformat() == "2026-11-24"


def test_a_day_asked_about_is_booked_only_on_a_yes(actions_environment):
    """ "bisa diambil hari sabtu?" under the date buttons asks whether Saturday can be: it gets the
    branch's hours that day and "shall I book it?"; a yes books it, a no books nothing, another day
    is a choice ("senin aja")."""
    slots = {**_verified(AGUS), "offer_open": True, "pending_offer": "bpkb_pickup"}
    asked, events = run(account.ActionHandleOffer(), tracker(slots=slots, text="bisa diambil hari sabtu?"))
    assert responses(asked) == ["utter_confirm_pickup_day"]
    assert asked[0]["day"] == "Sabtu, 28 November 2026" and asked[0]["hours"] == "08.00–12.00"
    assert slot_events(events) == {
        "offer_open": True,
        "pending_offer": "bpkb_pickup_confirm",
        "offer_day": "2026-11-28",
    }
    confirm = {**slots, "pending_offer": "bpkb_pickup_confirm", "offer_day": "2026-11-28"}
    declined, events = run(account.ActionHandleOffer(), tracker(slots=confirm, text="tidak", intent="deny"))
    assert responses(declined) == ["utter_offer_declined"] and slot_events(events)["offer_open"] is False
    with session_scope(actions_environment) as session:
        assert session.execute(select(ServiceRequest)).first() is None
    # a day the branch is closed, asked about: refused as a choice of it would be
    closed, _ = run(account.ActionHandleOffer(), tracker(slots=slots, text="kalau minggu bisa?"))
    assert responses(closed) == ["utter_day_refused_branch_closed"]
    booked, events = run(account.ActionHandleOffer(), tracker(slots=confirm, text="iya", intent="affirm"))
    assert responses(booked) == ["utter_request_created"] and slot_events(events)["offer_open"] is False
    # the loan of the BPKB for the STNK: the same question in its own words; another day chosen instead
    loan = {**_verified(BUDI), "offer_open": True, "pending_offer": "bpkb_loan"}
    asked, events = run(account.ActionHandleOffer(), tracker(slots=loan, text="rabu bisa ga?"))
    assert responses(asked) == ["utter_confirm_loan_day"] and asked[0]["day"] == "Rabu, 25 November 2026"
    assert slot_events(events)["pending_offer"] == "bpkb_loan_confirm"
    other = {**loan, "pending_offer": "bpkb_loan_confirm", "offer_day": "2026-11-25"}
    chosen, _ = run(fallback.ActionFallback(), tracker(slots=other, text="kamis aja deh", intent="nlu_fallback"))
    assert responses(chosen) == ["utter_request_created"]  # a day answers it, however the NLU read it
    with session_scope(actions_environment) as session:
        booked_for = {r.kind: r.scheduled_for.isoformat() for r in session.execute(select(ServiceRequest)).scalars()}
        assert booked_for == {RequestKind.BPKB_PICKUP: "2026-11-28", RequestKind.BPKB_LOAN: "2026-11-26"}


def test_stnk_renewal_refused_in_arrears_and_offered_otherwise():
    refused, _ = run(account.ActionAnswerAccount(), tracker(slots=_verified(SITI, account_topic="stnk_renewal")))
    assert responses(refused) == ["utter_stnk_refused_in_arrears"]
    # what is owed, how to pay, a payment made: the way out of the refusal
    assert [b["payload"] for b in refused[0]["buttons"]] == [
        "/ask_late_fee",
        "/ask_payment_methods",
        "/report_payment_not_posted",
    ]
    offered, events = run(account.ActionAnswerAccount(), tracker(slots=_verified(BUDI, account_topic="stnk_renewal")))
    assert responses(offered) == ["utter_stnk_info", "utter_offer_loan_day"]
    assert slot_events(events)["pending_offer"] == "bpkb_loan"


def test_a_due_date_change_refused_for_arrears_offers_the_way_out():
    """Refused for arrears whether a day was named or not: never asked for a day first."""
    for asked in ("mau ganti jatuh tempo ke tgl 5", "mau ganti tanggal jatuh tempo"):
        slots = _verified(SITI, account_topic="due_date_change", topic_text=asked)
        messages, events = run(account.ActionAnswerAccount(), tracker(slots=slots))
        assert responses(messages) == ["utter_due_date_refused_in_arrears"], asked
        assert [b["payload"] for b in messages[0]["buttons"]][:2] == ["/ask_late_fee", "/ask_payment_methods"]
        assert slot_events(events)["offer_open"] is False


def test_due_date_change_from_question_to_request(actions_environment):
    slots = _verified(BUDI, account_topic="due_date_change", topic_text="mau ganti jatuh tempo ke tgl 31")
    messages, events = run(account.ActionAnswerAccount(), tracker(slots=slots))
    assert responses(messages) == ["utter_due_date_refused_invalid_day"]
    assert slot_events(events)["pending_offer"] == "due_day"
    slots.update(offer_open=True, pending_offer="due_day")
    # no day named, or two: the day is asked for again, with the current one
    for text in ("iya", "tgl 5 atau 6"):
        messages, events = run(account.ActionHandleOffer(), tracker(slots=slots, text=text))
        assert responses(messages) == ["utter_ask_new_due_day"] and messages[0]["current_day"] == 25
        assert slot_events(events)["pending_offer"] == "due_day"
    messages, events = run(account.ActionHandleOffer(), tracker(slots=slots, text="tgl 10"))
    assert responses(messages) == ["utter_due_date_quote"] and messages[0]["new_dates"].startswith("10 Des 2026")
    slots.update(pending_offer="due_date_confirm", offer_day="10")
    messages, events = run(account.ActionHandleOffer(), tracker(slots=slots, text="ya", intent="affirm"))
    assert responses(messages) == ["utter_request_created"]
    with session_scope(actions_environment) as session:
        request = session.execute(select(ServiceRequest)).scalar_one()
        assert request.kind is RequestKind.DUE_DATE_CHANGE and request.details["to_day"] == 10


def test_autodebit_answer_names_the_moved_date():
    messages, _ = run(account.ActionAnswerAccount(), tracker(slots=_verified(BUDI, account_topic="autodebit")))
    assert responses(messages) == ["utter_autodebit_schedule", "utter_autodebit_howto"]
    assert "Kamis, 24 Desember 2026" in messages[0]["schedule"] and "Natal" in messages[0]["schedule"]


def test_a_failed_debit_is_answered_with_whether_the_last_instalment_was_paid(actions_environment, monkeypatch):
    """ "autodebet saya bulan ini gagal": the latest instalment due, paid or not, before the
    schedule; unpaid, another way to pay is offered."""
    asked = _verified(BUDI, account_topic="autodebit", topic_text="autodebet saya bulan ini gagal, padahal saldo ada")
    messages, _ = run(account.ActionAnswerAccount(), tracker(slots=asked))
    assert responses(messages)[:2] == ["utter_autodebit_last_paid", "utter_autodebit_schedule"]
    assert messages[0]["due_date"].endswith("25 Oktober 2026")
    monkeypatch.setenv("CRM_TODAY", "2026-11-26")  # the 25 November instalment is due and unpaid
    common.reset()
    messages, _ = run(account.ActionAnswerAccount(), tracker(slots=asked))
    assert responses(messages)[0] == "utter_autodebit_last_unpaid"
    assert messages[0]["due_date"].endswith("25 November 2026")
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/ask_payment_methods"]


# --- office hours and fallback ---------------------------------------------------------------


def test_office_hours_for_a_city_and_date():
    messages, _ = run(
        hours.ActionAnswerOfficeHours(), tracker(text="cabang surabaya buka gak pas natal", intent="ask_office_hours")
    )
    assert responses(messages) == ["utter_office_hours"]
    assert "Kantor cabang: tutup (Hari Raya Natal)" in messages[0]["hours"]
    assert messages[0]["address"] and messages[0]["phone"]  # "alamat cabang surabaya" is answered too


def test_office_hours_without_a_city_asks_for_one():
    messages, events = run(hours.ActionAnswerOfficeHours(), tracker(text="besok buka?", intent="ask_office_hours"))
    assert responses(messages) == ["utter_office_hours_general"]
    assert slot_events(events)["hours_date"] == "2026-11-23"
    follow, _ = run(
        account.ActionHandleOffer(),
        tracker(
            slots={"offer_open": True, "pending_offer": "office_hours_city", "hours_date": "2026-11-23"},
            text="sby",
            entities=[{"entity": "city", "value": "surabaya"}],
        ),
    )
    assert responses(follow) == ["utter_office_hours"] and follow[0]["day"] == "Senin, 23 November 2026"
    # a no is no city: declined, and the question closes
    declined, events = run(
        account.ActionHandleOffer(),
        tracker(
            slots={"offer_open": True, "pending_offer": "office_hours_city", "hours_date": "2026-11-23"},
            text="tidak, terima kasih",
            intent="deny",
        ),
    )
    assert responses(declined) == ["utter_offer_declined"] and slot_events(events)["offer_open"] is False


def test_a_day_alone_after_the_hours_asks_for_that_day():
    """ "kalau tgl 24?" (read as an answer) right after a branch's hours: that branch on the
    24th. Credentials are never a day, and with no hours just before it is no hours question."""
    from actions import handover

    def after_hours(text: str):
        asked = {"event": "user", "text": "cabang surabaya buka gak pas natal", "parse_data": {}}
        said = {"event": "user", "text": text, "parse_data": {}}
        answered = [
            {"event": "action", "name": "action_answer_office_hours"},
            {"event": "slot", "name": "hours_city", "value": "Surabaya"},
            {"event": "bot", "text": "Jam layanan Cabang Surabaya"},
            {"event": "action", "name": "action_listen"},
        ]
        return tracker(slots={"hours_city": "Surabaya"}, text=text, events=[asked, *answered, said])

    messages, _ = run(handover.ActionReplyOrWait(), after_hours("kalau tgl 24?"))
    assert responses(messages) == ["utter_office_hours"] and messages[0]["day"] == "Selasa, 24 November 2026"
    credentials = run(handover.ActionReplyOrWait(), after_hours("K10124000001 17-08-1985"))
    assert "verification_form" in [e.get("name") for e in credentials[1] if e["event"] == "followup"]
    cold, _ = run(handover.ActionReplyOrWait(), tracker(slots={"hours_city": "Surabaya"}, text="kalau tgl 24?"))
    assert responses(cold) == ["utter_how_can_i_help"]


def test_a_day_given_for_the_city_question_answers_that_day_and_asks_again():
    slots = {"offer_open": True, "pending_offer": "office_hours_city", "hours_date": "2026-11-22"}
    messages, events = run(account.ActionHandleOffer(), tracker(slots=slots, text="besok?"))
    assert responses(messages) == ["utter_office_hours_general"] and messages[0]["day"] == "Senin, 23 November 2026"
    assert (
        slot_events(events)["hours_date"] == "2026-11-23"
        and slot_events(events)["pending_offer"] == "office_hours_city"
    )


def _fallback_events(n: int) -> List[dict]:
    ok = {"event": "user", "text": "halo", "parse_data": {"intent": {"name": "greet"}}}
    bad = {"event": "user", "text": "xx", "parse_data": {"intent": {"name": "nlu_fallback"}}, "input_channel": "rest"}
    return [ok, {"event": "bot", "text": "hi"}] + [bad, {"event": "bot"}] * n


def test_fallback_rephrases_first_then_hands_over(actions_environment):
    first, _ = run(fallback.ActionFallback(), tracker(events=_fallback_events(1), sender="fb-conv"))
    assert responses(first) == ["utter_ask_rephrase"]
    second, _ = run(fallback.ActionFallback(), tracker(events=_fallback_events(2), sender="fb-conv"))
    assert responses(second)[0] == "utter_handover_fallback"
    assert responses(second)[1] in ("utter_handover_wait_agent", "utter_handover_after_hours")
    with session_scope(actions_environment) as session:
        escalation = session.execute(select(Escalation).filter_by(conversation_id="fb-conv")).scalar_one()
        assert escalation.reason is EscalationReason.FALLBACK


def test_an_unplaced_message_a_reader_answered_is_no_misunderstanding(actions_environment):
    """ "kalau yang satunya?" (nlu_fallback, answered with the other contract's instalment), then
    one more message not understood: that is the first not understood, so the bot asks again
    instead of handing over. Unanswered fallbacks still count, whatever they were asked."""
    bad = {"event": "user", "text": "xx", "parse_data": {"intent": {"name": "nlu_fallback"}}}
    answered = [bad, {"event": "bot", "text": "Kontrak ...", "metadata": {"utter_action": "utter_instalment_summary"}}]
    rephrase = [bad, {"event": "bot", "text": "Mohon maaf ...", "metadata": {"utter_action": "utter_ask_rephrase"}}]
    confirm = [bad, {"event": "bot", "text": "Apakah ...", "metadata": {"utter_action": "utter_confirm_complain"}}]
    assert fallback.consecutive_fallbacks(tracker(events=[*answered, bad])) == 1
    assert fallback.consecutive_fallbacks(tracker(events=[*rephrase, bad])) == 2
    assert fallback.consecutive_fallbacks(tracker(events=[*confirm, bad])) == 2
    assert fallback.consecutive_fallbacks(tracker(events=[*rephrase, *answered, bad])) == 1
    messages, _ = run(fallback.ActionFallback(), tracker(events=[*answered, bad], sender="fb-answered"))
    assert responses(messages) == ["utter_ask_rephrase"]


def test_a_message_not_placed_by_the_classifier_still_answers_an_open_question(actions_environment):
    """ "6 hari lalu lewat alfamart" read as nlu_fallback while the bot asked when and how the
    customer paid: the question reads it; a yes/no question is answered only by a message that
    begins with a yes."""
    from tests.support.actions import SITI, verified_slots

    slots = verified_slots(SITI, offer_open=True, pending_offer="payment_check")
    text = "6 hari lalu lewat alfamart"
    messages, _ = run(fallback.ActionFallback(), tracker(slots=slots, text=text, intent="nlu_fallback"))
    assert responses(messages)[0] in ("utter_payment_not_found", "utter_payment_within_delay")
    yes_no = {**slots, "pending_offer": "payoff_letter"}
    other = tracker(slots=yes_no, text="qwerty", intent="nlu_fallback", sender="conv-other")
    messages, _ = run(fallback.ActionFallback(), other)
    assert responses(messages) == ["utter_ask_rephrase"]
    # unless it begins with a yes: "oke saya mau, gimana caranya" under "Mau saya ajukan surat ...?"
    yes = tracker(slots=yes_no, text="oke saya mau, gimana caranya", intent="nlu_fallback", sender="conv-yes")
    messages, _ = run(fallback.ActionFallback(), yes)
    assert responses(messages) == ["utter_request_created"]


def test_a_message_leaning_to_a_complaint_is_asked_about_even_while_a_question_is_open(actions_environment):
    """The bot asked which channel; "kurirnya galak bgt, mau komplain" names none, and the
    classifier leaned to a complaint: the customer is asked about the complaint, not told again
    to pick a channel. "Bukan" then answers the channel question with a no."""
    slots = {"offer_open": True, "pending_offer": "payment_channel"}
    leaning = tracker(slots=slots, text="kurirnya galak bgt, mau komplain", intent="nlu_fallback", sender="c-open")
    leaning.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.9},
        {"name": "complain", "confidence": 0.8},
    ]
    messages, events = run(fallback.ActionFallback(), leaning)
    assert responses(messages) == ["utter_confirm_complain"]
    assert events == []  # the channel question stays open for the "Bukan" button
    no = tracker(slots=slots, text="/deny", intent="deny", sender="c-open")
    messages, _ = run(account.ActionHandleOffer(), no)
    assert responses(messages) == ["utter_offer_declined"]


def test_a_whatsapp_reply_to_a_notice_is_not_asked_for_its_contract():
    notice = {"campaign_notice": {"kind": "autodebit_moved", "contract": BUDI, "debit_date": "2026-12-24"}}
    t = tracker(
        text="oh jadi dipotong tgl berapa?", intent="ask_autodebit", sender="whatsapp:6281210000001", channel="whatsapp"
    )
    t.latest_message["metadata"] = notice
    dispatcher = CollectingDispatcher()
    assert asyncio.run(FORM.extract_contract_number(dispatcher, t, {})) == {"contract_number": BUDI}
    assert responses(dispatcher.messages) == ["utter_notice_contract_known"]
    # not on the REST channel, not without a notice, not over a number the customer typed
    rest = tracker(text="tgl berapa?", sender="conv-test")
    rest.latest_message["metadata"] = notice
    assert asyncio.run(FORM.extract_contract_number(CollectingDispatcher(), rest, {})) == {}
    plain = tracker(text="tgl berapa?", sender="whatsapp:6281210000001", channel="whatsapp")
    assert asyncio.run(FORM.extract_contract_number(CollectingDispatcher(), plain, {})) == {}
    typed = tracker(text="K20123000002", sender="whatsapp:6281210000001", channel="whatsapp")
    typed.latest_message["metadata"] = notice
    dispatcher = CollectingDispatcher()
    assert asyncio.run(FORM.extract_contract_number(dispatcher, typed, {})) == {"contract_number": SITI}
    assert responses(dispatcher.messages) == []


def test_a_contract_number_typed_with_the_question_is_not_asked_for_again():
    """The NLU tagged no entity in "K10124000001 17-08-1985 autodebet saya kapan dipotong"."""
    asked = tracker(text="K10124000001 17-08-1985 autodebet saya kapan dipotong", intent="ask_autodebit")
    assert asyncio.run(FORM.extract_contract_number(CollectingDispatcher(), asked, {})) == {"contract_number": BUDI}
    # not once verified, nor while another answer is asked for
    verified = tracker(text=asked.latest_message["text"], slots={"verified": True})
    assert asyncio.run(FORM.extract_contract_number(CollectingDispatcher(), verified, {})) == {}
    other = tracker(text="K20123000002", slots={"requested_slot": "date_of_birth", "contract_number": BUDI})
    assert asyncio.run(FORM.extract_contract_number(CollectingDispatcher(), other, {})) == {}


# --- website one-time codes ----------------------------------------------------------------------


@pytest.fixture
def codes(actions_environment, monkeypatch):
    """WhatsApp configured (a fake Graph API) and the code template approved."""
    from crm.models import TemplateStatus
    from crm.services import templates
    from tests.fake_graph import FakeGraph

    graph = FakeGraph()
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", "test-access-token")
    monkeypatch.setenv("WHATSAPP_PHONE_NUMBER_ID", "123")
    monkeypatch.setenv("WHATSAPP_API_URL", graph.url)
    monkeypatch.setenv("SIGNING_SECRET", "uji-signing-secret")
    with session_scope(actions_environment) as db:
        templates.load(db, templates.read_file())
        for row in templates.all_templates(db, use="verification"):
            row.status = TemplateStatus.APPROVED
    yield graph
    graph.close()


def sent_codes(graph):
    return [
        (m["to"], m["template"]["components"][0]["parameters"][0]["text"])
        for m in graph.templates_sent()
        if m["template"]["name"] == "kode_verifikasi"
    ]


def website(slot, value, **slots):
    return validate(slot, value, slots=slots, channel="socketio", sender="web:pengunjung")


def test_the_website_asks_a_code_sent_to_the_contracts_whatsapp(codes):
    result, said = website("date_of_birth", "17 Agustus 1985", contract_number=BUDI)
    assert said == ["utter_code_sent"] and result["pending_code"] is True and "verified" not in result
    ((to, code),) = sent_codes(codes)
    assert to == "6281210000001" and len(code) == 6 and code.isdigit()
    pending = {"contract_number": BUDI, "pending_proof": result["pending_proof"], "pending_code": True}
    result, said = website("one_time_code", code, **pending)
    assert said == ["utter_verified"] and result["verified"] is True
    assert result["pending_proof"] is None and result["one_time_code"] is None
    result, said = website("one_time_code", code, **pending)  # used once
    assert said == ["utter_verification_failed"] and "verified" not in result


def test_a_wrong_birth_date_gets_the_same_answer_and_no_code(codes):
    result, said = website("date_of_birth", "01-01-1980", contract_number=BUDI)
    assert said == ["utter_code_sent"] and result["pending_code"] is True
    assert sent_codes(codes) == []
    result, said = website(
        "one_time_code", "123456", contract_number=BUDI, pending_proof=result["pending_proof"], pending_code=True
    )
    assert said == ["utter_verification_failed"]


def test_codes_burn_after_three_wrong_tries_and_at_most_three_an_hour(codes):
    result, _ = website("date_of_birth", "17 Agustus 1985", contract_number=BUDI)
    ((_, code),) = sent_codes(codes)
    pending = {"contract_number": BUDI, "pending_proof": result["pending_proof"], "pending_code": True}
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    for _ in range(policy.CODE_MAX_ATTEMPTS):
        assert website("one_time_code", wrong, **pending)[1][-1] in (
            "utter_verification_failed",
            "utter_verification_locked",
        )
    assert "verified" not in website("one_time_code", code, **pending)[0]  # burnt
    for _ in range(policy.CODES_PER_CONTRACT_PER_HOUR + 1):
        website("date_of_birth", "17 Agustus 1985", contract_number=BUDI)
    assert len(sent_codes(codes)) == policy.CODES_PER_CONTRACT_PER_HOUR


def test_whatsapp_and_a_site_without_the_template_verify_as_before(codes, actions_environment):
    from crm.models import TemplateStatus
    from crm.services import templates

    result, said = validate(
        "date_of_birth",
        "17 Agustus 1985",
        slots={"contract_number": BUDI},
        channel="whatsapp",
        sender="whatsapp:6281210000001",
    )
    assert said == ["utter_verified"]
    with session_scope(actions_environment) as db:
        for row in templates.all_templates(db, use="verification"):
            row.status = TemplateStatus.PAUSED
    result, said = website("date_of_birth", "17 Agustus 1985", contract_number=BUDI)
    assert said == ["utter_verified"] and sent_codes(codes) == []


def test_a_code_is_masked_in_logs_and_transcripts():
    from crm.privacy import mask_text

    assert mask_text("kode saya 482 913") == "kode saya xxx xxx"
    assert mask_text("User sent '482913'") == "User sent 'xxxxxx'"


@pytest.mark.parametrize(
    "action, intent, text",
    [
        (
            fallback.ActionFallback(),
            "nlu_fallback",
            "mobil saya mau ditarik, saya belum bisa bayar 3 bulan, gimana solusinya?",
        ),
        (handover.ActionReplyOrWait(), "out_of_scope", "apakah bisa restrukturisasi kredit karena saya kena phk?"),
    ],
)
def test_a_customer_who_cannot_pay_goes_to_staff(actions_environment, action, intent, text):
    """Not a complaint to confirm nor a takeover to start: relief is for staff to weigh."""
    leaning = tracker(text=text, intent=intent, sender=f"hardship-{intent}")
    leaning.latest_message["intent_ranking"] = [
        {"name": intent, "confidence": 0.9},
        {"name": "complain", "confidence": 0.8},
    ]
    messages, _ = run(action, leaning)
    assert responses(messages)[0] == "utter_hardship"
    with session_scope(actions_environment) as session:
        escalation = session.execute(
            select(Escalation).where(Escalation.conversation_id == f"hardship-{intent}")
        ).scalar_one()
        assert escalation.reason is EscalationReason.HUMAN_REQUEST and "tidak sanggup bayar" in escalation.summary


def test_a_takeover_by_one_who_cannot_pay_is_still_a_takeover_question(actions_environment):
    leaning = tracker(text="saya ga sanggup bayar, mau over kredit aja", intent="nlu_fallback", sender="hardship-over")
    leaning.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.7},
        {"name": "request_credit_takeover", "confidence": 0.6},
    ]
    messages, _ = run(fallback.ActionFallback(), leaning)
    assert responses(messages) == ["utter_confirm_request_credit_takeover"]


def test_an_account_answer_to_one_who_cannot_pay_also_goes_to_staff(actions_environment):
    slots = _verified(BUDI, account_topic="instalment", topic_text="saya di-PHK, cicilan saya gimana")
    messages, _ = run(account.ActionAnswerAccount(), tracker(slots=slots, sender="hardship-account"))
    assert responses(messages)[0] == "utter_instalment_summary" and "utter_hardship" in responses(messages)
