"""A question in the middle of a form is answered, then the form asks its question again.

Every form slot takes the customer's text as its answer; a message is instead an *aside* when
the classifier is sure (`ASIDE_CONFIDENCE`) that it is another request (`ASIDE_INTENTS`), it reads
as a question or request ("?", "berapa", "bisa", "mau"), and it does not itself answer what the
form asked (a contract number, a date, a name). A sure wait ("bentar ya kak, saya cari dulu") or
"maksudnya?" is an aside too, acknowledged without being taken as the answer. The validation
action then rejects the form's turn; a rule per form (data/rules/asides.yml) runs
`action_answer_aside` and returns to the form, which asks again.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecutionRejected, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_intent, slot_before_latest_message
from actions.handover import ActionHandover
from actions.hours import answer_hours_for_text
from actions.payments import answer_payment_methods
from crm.parsing import looks_like_a_question

ACCOUNT_INTENTS = frozenset(
    {
        "ask_instalment",
        "ask_bpkb_pickup",
        "ask_stnk_renewal",
        "request_due_date_change",
        "ask_autodebit",
        "ask_late_fee",
        "ask_payoff",
        "request_statement",
        "report_payment_not_posted",
    }
)
CASE_INTENTS = frozenset(
    {"report_insurance_claim", "report_vehicle_theft", "report_debtor_deceased", "request_credit_takeover"}
)
HANDOVER_INTENTS = frozenset({"complain", "request_human"})
WAIT = "hold_on"
CONFUSED = "confused"
# a wait or "maksudnya?" is never the answer ("bentar ya" is no yes, "gak ngerti" no no), unless it
# carries a number or a date
NOT_ANSWERS = frozenset({WAIT, CONFUSED})
ASIDE_INTENTS = (
    ACCOUNT_INTENTS | CASE_INTENTS | HANDOVER_INTENTS | NOT_ANSWERS | {"ask_office_hours", "ask_payment_methods"}
)
ASIDE_CONFIDENCE = 0.8
NAME = "action_answer_aside"


def _answered_already(tracker: Tracker) -> bool:
    """The aside of the latest message was answered (the form is back after the unhappy path)."""
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") == NAME:
            return True
    return False


def is_aside(tracker: Tracker) -> bool:
    """The latest message is confidently another request, not an answer; a button's payload
    ("Bicara ke petugas" is /request_human) is a request as clear as a question."""
    intent = tracker.latest_message.get("intent") or {}
    text = tracker.latest_message.get("text") or ""
    return (
        intent.get("name") in ASIDE_INTENTS
        and float(intent.get("confidence") or 0) >= ASIDE_CONFIDENCE
        and (text.startswith("/") or looks_like_a_question(text) or intent.get("name") in NOT_ANSWERS)
        and not _answered_already(tracker)
    )


def reject_for_aside(tracker: Tracker, form: str, answers: Callable[[str, str], bool]) -> Optional[List[EventType]]:
    """Events that hand the turn to the aside rule, or None when the message answers the form.
    `answers(slot, text)` says whether `text` holds a valid answer to `slot` anyway."""
    requested = tracker.get_slot("requested_slot")
    text = tracker.latest_message.get("text") or ""
    waits = latest_intent(tracker) in NOT_ANSWERS and not any(character.isdigit() for character in text)
    if not requested or not is_aside(tracker) or (answers(requested, text) and not waits):
        return None
    return [SlotSet(requested, None), ActionExecutionRejected(form)]


class ActionAnswerAside(Action):
    """Answer the other request made in the middle of a form; the form then asks again."""

    def name(self) -> str:
        return NAME

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        intent = latest_intent(tracker)
        form = tracker.active_loop.get("name") if tracker.active_loop else None
        if intent == WAIT:
            dispatcher.utter_message(response="utter_hold_on")
            return []
        if intent == CONFUSED:
            dispatcher.utter_message(response="utter_confused_in_form")
            return []
        if intent == "ask_office_hours":
            return answer_hours_for_text(dispatcher, tracker, ask_city=False)
        if intent == "ask_payment_methods":
            answer_payment_methods(dispatcher, tracker, with_buttons=False)
            return []
        if intent in HANDOVER_INTENTS:
            events = await ActionHandover().run(dispatcher, tracker, domain)
            dispatcher.utter_message(response="utter_aside_continue")
            return events
        if intent in ACCOUNT_INTENTS and form == "verification_form":
            dispatcher.utter_message(response="utter_aside_after_verification")  # account_topic follows it
            earlier = slot_before_latest_message(tracker, "account_topic")  # offered after the answer
            return (
                [SlotSet("earlier_topic", earlier)] if earlier and earlier != tracker.get_slot("account_topic") else []
            )
        if intent in ACCOUNT_INTENTS:
            dispatcher.utter_message(response="utter_aside_account_after_report")
            return []
        dispatcher.utter_message(response="utter_aside_report_after_this")
        return []
