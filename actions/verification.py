"""The verification form: contract number + date of birth (+ the mother's maiden name when the
WhatsApp number is not the contract's), three attempts per conversation, limits per contract and
client address across conversations (crm.services.verification); then, for a customer with
several contracts, which contract the conversation is about."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import date
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.asides import reject_for_aside
from actions.common import (
    answer_for_everyone,
    birth_date_in,
    channel,
    client,
    code_template,
    contract_and_birth_date,
    escalate_conversation,
    latest_intent,
    sender_phone,
    session_factory,
    settings,
    verify_identity,
)
from channels.whatsapp.cloud import CloudApi, CloudError
from crm import policy
from crm.db import session_scope
from crm.formatting import mask_phone
from crm.models import EscalationReason
from crm.parsing import (
    asks_where_contract_number,
    contract_number_answered,
    days_late_asked,
    looks_like_a_name,
    normalise_contract_number,
    normalise_plate,
)
from crm.services import accounts, templates, verification
from crm.services.verification import Outcome

logger = logging.getLogger("actions.verification")
_CLEARED = {
    "contract_number": None,
    "date_of_birth": None,
    "mother_name": None,
    "one_time_code": None,
    "pending_proof": None,
    "pending_code": None,
}


# a birth date sent on its own is looked for among the newest messages only (the latest is listed
# twice, as the latest message and as an event): reading one costs up to 0.1 s ("123 456"), and a
# session can hold hundreds of messages
_ANSWER_LOOKBACK = 4


def _birth_date_sent_with(tracker: Tracker, number: str) -> Optional[date]:
    """The birth date sent with `number` in this session, so the customer is not asked for it
    again: in the same message ("K10124000001 lahir 17-08-1985"), or as an answer of its own (read
    as `inform`) sent after it and before any other number ("K10124000001", then "17-08-1985").
    Both also before any question: the number fills the slot then, and the form opens on the next
    message ("mau ganti jatuh tempo")."""
    messages = [(tracker.latest_message.get("text") or "", latest_intent(tracker))]
    for event in reversed(tracker.events or []):
        if event.get("event") == "session_started":
            break
        if event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            messages.append((event.get("text") or "", intent))
    sent_after: Optional[date] = None  # the newest birth date sent on its own after the number
    for seen, (text, intent) in enumerate(messages):
        said, born = contract_and_birth_date(text)
        if said == number:
            return born or sent_after
        if said is not None:
            return None  # another number came after this one: what follows belongs to it
        if sent_after is None and intent == "inform" and seen < _ANSWER_LOOKBACK:
            sent_after = birth_date_in(text)
    return None


def signing_secret() -> str:
    """The secret that signs the pending check between the two WhatsApp steps."""
    return settings().signing_secret or settings().action_server_token or ""


# a contract number tried, however badly ("K1012400001", "1012400000", "k 101"): a K before a
# digit, or five digits in a row; "kalau 10 hari?" tries none
_NUMBER_TRIED = re.compile(r"\bk\s*[-.]?\s*\d|\d{5,}", re.IGNORECASE)

# answers to the birth-date question that are courtesy, not a date ("makasih", "oke", "halo")
_CHAT_ACTS = frozenset({"thank", "affirm", "greet"})


class ValidateVerificationForm(FormValidationAction):
    def name(self) -> str:
        return "validate_verification_form"

    async def required_slots(
        self, domain_slots: List[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[str]:
        if tracker.get_slot("verification_locked"):
            return []
        if tracker.get_slot("verified"):
            return []
        if answer_for_everyone(tracker):  # "pajak stnk tahunan perlu bpkb ga?": the same answer for all
            return []
        if tracker.get_slot("pending_proof"):
            return ["one_time_code"] if tracker.get_slot("pending_code") else ["mother_name"]
        return ["contract_number", "date_of_birth"]

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        aside = reject_for_aside(tracker, "verification_form", self._answers)
        if aside is not None:
            return aside
        return await super().get_validation_events(dispatcher, tracker, domain)

    @staticmethod
    def _answers(slot: str, text: str) -> bool:
        """`text` holds an answer to `slot` (then it is no aside, whatever the intent)."""
        if slot == "date_of_birth":
            return birth_date_in(text) is not None
        if slot == "mother_name":
            return looks_like_a_name(text)
        if slot == "one_time_code":
            return bool(re.fullmatch(r"\s*\d[\d\s-]{4,10}\d\s*", text))
        return normalise_contract_number(text) is not None or normalise_plate(text) is not None

    # --- slots -----------------------------------------------------------------------------

    async def extract_contract_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """A contract number typed with the question is not asked for again, also when the NLU
        tagged no entity ("K10124000001 17-08-1985 autodebet saya kapan dipotong"). A WhatsApp
        reply to a notice we sent this number (the channel puts the notice in the message's
        metadata) is about the notice's contract: it is not asked for again either. The birth date
        still is, so the notice proves nothing it did not already say."""
        if tracker.get_slot("contract_number") or tracker.get_slot("verified"):
            return {}
        if tracker.get_slot("requested_slot") not in (None, "contract_number"):
            return {}
        typed = normalise_contract_number(tracker.latest_message.get("text") or "")
        if typed is not None:
            return {"contract_number": typed}
        if tracker.get_slot("requested_slot") is None and asks_where_contract_number(
            tracker.latest_message.get("text") or ""
        ):  # "mau tanya cicilan tapi lupa nomor kontrak": where it is written, before it is asked for
            dispatcher.utter_message(response="utter_contract_number_help")
        if sender_phone(tracker) is None:
            return {}
        metadata = tracker.latest_message.get("metadata") or {}
        notice = metadata.get("campaign_notice") if isinstance(metadata, dict) else None
        number = normalise_contract_number(str((notice or {}).get("contract") or ""))
        if number is None:
            return {}
        dispatcher.utter_message(response="utter_notice_contract_known", contract_ending=number[-4:])
        return {"contract_number": number}

    async def validate_contract_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        text = str(value or "")
        number = contract_number_answered(text)  # "10124000001" alone: the K left out
        if number is None:
            days = days_late_asked(text)
            if days is not None and tracker.get_slot("account_topic") == "late_fee" and not _NUMBER_TRIED.search(text):
                # "kalau 10 hari?" after "telat 3 hari kena denda berapa": the question, changed
                dispatcher.utter_message(response="utter_late_fee_days_noted", days=days)
                return {"contract_number": None, "topic_text": text}
            # "saya lupa nomor kontrak": no number tried, so where to find it and a person, not
            # the format
            dispatcher.utter_message(
                response="utter_invalid_contract_number" if _NUMBER_TRIED.search(text) else "utter_contract_number_help"
            )
            return {"contract_number": None}
        born = _birth_date_sent_with(tracker, number)
        if born is None:
            return {"contract_number": number}
        return await self._check(dispatcher, tracker, number, born)

    async def validate_date_of_birth(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        text = str(value or "")
        number = normalise_contract_number(text) or tracker.get_slot("contract_number")
        born = birth_date_in(text)
        if born is None:
            if re.search(r"\d", text) or latest_intent(tracker) not in _CHAT_ACTS:
                dispatcher.utter_message(response="utter_invalid_date_of_birth")
            # "makasih", "oke": no date that failed to read; the question is simply asked again
            return {"date_of_birth": None}
        if number is None:  # pragma: no cover - the form asks for the contract number first
            return {"date_of_birth": None}
        return await self._check(dispatcher, tracker, number, born)

    async def validate_mother_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return await self._second_step(verification.verify_second_factor, value, dispatcher, tracker)

    async def validate_one_time_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return await self._second_step(verification.verify_code, value, dispatcher, tracker)

    async def _second_step(
        self, check: Any, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> Dict[str, Any]:
        """The step after contract number and birth date (the mother's name on WhatsApp, the code
        on the website): `check` sees every factor at once and gives one answer."""
        number = tracker.get_slot("contract_number") or ""
        with session_scope(session_factory()) as session:
            result = check(
                session,
                number,
                str(tracker.get_slot("pending_proof") or ""),
                str(value or ""),
                secret=signing_secret(),
                client=client(tracker),
                conversation_id=tracker.sender_id,
                channel=channel(tracker),
            )
            contracts = (
                accounts.customer_contracts(session, result.customer_id) if result.customer_id is not None else []
            )
        await asyncio.sleep(result.delay_seconds)
        return self._outcome(dispatcher, tracker, number, result, contracts)

    # --- outcomes --------------------------------------------------------------------------

    async def _check(self, dispatcher: CollectingDispatcher, tracker: Tracker, number: str, born) -> Dict[str, Any]:
        with session_scope(session_factory()) as session:
            result = verify_identity(session, tracker, number, born, codes=True)
            contracts = (
                accounts.customer_contracts(session, result.customer_id) if result.customer_id is not None else []
            )
        await asyncio.sleep(result.delay_seconds)
        if result.outcome is Outcome.CODE_NEEDED:  # the website: the same answer whatever the pair was
            if result.customer_id is not None:
                await send_code(tracker, number)
            dispatcher.utter_message(response="utter_code_sent", minutes=policy.CODE_VALID_MINUTES)
            return {
                "contract_number": number,
                "date_of_birth": None,
                "pending_proof": verification.pending_proof(signing_secret(), number, born),
                "pending_code": True,
            }
        if result.outcome is Outcome.SECOND_FACTOR:  # asked whatever the first two were
            return {
                "contract_number": number,
                "date_of_birth": None,
                "pending_proof": verification.pending_proof(signing_secret(), number, born),
            }
        return self._outcome(dispatcher, tracker, number, result, contracts)

    def _outcome(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        number: str,
        result: verification.Verification,
        contracts,
    ) -> Dict[str, Any]:
        if result.outcome is Outcome.VERIFIED and result.customer_id is not None:
            asked = str(tracker.get_slot("topic_text") or "")
            return self._verified(dispatcher, result.customer_id, result.customer_name or "", contracts, number, asked)
        if result.outcome in (Outcome.LOCKED, Outcome.REFUSED):
            kind = "contract" if result.outcome is Outcome.LOCKED else "client"
            return {**_CLEARED, "verification_locked": True, "verification_lock_kind": kind}
        return self._failed(dispatcher, tracker)

    @staticmethod
    def _verified(
        dispatcher: CollectingDispatcher, customer_id: int, name: str, contracts, number: str, asked: str = ""
    ) -> Dict[str, Any]:
        """Verified: among several contracts, the one the question named ("cicilan raize saya"),
        else the one whose number the customer typed to verify; the answer names its car, and
        "kalau yang yaris?" moves to another (`answer_for_other_contract`)."""
        dispatcher.utter_message(response="utter_verified", customer_name=name)
        slots = {
            **_CLEARED,
            "verified": True,
            "customer_id": float(customer_id),
            "customer_name": name,
            "verification_failures": 0.0,
        }
        named = accounts.contracts_named_in(contracts, asked) if len(contracts) > 1 and asked else []
        chosen = named if len(named) == 1 else [c for c in contracts if c.number == number]
        if chosen:
            slots["selected_contract"] = chosen[0].number
        others = [c for c in contracts if chosen and c.number != chosen[0].number]
        if others:  # "Berikut untuk kontrak K1...; Bapak/Ibu juga memiliki kontrak K2 (Yaris Cross, ...)"
            dispatcher.utter_message(
                response="utter_other_contracts",
                contract_number=chosen[0].number,
                others=", ".join(f"{c.number} ({c.vehicle}, {c.plate})" for c in others),
            )
        return slots

    @staticmethod
    def _failed(dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[str, Any]:
        failures = int(tracker.get_slot("verification_failures") or 0) + 1
        slots: Dict[str, Any] = {**_CLEARED, "verification_failures": float(failures)}
        if failures < policy.MAX_VERIFICATION_ATTEMPTS:
            dispatcher.utter_message(
                response="utter_verification_failed",
                attempt=failures,
                max_attempts=policy.MAX_VERIFICATION_ATTEMPTS,
            )
            return slots
        with session_scope(session_factory()) as session:
            escalate_conversation(
                session, tracker, EscalationReason.VERIFICATION, f"verification failed {failures} times"
            )
        slots["verification_locked"] = True
        slots["verification_lock_kind"] = "conversation"
        return slots


async def send_code(tracker: Tracker, number: str) -> None:
    """Make a one-time code for this conversation and send it to the contract's WhatsApp number as
    the approved authentication template. The code is never logged; a failure is logged (masked)
    and the customer, asked for the code anyway, can start again."""
    with session_scope(session_factory()) as session:
        template = code_template(session, tracker)
        issued = verification.issue_code(session, number, tracker.sender_id, secret=signing_secret())
        message = templates.code_message(template, issued[1], issued[0]) if template and issued else None
    if message is None:
        logger.info("no one-time code sent (limit reached or no approved template)")
        return
    configured = settings()
    api = CloudApi(
        configured.whatsapp_api_url, str(configured.whatsapp_access_token), str(configured.whatsapp_phone_number_id)
    )
    try:
        await asyncio.get_running_loop().run_in_executor(None, api.send, message)
    except CloudError as error:
        logger.error("the one-time code could not be sent to %s: %s", mask_phone(message["to"]), error)


class ActionAskDateOfBirth(Action):
    """The birth-date question: with thanks right after the contract number was given, plainly
    when asked again (after a date it could not read, or a question answered in between)."""

    def name(self) -> str:
        return "action_ask_date_of_birth"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        this_turn: List[Dict[str, Any]] = []
        for event in reversed(tracker.events):
            if event.get("event") == "user":
                break
            this_turn.append(event)
        number_given = any(
            e.get("event") == "slot" and e.get("name") == "contract_number" and e.get("value") for e in this_turn
        )
        dispatcher.utter_message(
            response="utter_ask_date_of_birth" if number_given else "utter_ask_date_of_birth_again"
        )
        return []
