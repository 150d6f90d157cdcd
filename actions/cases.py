"""Case report forms (insurance claim, vehicle theft, deceased debtor, credit takeover) and
filing the case when a form is complete.

Each form asks its own questions; all share how the account is linked (contract number +
date of birth, only when the conversation is not verified yet, "lewati" to skip) and how a
customer stops ("batal"). Answers are checked here; free text is kept as typed.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.asides import reject_for_aside
from actions.common import birth_date_in, file_conversation_case, latest_intent, session_factory, today, verify_identity
from actions.handover import recent_user_messages, tell_when_answered
from crm import policy
from crm.db import session_scope
from crm.formatting import long_date, long_date_time
from crm.models import CaseKind
from crm.parsing import (
    CONTRACT_NUMBER,
    candidate_relation_in,
    describes_incident,
    is_cancellation,
    looks_like_a_name,
    looks_like_a_police_report_number,
    named_place,
    names_damage,
    normalise_contract_number,
    reporter_relation_in,
    says_where,
)
from crm.services.verification import Outcome, normalise_phone
from crm.when import When, read_when

# the day each report's form asks for
DATE_SLOTS = {"insurance_claim_form": "incident_date", "theft_form": "incident_date", "deceased_form": "death_date"}
_RECORDED = re.compile(r"\d{4}-\d{2}-\d{2}\b")


def _recent_past(day: Optional[date]) -> bool:
    """A day a report may be about: not ahead of today, and within three years."""
    return day is not None and day <= today() and (today() - day).days <= 3 * 365


def _recorded(when: When) -> str:
    """A day as the case keeps it for staff: ISO, the time when one was said, and the words of a
    day counted in weeks or months ("2026-11-05 (kira-kira: \"bulan lalu\")"): only that near."""
    assert when.day is not None
    kept = when.day.isoformat() + (f" {when.at:%H:%M}" if when.at else "")
    return kept + (f' (kira-kira: "{when.approximate}")' if when.approximate else "")


FORM_KINDS = {
    "insurance_claim_form": CaseKind.INSURANCE_CLAIM,
    "theft_form": CaseKind.VEHICLE_THEFT,
    "deceased_form": CaseKind.DEBTOR_DECEASED,
    "takeover_form": CaseKind.CREDIT_TAKEOVER,
}
FORM_SLOTS = {
    "insurance_claim_form": ["incident_date", "incident_place", "incident_description", "damage", "police_report"],
    "theft_form": ["incident_date", "incident_place", "police_report_number"],
    "deceased_form": ["reporter_name", "reporter_relation", "death_date", "death_certificate"],
    "takeover_form": ["candidate_name", "candidate_relation", "candidate_phone"],
}
ALL_CASE_SLOTS = sorted({"case_contract", "case_contract_number", *(s for slots in FORM_SLOTS.values() for s in slots)})
UNVERIFIED = "unverified"
MAX_TEXT = 500
POLICE_NUMBER_TO_FOLLOW = "sudah lapor, nomor menyusul"  # what the case record says for staff
REPORT_CONTEXT = 2  # earlier messages read for a report's date besides the one that opened the form

_SKIP = re.compile(
    r"\b(lewati|lewat|skip|tidak ada|gak ada|ga ada|nggak ada|tidak tahu|gak tau|ga tau|"
    r"nggak tau|lupa)\b",
    re.IGNORECASE,
)
_YES = re.compile(r"\b(ya|iya|iyah|y|sudah|udah|udh|sdh|ada|punya|yes|sudah ada)\b", re.IGNORECASE)
_NO = re.compile(r"\b(belum|blm|tidak|tdk|gak|ga|nggak|enggak|no|bukan|belom)\b", re.IGNORECASE)


def yes_or_no(text: str, intent: Optional[str]) -> Optional[str]:
    """'ya' / 'belum' from an answer to a yes-no question, or None when it is neither."""
    text = text or ""
    if _NO.search(text) or (intent == "deny" and not _YES.search(text)):
        return "belum"
    if _YES.search(text) or intent == "affirm":
        return "ya"
    return None


def clean_text(value: Any) -> Optional[str]:
    """Free text as typed (whitespace tidied), None when it holds no letters or digits."""
    text = " ".join(str(value or "").split())[:MAX_TEXT]
    return text if len(re.findall(r"\w", text)) >= 2 else None


_NO_NUMBER_WAITING = {"case_contract_number": None}


def _when(tells):
    """A reader of the whole message as it was typed, when `tells` finds it answers the question."""
    return lambda text: clean_text(text) if tells(text) else None


class ActionAskCaseContract(Action):
    """The case forms' question for the account: contract number and birth date, or only the
    date once the number came alone."""

    def name(self) -> str:
        return "action_ask_case_contract"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        number = tracker.get_slot("case_contract_number")
        if number:
            dispatcher.utter_message(response="utter_ask_case_birth_date", contract_number=number)
        else:
            dispatcher.utter_message(response="utter_ask_case_contract")
        return []


class CaseFormValidation(FormValidationAction):
    """What the four case forms share. Subclasses set `form` (the form's name)."""

    form: str = ""

    def name(self) -> str:
        return f"validate_{self.form}"

    async def required_slots(
        self, domain_slots: List[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[str]:
        if tracker.get_slot("case_cancelled"):
            return []
        needs_account = not tracker.get_slot("verified") and not tracker.get_slot("verification_locked")
        return (["case_contract"] if needs_account else []) + FORM_SLOTS[self.form]

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        requested = tracker.get_slot("requested_slot")
        text = tracker.latest_message.get("text") or ""
        if requested and is_cancellation(text) and not (requested == "case_contract" and _SKIP.search(text)):
            return [SlotSet(requested, None), SlotSet("case_cancelled", True)]
        aside = reject_for_aside(tracker, self.form, self._answers)
        if aside is not None:
            return aside
        return await super().get_validation_events(dispatcher, tracker, domain)

    @staticmethod
    def _answers(slot: str, text: str) -> bool:
        """`text` holds an answer to `slot` (then it is no aside, whatever the intent)."""
        if slot == "case_contract":
            return normalise_contract_number(text) is not None or bool(_SKIP.search(text))
        if slot in ("incident_date", "death_date"):
            return read_when(text, today=today(), prefer="past").understood
        if slot in ("police_report", "death_certificate"):
            return yes_or_no(text, None) is not None and len(text.split()) <= 4
        if slot in ("reporter_name", "candidate_name"):
            return looks_like_a_name(text)
        if slot == "police_report_number":
            return looks_like_a_police_report_number(text)
        if slot == "candidate_phone":
            return len(re.findall(r"\d", text)) >= 8
        return False

    # --- the account -------------------------------------------------------------------------

    async def validate_case_contract(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return {**_NO_NUMBER_WAITING, **await self._case_contract(value, dispatcher, tracker)}

    async def _case_contract(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[str, Any]:
        text = str(value or "")
        typed = normalise_contract_number(text)
        if typed is None and (_SKIP.search(text) or latest_intent(tracker) == "deny"):
            dispatcher.utter_message(response="utter_case_unverified")
            return {"case_contract": UNVERIFIED}
        number = typed or tracker.get_slot("case_contract_number")  # sent alone a turn before
        born = birth_date_in(text) if number else None
        if typed is not None and born is None:  # the number alone: action_ask_case_contract asks the date
            return {"case_contract": None, "case_contract_number": typed}
        if number is None or born is None:
            dispatcher.utter_message(response="utter_case_contract_invalid")
            return {"case_contract": None}
        with session_scope(session_factory()) as session:
            result = verify_identity(session, tracker, number, born)
        await asyncio.sleep(result.delay_seconds)
        if result.outcome is Outcome.VERIFIED and result.customer_id is not None:
            if self.form == "deceased_form":  # the reporter is not the debtor: no greeting by the debtor's name
                dispatcher.utter_message(response="utter_case_contract_found", contract_number=number)
            else:
                dispatcher.utter_message(response="utter_verified", customer_name=result.customer_name)
            return {
                "case_contract": number,
                "verified": True,
                "customer_id": float(result.customer_id),
                "customer_name": result.customer_name,
                "selected_contract": number,
                "verification_failures": 0.0,
            }
        if result.outcome in (Outcome.SECOND_FACTOR, Outcome.LOCKED, Outcome.REFUSED):
            # not the contract's WhatsApp number, or verification locked: filed unverified, and
            # the answer is the same whether or not the contract and date were right
            dispatcher.utter_message(response="utter_case_unverified")
            return {"case_contract": f"{UNVERIFIED}:{number}"}
        failures = int(tracker.get_slot("verification_failures") or 0) + 1
        if failures >= policy.MAX_VERIFICATION_ATTEMPTS:
            dispatcher.utter_message(response="utter_case_unverified")
            return {"case_contract": UNVERIFIED, "verification_failures": float(failures), "verification_locked": True}
        dispatcher.utter_message(response="utter_case_verification_failed")
        return {"case_contract": None, "verification_failures": float(failures)}

    # --- what the report already said ---------------------------------------------------------

    def _report_texts(self, tracker: Tracker) -> List[str]:
        """What the customer wrote before this form opened, newest first: the message that opened
        it ("motor saya dicuri semalam") and up to REPORT_CONTEXT messages before it."""
        opening = not tracker.active_loop_name and tracker.get_slot("requested_slot") is None
        opened = opening
        texts: List[str] = []
        for event in reversed(tracker.events or []):
            if event.get("event") == "active_loop" and event.get("name") == self.form:
                opened, texts = True, []  # messages after the form opened are its answers
            elif event.get("event") == "session_started":
                break
            elif event.get("event") == "user" and opened:
                texts.append(event.get("text") or "")
                if len(texts) > REPORT_CONTEXT:
                    break
        if opening and not texts:
            texts = [tracker.latest_message.get("text") or ""]
        return texts

    def _date_from_report(self, slot: str, tracker: Tracker) -> Dict[str, Any]:
        """A day the report already named fills `slot` so it is not asked again."""
        if tracker.get_slot(slot) is not None or tracker.get_slot("requested_slot") == slot:
            return {}
        for text in self._report_texts(tracker):
            if CONTRACT_NUMBER.search(text):  # "K10124000001 17-08-1985" is a date of birth
                continue
            when = read_when(text, today=today(), prefer="past")
            if _recent_past(when.day):
                return {slot: _recorded(when)}
        return {}

    async def extract_incident_date(self, dispatcher, tracker, domain) -> Dict[str, Any]:
        return (
            self._date_from_report("incident_date", tracker)
            if self.form in ("theft_form", "insurance_claim_form")
            else {}
        )

    async def extract_death_date(self, dispatcher, tracker, domain) -> Dict[str, Any]:
        return self._date_from_report("death_date", tracker) if self.form == "deceased_form" else {}

    def _told_in_report(self, slot: str, tracker: Tracker, read, forms=("insurance_claim_form",)) -> Dict[str, Any]:
        """What the report's own words already answer (`read` gives it, or None) fills `slot`, so
        a customer who opened with what happened, or where, is not asked to tell it again."""
        if self.form not in forms or tracker.get_slot(slot) is not None:
            return {}
        if tracker.get_slot("requested_slot") == slot:
            return {}
        for text in self._report_texts(tracker):
            told = read(text)
            if told is not None:
                return {slot: told}
        return {}

    async def extract_incident_description(self, dispatcher, tracker, domain) -> Dict[str, Any]:
        return self._told_in_report("incident_description", tracker, _when(describes_incident))

    async def extract_damage(self, dispatcher, tracker, domain) -> Dict[str, Any]:
        return self._told_in_report("damage", tracker, _when(names_damage))

    async def extract_candidate_relation(self, dispatcher, tracker, domain) -> Dict[str, Any]:
        # "mau over kredit ke adik saya": not asked again who the new debtor is
        return self._told_in_report("candidate_relation", tracker, candidate_relation_in, ("takeover_form",))

    async def extract_reporter_relation(self, dispatcher, tracker, domain) -> Dict[str, Any]:
        # "suami saya meninggal kemarin": the reporter is the widow
        return self._told_in_report("reporter_relation", tracker, reporter_relation_in, ("deceased_form",))

    async def extract_incident_place(self, dispatcher, tracker, domain) -> Dict[str, Any]:
        # "ditabrak di tol cikampek km 57": the road it names; "di depan rumah" is still asked
        return self._told_in_report("incident_place", tracker, named_place, ("insurance_claim_form", "theft_form"))

    # --- shared answers ------------------------------------------------------------------------

    def _past_date(self, slot: str, value: Any, dispatcher: CollectingDispatcher) -> Dict[str, Any]:
        """A day that has passed (within three years), with the time when one was said."""
        when = read_when(str(value or ""), today=today(), prefer="past")
        day = when.day
        if not _recent_past(day):
            if day is None and when.unread:
                dispatcher.utter_message(response="utter_date_not_understood", unread=when.unread)
            dispatcher.utter_message(response="utter_invalid_case_date")
            return {slot: None}
        return {slot: str(value) if _RECORDED.match(str(value)) else _recorded(when)}  # kept as extracted

    def _text(self, slot: str, value: Any, dispatcher: CollectingDispatcher) -> Dict[str, Any]:
        text = clean_text(value)
        if text is None:
            dispatcher.utter_message(response="utter_invalid_case_text")
        return {slot: text}

    def _yes_no(self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[str, Any]:
        answer = yes_or_no(str(value or ""), latest_intent(tracker))
        if answer is None:
            noted = self._when_told_late(value, dispatcher, tracker)
            if noted:
                return {slot: None, **noted}
            dispatcher.utter_message(response="utter_invalid_yes_no")
        return {slot: answer}

    def validate_incident_date(self, value, dispatcher, tracker, domain):
        return self._past_date("incident_date", value, dispatcher)

    def validate_death_date(self, value, dispatcher, tracker, domain):
        return self._past_date("death_date", value, dispatcher)

    def validate_incident_place(self, value, dispatcher, tracker, domain):
        noted = {} if says_where(str(value or "")) else self._when_told_late(value, dispatcher, tracker)
        return {"incident_place": None, **noted} if noted else self._text("incident_place", value, dispatcher)

    def validate_incident_description(self, value, dispatcher, tracker, domain):
        return self._text("incident_description", value, dispatcher)

    def _when_told_late(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[str, Any]:
        """ "kemarin sore sekitar jam 4" at the damage question, "sekitar tanggal 10 november" at the
        certificate's: a short answer that only says when is the form's day (or its time), noted;
        the question is asked again. Empty when it is no such answer."""
        slot = DATE_SLOTS.get(self.form)
        text = str(value or "")
        when = read_when(text, today=today(), prefer="past")
        if slot is None or not (when.understood or when.at) or names_damage(text) or len(text.split()) > 6:
            return {}
        recorded = str(tracker.get_slot(slot) or "")
        day = when.day or (date.fromisoformat(recorded[:10]) if _RECORDED.match(recorded) else None)
        if day is None or not _recent_past(day):
            return {}
        told = long_date_time(datetime.combine(day, when.at)) if when.at else long_date(day)
        dispatcher.utter_message(response="utter_incident_time_noted", when=told)
        return {slot: _recorded(When(day=day, at=when.at, approximate=when.approximate))}

    def validate_damage(self, value, dispatcher, tracker, domain):
        noted = self._when_told_late(value, dispatcher, tracker)
        return {"damage": None, **noted} if noted else self._text("damage", value, dispatcher)

    def _name(self, slot: str, value: Any, dispatcher: CollectingDispatcher) -> Dict[str, Any]:
        text = clean_text(value)
        if text is None or not looks_like_a_name(text):
            dispatcher.utter_message(response="utter_invalid_name")
            return {slot: None}
        return {slot: text}

    def validate_reporter_name(self, value, dispatcher, tracker, domain):
        return self._name("reporter_name", value, dispatcher)

    def validate_reporter_relation(self, value, dispatcher, tracker, domain):
        return self._text("reporter_relation", value, dispatcher)

    def validate_candidate_name(self, value, dispatcher, tracker, domain):
        return self._name("candidate_name", value, dispatcher)

    def validate_candidate_relation(self, value, dispatcher, tracker, domain):
        return self._text("candidate_relation", value, dispatcher)

    def validate_police_report(self, value, dispatcher, tracker, domain):
        return self._yes_no("police_report", value, dispatcher, tracker)

    def validate_death_certificate(self, value, dispatcher, tracker, domain):
        return self._yes_no("death_certificate", value, dispatcher, tracker)

    def validate_police_report_number(self, value, dispatcher, tracker, domain):
        text = clean_text(value) or ""
        answer = yes_or_no(text, latest_intent(tracker))
        if answer == "belum" and not re.search(r"\d", text):
            return {"police_report_number": "belum"}
        if answer == "ya" and not looks_like_a_police_report_number(text):
            # reported, but the letter is not at hand ("udah lapor polisi tadi pagi"): asking for
            # the number again only loops; staff ask for it with the case
            dispatcher.utter_message(response="utter_police_report_number_to_follow")
            return {"police_report_number": POLICE_NUMBER_TO_FOLLOW}
        if not looks_like_a_police_report_number(text):  # "kemarin", "sudah": not a letter number
            dispatcher.utter_message(response="utter_invalid_police_report_number")
            return {"police_report_number": None}
        return {"police_report_number": text}

    def validate_candidate_phone(self, value, dispatcher, tracker, domain):
        digits = normalise_phone(str(value or ""))
        if not re.fullmatch(r"62\d{8,12}", digits):
            dispatcher.utter_message(response="utter_invalid_phone")
            return {"candidate_phone": None}
        return {"candidate_phone": "+" + digits}


class ValidateInsuranceClaimForm(CaseFormValidation):
    form = "insurance_claim_form"


class ValidateTheftForm(CaseFormValidation):
    form = "theft_form"


class ValidateDeceasedForm(CaseFormValidation):
    form = "deceased_form"


class ValidateTakeoverForm(CaseFormValidation):
    form = "takeover_form"


def finished_form(tracker: Tracker) -> Optional[str]:
    """The case form that ran last in this conversation."""
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name") in FORM_KINDS:
            return event["name"]
    return None


def reset_case_slots() -> List[EventType]:
    return [SlotSet(slot, None) for slot in ALL_CASE_SLOTS] + [SlotSet("case_cancelled", False)]


class ActionSubmitCase(Action):
    """File the case the form collected (or drop it after "batal") and hand over to CRM."""

    def name(self) -> str:
        return "action_submit_case"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        form = finished_form(tracker)
        if form is None or tracker.get_slot("case_cancelled"):
            dispatcher.utter_message(response="utter_case_cancelled")
            return reset_case_slots()
        kind = FORM_KINDS[form]
        data = {slot: tracker.get_slot(slot) for slot in FORM_SLOTS[form]}
        account = tracker.get_slot("case_contract") or ""
        if account.startswith(f"{UNVERIFIED}:"):
            data["contract_number_given"] = account.split(":", 1)[1]
        data["recent_messages"] = recent_user_messages(tracker)
        with session_scope(session_factory()) as session:
            filed = file_conversation_case(session, tracker, kind, data)
            dispatcher.utter_message(response=f"utter_case_filed_{kind.value}", reference=filed.reference)
            tell_when_answered(dispatcher, session)
        return reset_case_slots()
