"""Handing a conversation to CRM staff: complaints and requests for a person, and the message
that tells the customer when a person will answer."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.common import (
    asked_account_topic,
    birth_date_in,
    bot_spoke_this_session,
    close_offer,
    contract_and_birth_date,
    escalate_conversation,
    file_conversation_case,
    latest_intent,
    open_offer,
    previous_turn,
    said_before,
    session_factory,
    settings,
    today,
    topic_suggested_before,
    without_credentials,
)
from actions.hours import answered_hours
from actions.satisfaction import answer_rating, rating_in
from crm.clock import to_local
from crm.db import session_scope
from crm.formatting import long_date_time
from crm.models import CaseKind, Escalation, EscalationReason, EscalationStatus
from crm.parsing import asks_to_complain_only, is_salam, names_hardship, normalise_contract_number, wordless
from crm.services import cases
from crm.services.escalations import find_unresolved
from crm.services.hours import customer_care_availability, expected_answer
from crm.when import read_when

RECENT_MESSAGES = 6


def recent_user_messages(tracker: Tracker, count: int = RECENT_MESSAGES) -> List[str]:
    return [e.get("text") or "" for e in tracker.events if e.get("event") == "user"][-count:]


WHEN_ANSWERED = frozenset({"utter_handover_wait_agent", "utter_handover_after_hours"})


def tell_when_answered(dispatcher: CollectingDispatcher, session: Session) -> None:
    """Customer care staffed now: a person joins soon. Otherwise: when they will answer."""
    availability = customer_care_availability(session, settings().current_time())
    if availability.open_now:
        dispatcher.utter_message(response="utter_handover_wait_agent")
    else:
        dispatcher.utter_message(response="utter_handover_after_hours", next_open=expected_answer(availability))


def acknowledge_wait(dispatcher: CollectingDispatcher, tracker: Tracker, session: Session) -> Optional[List[EventType]]:
    """While the conversation waits in the queue (escalated, nobody has claimed it), a message
    that asks nothing new is for the staff member who will join: say once that it was passed on
    and how long the wait is likely to be, then stay quiet. None when nothing is waiting."""
    waiting = find_unresolved(session, tracker.sender_id)
    if waiting is None or waiting.status is not EscalationStatus.OPEN:
        return None
    if tracker.get_slot("wait_acknowledged") == str(waiting.id):
        return []
    dispatcher.utter_message(response="utter_waiting_passed_on")
    if not set(said_before(tracker)) & WHEN_ANSWERED:  # not twice in a row, right after the handover
        tell_when_answered(dispatcher, session)
    return [SlotSet("wait_acknowledged", str(waiting.id))]


# otherwise utter_how_can_i_help
REPLIES = {
    "greet": "utter_greet",
    "out_of_scope": "utter_out_of_scope",
    "hold_on": "utter_hold_on",
    "confused": "utter_confused",
}


class ActionReplyOrWait(Action):
    """Small talk and answers to nothing (a greeting, something out of scope, an answer, a yes or
    a no when the bot asked nothing): while the conversation waits for staff it is for them
    (acknowledged once); otherwise the usual reply."""

    def name(self) -> str:
        return "action_reply_or_wait"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        score = rating_in(tracker)
        if score is not None:  # a satisfaction button
            return answer_rating(dispatcher, tracker, score)
        if tracker.get_slot("offer_open") and latest_intent(tracker) == "out_of_scope":
            # the bot asked something ("pilih tanggal"): an unusual answer is still an answer
            from actions.account import ActionHandleOffer

            return await ActionHandleOffer().run(dispatcher, tracker, domain)
        with session_scope(session_factory()) as session:
            waiting = acknowledge_wait(dispatcher, tracker, session)
        if waiting is not None:
            return waiting
        intent = latest_intent(tracker) or ""
        text = tracker.latest_message.get("text") or ""
        if intent == "out_of_scope" and wordless(text):  # "?", "hmm", "haha": nothing asked, nothing refused
            said = "utter_nothing_more" if bot_spoke_this_session(tracker) else "utter_how_can_i_help"
            dispatcher.utter_message(response=said)
            return []
        if intent == "out_of_scope":  # "apakah bisa restrukturisasi karena kena phk?"
            from actions.unplaced import answer_unplaced

            known = await answer_unplaced(dispatcher, tracker, domain)
            if known is not None:
                return known
        if intent == "inform" and answered_hours(previous_turn(tracker)) and normalise_contract_number(text) is None:
            # "kalau tgl 24?" right after the hours: the same branches on that day
            from actions.hours import answer_hours_for_text

            if read_when(text, today=today()).day is not None:
                return answer_hours_for_text(dispatcher, tracker, ask_city=False)
        if intent == "inform":  # "kalau yang raize?", "kalau bulan depan?" after an account answer
            from actions.unplaced import answer_follow_up

            follow_up = await answer_follow_up(dispatcher, tracker, domain)
            if follow_up is not None:
                return follow_up
        if intent in ("greet", "inform"):  # "alamat?" (a greeting by the letters of "selamat") after the hours
            from actions.hours import answer_branch_contact

            contact = answer_branch_contact(dispatcher, tracker)
            if contact is not None:
                return contact
        number, born = contract_and_birth_date(text)
        if number is None and intent == "inform" and tracker.get_slot("contract_number"):
            # "K10124000001", then "17-08-1985": the number the slot already holds
            number, born = tracker.get_slot("contract_number"), birth_date_in(text)
        if born is not None and not tracker.get_slot("verified") and not tracker.get_slot("verification_locked"):
            # "K10124000001 17-08-1985" before any question: verified now, then asked what is
            # needed, or answered what the same message asked ("cicilan saya brp, K... 17-08-1985")
            from actions.payments import VA_NUMBER_TOPIC, asks_for_own_va

            events: List[EventType] = [SlotSet("contract_number", number)]
            topic = (
                asked_account_topic(tracker)
                or (VA_NUMBER_TOPIC if asks_for_own_va(tracker) else None)
                or topic_suggested_before(tracker)  # "cicilan" -> [Info angsuran], then the credentials
            )
            if topic is not None:
                entities = tracker.latest_message.get("entities") or []
                events += [
                    SlotSet("account_topic", topic),
                    SlotSet("topic_text", without_credentials(text, entities, born)),
                ]
            return events + [FollowupAction("verification_form")]
        if intent == "greet" and is_salam(text):
            dispatcher.utter_message(response="utter_answer_salam")
        if intent == "deny" and bot_spoke_this_session(tracker):  # "tidak, terima kasih" after an answer
            dispatcher.utter_message(response="utter_nothing_more")
            return []
        if intent == "greet" and bot_spoke_this_session(tracker):  # "halo?", "oi" mid-conversation
            dispatcher.utter_message(response="utter_greet_again")
            return []
        dispatcher.utter_message(response=REPLIES.get(intent, "utter_how_can_i_help"))
        return []


def due_text(escalation: Escalation) -> str:
    return long_date_time(to_local(escalation.due_at)) if escalation.due_at else "secepatnya"


def hand_over_hardship(dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> Optional[List[EventType]]:
    """A customer who cannot pay ("belum bisa bayar 3 bulan, mau ditarik", "restrukturisasi karena
    kena phk"): relief is for staff to weigh, so the conversation goes to the CRM queue with the
    reason. None when `text` says no such thing."""
    if not names_hardship(text):
        return None
    with session_scope(session_factory()) as session:
        escalate_conversation(session, tracker, EscalationReason.HUMAN_REQUEST, f"tidak sanggup bayar: {text}"[:500])
        dispatcher.utter_message(response="utter_hardship")
        tell_when_answered(dispatcher, session)
    return []


def _complaint_words(recent: List[str]) -> str:
    """What the complaint says when the message that filed it is a button or a yes: the last
    message the customer typed that is neither credentials nor a word or two ("iya")."""
    for text in reversed(recent):
        if text and not text.startswith("/") and len(text.split()) > 2 and normalise_contract_number(text) is None:
            return text
    return recent[-1] if recent else ""


def file_complaint(
    dispatcher: CollectingDispatcher, tracker: Tracker, message: Optional[str] = None
) -> List[EventType]:
    """File a complaint case for the conversation (with an OJK due date) and escalate it. The
    complaint is `message`, else the latest message, else (a button, "Ya, catat pengaduan") the
    last one the customer typed."""
    recent = recent_user_messages(tracker)
    latest = tracker.latest_message.get("text") or ""
    message = message or (latest if latest and not latest.startswith("/") else _complaint_words(recent))
    with session_scope(session_factory()) as session:
        added = cases.add_to_open_complaint(session, tracker.sender_id, message)
        if added is not None:  # the complaint already waits in the queue: one case, told more
            dispatcher.utter_message(response="utter_complaint_added", reference=added)
            return []
        filed = file_conversation_case(
            session, tracker, CaseKind.COMPLAINT, {"message": message, "recent_messages": recent}
        )
        escalation = session.get(Escalation, filed.escalation.escalation_id)
        dispatcher.utter_message(
            response="utter_complaint_received", reference=filed.reference, due=due_text(escalation)
        )
        tell_when_answered(dispatcher, session)
    return []


class ActionHandover(Action):
    """complain: file a complaint case and escalate; request_human: escalate."""

    def name(self) -> str:
        return "action_handover"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        if latest_intent(tracker) == "complain":
            if tracker.get_slot("offer_open") and tracker.get_slot("pending_offer") == "complaint_details":
                return close_offer() + file_complaint(dispatcher, tracker)  # what it is about, as asked
            typed = tracker.latest_message.get("text") or ""
            if not typed.startswith("/") and asks_to_complain_only(typed):  # not a button
                dispatcher.utter_message(response="utter_ask_complaint_details")  # "saya mau komplain"
                return open_offer("complaint_details")
            return file_complaint(dispatcher, tracker)
        recent = recent_user_messages(tracker)
        with session_scope(session_factory()) as session:
            escalate_conversation(
                session,
                tracker,
                EscalationReason.HUMAN_REQUEST,
                "asked for a person: " + " | ".join(recent[-3:])[:500],
            )
            dispatcher.utter_message(response="utter_handover_human")
            tell_when_answered(dispatcher, session)
        return []
