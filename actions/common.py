"""What every action needs: settings, a database session, today's date, the channel."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any, Dict, Iterable, List, Optional, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from sqlalchemy.orm import Session, sessionmaker

from crm import conversations, policy
from crm.db import create_db_engine, make_session_factory
from crm.formatting import percent, short_date
from crm.models import CaseKind, EscalationReason, MessageTemplate
from crm.parsing import (
    CONTRACT_NUMBER,
    asks_how_autodebit_works,
    asks_how_late_fees_work,
    begins_with_yes,
    names_yearly_tax,
    normalise_contract_number,
)
from crm.responses import buttons, domain_file, render
from crm.services import templates, verification
from crm.services.cases import FiledCase, file_case
from crm.services.escalations import EscalationResult, escalate
from crm.settings import Settings, load_settings
from crm.when import parse_date_of_birth


@lru_cache(maxsize=1)
def settings() -> Settings:
    """Settings of the running action server, read once on first use."""
    return load_settings()


@lru_cache(maxsize=4)
def _session_factory(url: str) -> sessionmaker:
    return make_session_factory(create_db_engine(url))


def session_factory() -> sessionmaker:
    return _session_factory(settings().database_url)


def reset() -> None:
    """Forget cached settings and engines (tests change the environment)."""
    settings.cache_clear()
    _session_factory.cache_clear()


def today() -> date:
    return settings().current_date()


def birth_date_in(text: str) -> Optional[date]:
    """The date of birth a message gives, read with any contract number taken out (its digits
    are no date)."""
    return parse_date_of_birth(CONTRACT_NUMBER.sub(" ", text), today=today())


def contract_and_birth_date(text: str) -> Tuple[Optional[str], Optional[date]]:
    """ "K10124000001 17-08-1985" -> the contract number and the birth date; the date only when
    there is a number."""
    number = normalise_contract_number(text)
    return number, birth_date_in(text) if number else None


def account_topics() -> Dict[str, str]:
    """Intent -> `account_topic`, as the slot's mappings in domain.yml say."""
    mappings = ((domain_file().get("slots") or {}).get("account_topic") or {}).get("mappings") or []
    return {m["intent"]: m["value"] for m in mappings if m.get("type") == "from_intent"}


def asked_account_topic(tracker: Tracker) -> Optional[str]:
    """The account topic that the words around a contract number ask about ("cicilan saya brp,
    K10124000001 lahir 17-08-1985"): the NLU's `question` (nlu_components/second_opinion.py), when
    it is sure enough and is an account question."""
    question = tracker.latest_message.get("question") or {}
    if float(question.get("confidence") or 0.0) < policy.QUESTION_WITH_CREDENTIALS_FLOOR:
        return None
    return account_topics().get(str(question.get("name")))


def topic_buttons(intents: Iterable[str]) -> List[Dict[str, str]]:
    """The topic buttons (utter_topics in domain.yml) of these intents, each once and in their
    order; an intent with no topic button has none."""
    offered = {b["payload"]: b for b in buttons("utter_topics")}
    return [offered[payload] for payload in dict.fromkeys(f"/{name}" for name in intents) if payload in offered]


def response_of(event: Dict[str, Any]) -> str:
    """The response (domain.yml name) a bot message came from; empty for plain text."""
    return str((event.get("metadata") or {}).get("utter_action") or "")


def said_before(tracker: Tracker) -> List[str]:
    """The responses (domain.yml names) of the bot's answer to the customer's previous message."""
    return [
        response_of(event) for event in previous_turn(tracker) if event.get("event") == "bot" and response_of(event)
    ]


def buttons_offered_before(tracker: Tracker) -> List[Dict[str, Any]]:
    """The buttons the bot's answer to the customer's previous message offered."""
    return [
        button
        for event in previous_turn(tracker)
        if event.get("event") == "bot"
        for button in (event.get("data") or {}).get("buttons") or []
    ]


def leaning_account_question(tracker: Tracker) -> List[Dict[str, str]]:
    """The topic button (utter_topics) of the account question the words around the credentials
    lean to without the certainty to answer it ("mau tanya angsuran, K10124000001 17-08-1985" at
    0.24): offered after verification instead of a bare "Ada yang bisa saya bantu?"."""
    question = tracker.latest_message.get("question") or {}
    name = str(question.get("name") or "")
    if name not in account_topics() or float(question.get("confidence") or 0.0) < policy.SUGGEST_TOPIC_FLOOR:
        return []
    return topic_buttons([name])


def topic_suggested_before(tracker: Tracker) -> Optional[str]:
    """The one account topic the bot's previous answer offered as a button ("cicilan", unsure, got
    "Info angsuran"): a customer who answers it with the credentials means that topic."""
    topics = account_topics()
    intents = {str(button.get("payload") or "").lstrip("/") for button in buttons_offered_before(tracker)}
    offered = {topics[intent] for intent in intents if intent in topics}
    return offered.pop() if len(offered) == 1 else None


def without_credentials(text: str, entities: List[Dict[str, Any]], born: date) -> str:
    """`text` without its contract number and the birth date in it (a due day or a payment date
    stays): what the question itself says."""
    spans = [
        (e["start"], e["end"])
        for e in entities
        if e.get("entity") == "date" and "start" in e and birth_date_in(str(e.get("value") or "")) == born
    ]
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + " " + text[end:]
    return " ".join(CONTRACT_NUMBER.sub(" ", text).split())


def verified_contract(tracker: Tracker) -> Optional[Tuple[int, str]]:
    """(customer id, contract number) once verified and a contract is chosen, else None."""
    customer_id, number = conversations.verified_customer_id(tracker), tracker.get_slot("selected_contract")
    if customer_id is None or tracker.get_slot("verification_locked") or not number:
        return None
    return customer_id, str(number)


def channel(tracker: Tracker) -> str:
    return tracker.get_latest_input_channel() or "unknown"


def sender_phone(tracker: Tracker) -> Optional[str]:
    """The sender's phone number where the channel proves it (a `whatsapp:<wa_id>` conversation)."""
    return conversations.whatsapp_number(tracker.sender_id)


def client(tracker: Tracker) -> Optional[str]:
    """The hashed client address the channel recorded with the latest message (verification limits)."""
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            found = (event.get("metadata") or {}).get("client")
            return str(found)[:64] if found else None
    return None


def open_offer(kind: str, **extra: Any) -> List[EventType]:
    """The bot asked a follow-up question; the next inform/affirm/deny answers it."""
    events = [SlotSet("offer_open", True), SlotSet("pending_offer", kind)]
    events += [SlotSet(name, value) for name, value in extra.items()]
    return events


def close_offer() -> List[EventType]:
    return [SlotSet("offer_open", False), SlotSet("pending_offer", None), SlotSet("offer_day", None)]


def day_buttons(days: List[date]) -> List[Dict[str, str]]:
    """One button per day (an ISO date payload) and one to decline."""
    buttons = [{"title": short_date(day), "payload": f'/inform{{"date":"{day.isoformat()}"}}'} for day in days]
    return buttons + [{"title": render("utter_line_no_thanks"), "payload": "/deny"}]


def latest_intent(tracker: Tracker) -> Optional[str]:
    return (tracker.latest_message.get("intent") or {}).get("name")


def bot_spoke_this_session(tracker: Tracker) -> bool:
    """The bot has already said something since the session started."""
    for event in reversed(tracker.events or []):
        if event.get("event") == "session_started":
            return False
        if event.get("event") == "bot":
            return True
    return False


def previous_turn(tracker: Tracker) -> List[Dict[str, Any]]:
    """The events that answered the customer's previous message (between it and the latest):
    what a follow-up ("kalau tgl 24?") follows. Empty at the start of a session."""
    turn: List[Dict[str, Any]] = []
    seen_latest = False
    for event in reversed(tracker.events or []):
        if event.get("event") == "session_started":
            return []
        if event.get("event") == "user":
            if seen_latest:
                return list(reversed(turn))
            seen_latest = True
        elif seen_latest:
            turn.append(event)
    return []


def said_yes(tracker: Tracker) -> bool:
    """A yes to the bot's yes-or-no question: read as `affirm`, or begun with a yes that the
    classifier heard as something else ("ya minta surat resminya" as a statement request)."""
    return latest_intent(tracker) == "affirm" or begins_with_yes(tracker.latest_message.get("text") or "")


def code_template(session: Session, tracker: Tracker) -> Optional[MessageTemplate]:
    """The approved one-time code template when this conversation must verify with a code: the
    website, WEBSITE_ONE_TIME_CODES on, WhatsApp configured to send it."""
    configured = settings()
    if channel(tracker) != "socketio" or not (configured.website_one_time_codes and configured.campaigns_enabled):
        return None
    return templates.approved_for(session, "verification")


def verify_identity(
    session: Session, tracker: Tracker, number: str, born: date, codes: bool = False
) -> verification.Verification:
    """The first verification step, with what the conversation proves: its channel, the sender's
    WhatsApp number, the client address (shared by the verification form and the case forms);
    `codes`: the website's one-time code follows."""
    return verification.verify(
        session,
        number,
        born,
        sender_phone=sender_phone(tracker),
        client=client(tracker),
        conversation_id=tracker.sender_id,
        channel=channel(tracker),
        needs_code=codes and code_template(session, tracker) is not None,
    )


def escalate_conversation(
    session: Session, tracker: Tracker, reason: EscalationReason, summary: str
) -> EscalationResult:
    """Put this conversation in the CRM queue, with what it proves: its channel, the verified
    customer, the client address and the per-client flood limit."""
    return escalate(
        session,
        conversation_id=tracker.sender_id,
        channel=channel(tracker),
        reason=reason,
        customer_id=conversations.verified_customer_id(tracker),
        client=client(tracker),
        client_limit=settings().escalations_per_client_per_hour,
        summary=summary,
    )


def file_conversation_case(session: Session, tracker: Tracker, kind: CaseKind, data: Dict[str, Any]) -> FiledCase:
    """File a case for this conversation (and queue it), like `escalate_conversation`."""
    return file_case(
        session,
        kind=kind,
        conversation_id=tracker.sender_id,
        channel=channel(tracker),
        data=data,
        customer_id=conversations.verified_customer_id(tracker),
        contract_number=tracker.get_slot("selected_contract"),
        client=client(tracker),
        client_limit=settings().escalations_per_client_per_hour,
    )


# the actions that answer a question (the first answer to a message of several questions offers
# its other questions; a later one does not offer them again)
ANSWERING_ACTIONS = frozenset({"action_answer_account", "action_answer_office_hours", "action_answer_payment_methods"})
_ANSWERS = frozenset({"inform", "affirm", "deny"})  # credentials and replies: not the question


# an answer that already answers another topic's question: the STNK answer (the BPKB loan) says
# where the BPKB is and how to have it ("stnk mau perpanjang 5 tahunan, bpkb nya gimana")
_COVERED_BY = {"stnk_renewal": {"ask_bpkb_pickup"}}


def slot_before_latest_message(tracker: Tracker, name: str) -> Any:
    """The value slot `name` had before the latest message set it again (None if never set)."""
    events = list(tracker.events or [])
    latest = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    for event in reversed(events[:latest]):
        if event.get("event") == "slot" and event.get("name") == name:
            return event.get("value")
    return None


def also_asked(tracker: Tracker, answered: Optional[str]) -> List[Dict[str, str]]:
    """The other questions of the message being answered ("denda saya berapa? terus bpkb kapan
    bisa diambil?"), as utter_topics buttons: the intents the NLU read in its other clauses (parse
    output `also_asked`), but the intent or account topic `answered`. Only at the first answer
    to that message."""
    for event in reversed(tracker.events or []):
        if event.get("event") == "action" and event.get("name") in ANSWERING_ACTIONS:
            return []
        if event.get("event") != "user":
            continue
        parse = event.get("parse_data") or {}
        asked = parse.get("also_asked") or []
        intent = (parse.get("intent") or {}).get("name")
        if asked or intent not in _ANSWERS:
            skip = {answered, intent, (parse.get("question") or {}).get("name")}
            skip |= {name for name, topic in account_topics().items() if topic == answered}
            skip |= _COVERED_BY.get(str(answered), set())
            return topic_buttons(str(a.get("name")) for a in asked if a.get("name") not in skip)
    return []


def answer_for_everyone(tracker: Tracker) -> Optional[Dict[str, Any]]:
    """The answer (a response and its values) to an account topic's question that is the same for
    every customer, so it needs no verification: the STNK's yearly tax ("perlu bpkb ga?": no), how
    late fees are counted, how to register for or stop autodebit. None for a question about
    one's own account."""
    topic, text = tracker.get_slot("account_topic"), tracker.get_slot("topic_text") or ""
    if topic == "stnk_renewal" and names_yearly_tax(text):
        return {"response": "utter_stnk_yearly"}
    if topic == "late_fee" and asks_how_late_fees_work(text):
        return {"response": "utter_late_fee_rule", "rate": percent(policy.LATE_FEE_RATE_PER_DAY)}
    if topic == "autodebit" and asks_how_autodebit_works(text):
        return {"response": "utter_autodebit_howto"}
    return None
