"""Money questions: how to pay (no verification needed for the channels; the contract's virtual
account once verified); after verification, as account topics answered by action_answer_account:
the late-fee breakdown, the payoff figure (and the official letter on request), a payment that
does not show (a payment_dispute case when it is not found) and the statement PDF."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.common import (
    channel as conversation_channel,
)
from actions.common import (
    close_offer,
    file_conversation_case,
    latest_intent,
    open_offer,
    said_before,
    said_yes,
    session_factory,
    settings,
    today,
    verified_contract,
)
from actions.handover import tell_when_answered
from actions.satisfaction import ask_after_answer
from crm import policy
from crm.clock import to_local, utc_now
from crm.db import session_scope
from crm.formatting import long_date, long_date_time, percent, rupiah, short_date
from crm.models import CaseKind, ContractStatus
from crm.parsing import (
    asks_by_email,
    asks_for_less,
    asks_to_pay,
    asks_to_pay_later,
    asks_where_to_pay,
    days_late_asked,
    names_payoff,
    normalise_contract_number,
    read_amount,
    says_paid_yet_billed,
)
from crm.responses import render
from crm.services import accounts, documents, payments, service_requests, statements
from crm.services.cases import FiledCase
from crm.third_parties import about_someone_else, third_parties
from crm.when import read_when


def _delay(channel: payments.Channel) -> str:
    if channel.posting_hours <= 0:
        return render("utter_line_posting_instant")
    return render("utter_line_posting_hours", hours=channel.posting_hours)


def _channel_lines() -> str:
    return "\n".join(
        render("utter_line_payment_channel", title=c.title, delay=_delay(c))
        for c in payments.payment_channels().channels
    )


def _channel_buttons() -> List[Dict[str, str]]:
    return [
        {"title": c.title, "payload": f'/inform{{"payment_channel":"{c.id}"}}'}
        for c in payments.payment_channels().channels
    ]


def _advice(tracker: Tracker) -> Optional[payments.PaymentAdvice]:
    """The verified contract's VA and pay-by day; None before verification (or for a contract
    that is not the verified customer's)."""
    verified = verified_contract(tracker)
    if verified is None:
        return None
    with session_scope(session_factory()) as session:
        try:
            return payments.payment_advice(session, *verified, today())
        except accounts.ContractNotFound:
            return None


# The VA is a channel and also the contract's own number: "no va sy brp" asks for the number,
# which the list of channels gives, with the day to pay by, once the customer is verified; just
# after the channel buttons, "virtual account" picks that channel.
_CONTRACTS_OWN_NUMBER = "virtual_account"
# "no va sy brp", "nomor virtual account saya": the number, not the steps of the channel
_NUMBER_WORDS = re.compile(r"\b(no|nomor|nomer|nmr|berapa|brp)\b", re.IGNORECASE)
# the account topic (domain.yml: account_topic) of a request for the VA number before verification
VA_NUMBER_TOPIC = "payment_methods"
PAYMENT_CHECK_TOPIC = "payment_not_posted"  # the account topic of report_payment_not_posted


# "no rek buat bayar angsuran apa ya": the account number to pay into is the contract's VA
_ACCOUNT_NUMBER = re.compile(r"\b(?:no|nomor|nomer|nmr)\.?\s*(?:rek|rekening)\b|\bnorek\b", re.IGNORECASE)
_TO_PAY = re.compile(r"\b(?:bayar\w*|membayar|transfer\w*|tf|angsuran\w*|cicilan\w*|setor\w*)\b", re.IGNORECASE)


def asks_for_own_va(tracker: Tracker) -> bool:
    """The message asks for the contract's own VA number ("no VA saya berapa", "no rek buat
    bayar angsuran apa ya")."""
    text = tracker.latest_message.get("text") or ""
    named = payments.payment_channels().all_named_in(text)
    if any(c.id == _CONTRACTS_OWN_NUMBER for c in named) and _NUMBER_WORDS.search(text):
        return True
    return bool(_ACCOUNT_NUMBER.search(text)) and bool(_TO_PAY.search(text)) and "koran" not in text.lower()


def verify_for_va(tracker: Tracker) -> Optional[List[EventType]]:
    """Before verification, a request for the VA number (or a contract number sent after the
    channel list, which says the VA comes after verification) starts verification; the answer
    follows it (`answer_own_va`). None once verified or locked: the answer is given as it is."""
    if verified_contract(tracker) is not None or tracker.get_slot("verification_locked"):
        return None
    number = normalise_contract_number(tracker.latest_message.get("text") or "")
    if number is None and not asks_for_own_va(tracker):
        return None
    events: List[EventType] = [SlotSet("account_topic", VA_NUMBER_TOPIC)]
    if number is not None:
        events.append(SlotSet("contract_number", number))
    return events + close_offer() + [FollowupAction("verification_form")]


def _one_channel_asked_about(tracker: Tracker) -> Optional[payments.Channel]:
    """The channel a question names when it names just one ("bisa bayar di alfamart?", "biaya
    admin di indomaret berapa"); the VA only as the answer to the channel buttons."""
    named = payments.payment_channels().all_named_in(tracker.latest_message.get("text") or "")
    if len(named) != 1:
        return None
    picking = tracker.get_slot("offer_open") and tracker.get_slot("pending_offer") == "payment_channel"
    return named[0] if named[0].id != _CONTRACTS_OWN_NUMBER or picking else None


def answer_payment_methods(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    with_buttons: bool = True,
    advice: Optional[payments.PaymentAdvice] = None,
    contract_number: Optional[str] = None,
) -> bool:
    """The steps of the one channel the question names; otherwise the channels (and, once
    verified, the contract's VA and the day to pay by: `advice`, else the verified contract's).
    True when the customer was offered a choice of channel."""
    channel = None if asks_for_own_va(tracker) else _one_channel_asked_about(tracker)
    if channel is not None:
        answer_payment_steps(dispatcher, tracker, channel)
        return False
    refused = payments.payment_channels().refused_in(tracker.latest_message.get("text") or "")
    if refused:  # "bisa bayar pakai kartu kredit?": no, then what can be used
        dispatcher.utter_message(response="utter_payment_not_accepted", way=refused)
    buttons = _channel_buttons() if with_buttons else []
    advice = advice or _advice(tracker)
    if advice is not None:
        if advice.next_due is None:  # paid off: nothing to pay, and no day to advise
            response = "utter_payment_methods_paid_off"
        else:
            response = "utter_payment_methods_overdue" if advice.overdue else "utter_payment_methods_verified"
        dispatcher.utter_message(
            response=response,
            contract_number=contract_number or tracker.get_slot("selected_contract"),
            va=advice.virtual_account,
            bank=advice.bank,
            next_due=long_date(advice.next_due) if advice.next_due else "-",
            pay_by=long_date(advice.pay_by) if advice.pay_by else "-",
            channels=_channel_lines(),
            buttons=buttons,
        )
        return bool(buttons)
    dispatcher.utter_message(response="utter_payment_methods_general", channels=_channel_lines(), buttons=buttons)
    return bool(buttons)


def chosen_channel(tracker: Tracker) -> Optional[payments.Channel]:
    """The channel a button or the text names ("lewat atm", "alfamart")."""
    return chosen_channel_in(tracker, tracker.latest_message.get("text") or "")


def chosen_channel_in(tracker: Tracker, text: str) -> Optional[payments.Channel]:
    channels = payments.payment_channels()
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "payment_channel":
            found = channels.get(str(entity.get("value")))
            if found:
                return found
    kept = channels.get(text.strip().split(" ")[-1]) if text.strip() else None  # an id kept in a slot
    return kept or channels.named_in(text)


def answer_payment_steps(
    dispatcher: CollectingDispatcher, tracker: Tracker, channel: Optional[payments.Channel] = None
) -> List[EventType]:
    """The steps of the channel given, or else of the one the customer chose (button or words)."""
    channel = channel or chosen_channel(tracker)
    if channel is None:
        dispatcher.utter_message(response="utter_payment_channel_not_understood")
        return []
    advice = _advice(tracker)
    va, bank = (
        (advice.virtual_account, advice.bank)
        if advice
        else (render("utter_line_va_after_verification"), render("utter_line_bank_after_verification"))
    )
    steps = "\n".join(
        render("utter_line_payment_step", number=number, step=step.format(va=va, bank=bank))
        for number, step in enumerate(channel.steps, start=1)
    )
    dispatcher.utter_message(
        response="utter_payment_steps",
        title=channel.title,
        steps=steps,
        delay=_delay(channel),
        cutoff=f"{channel.cutoff:%H.%M}",
    )
    return close_offer()


class ActionAnswerPaymentMethods(Action):
    def name(self) -> str:
        return "action_answer_payment_methods"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        corrected = recheck_payment(dispatcher, tracker)  # "eh salah, lewat m-banking" after the check
        if corrected is not None:
            return corrected
        verify = verify_for_va(tracker) if asks_for_own_va(tracker) else None
        if verify is not None:
            return verify
        if answer_payment_methods(dispatcher, tracker):
            return open_offer("payment_channel")
        ask_after_answer(dispatcher, tracker, [], "ask_payment_methods")
        return close_offer()


async def answer_pay_through(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
) -> Optional[List[EventType]]:
    """ "aku mau bayar via shopeepay bisa?" read as unrelated or unsure: a word for paying with a
    way to pay named (one of the channels, or one not accepted), or asking where to pay ("oke,
    bayarnya kemana?"), is the payment-methods answer. None otherwise, or for another party's bill
    ("bayar listrik pakai gopay", "bayar pdam lewat mana")."""
    text = tracker.latest_message.get("text") or ""
    if not asks_to_pay(text):
        return None
    channels = payments.payment_channels()
    refused = channels.refused_in(text)  # "pakai kredivo": a lender, named as a way to pay us
    asked = channels.all_named_in(text) or asks_where_to_pay(text)
    if not (refused or asked) or about_someone_else(third_parties(), text, channels):
        return None
    return await ActionAnswerPaymentMethods().run(dispatcher, tracker, domain)


def answer_own_va(dispatcher, session: Session, tracker, customer_id: int, number: str) -> List[EventType]:
    """After the verification a request for the VA number started: the contract's VA, the day to
    pay by and the channels."""
    advice = payments.payment_advice(session, customer_id, number, today())
    if answer_payment_methods(dispatcher, tracker, advice=advice, contract_number=number):
        return open_offer("payment_channel")
    return close_offer()


# --- account topics (after verification) -------------------------------------------------------


def _asks_for_less(tracker: Tracker) -> bool:
    """The question (as typed now, or as asked before verification) asks whether it can cost less."""
    return any(asks_for_less(text) for text in (tracker.latest_message.get("text"), tracker.get_slot("topic_text")))


def answer_late_fee(dispatcher, session: Session, tracker, customer_id: int, number: str) -> List[EventType]:
    fees = payments.late_fees(session, customer_id, number, today())
    rate = percent(fees.rate_per_day)
    if not fees.lines:  # "kalau telat dendanya brp sehari" is answered too
        dispatcher.utter_message(response="utter_late_fee_none", contract_number=number, rate=rate)
        days = days_late_asked(tracker.get_slot("topic_text") or "")
        if days:  # "kalau telat 5 hari dendanya berapa": that case, worked out on this contract
            amount = accounts.load_contract(session, customer_id, number).monthly_instalment
            dispatcher.utter_message(
                response="utter_late_fee_example",
                amount=rupiah(amount),
                days=days,
                fee=rupiah(policy.late_fee(amount, days)),
            )
        return close_offer()
    if _asks_for_less(tracker):  # "bisa dihapus ga dendanya?"
        dispatcher.utter_message(response="utter_late_fee_waiver")
        if _late_fees_just_shown(tracker):
            return close_offer()
    lines = "\n".join(
        render(
            "utter_line_late_fee",
            sequence=line.sequence,
            due=short_date(line.due_date),
            amount=rupiah(line.amount),
            days=line.days_late,
            fee=rupiah(line.fee),
        )
        for line in fees.lines
    )
    dispatcher.utter_message(
        response="utter_late_fee_breakdown",
        contract_number=number,
        rate=rate,
        lines=lines,
        total=rupiah(fees.total),
        count=len(fees.lines),
        overdue=rupiah(fees.overdue),
        due_now=rupiah(fees.due_now),
    )
    return close_offer()


def _payoff_day(dispatcher, text: str) -> Optional[date]:
    """The day the customer named for the payoff figure, None for today; a day out of range, or
    a time that is no day ("bulan depan"), is said and replaced by today."""
    when = read_when(text, today=today())
    day = when.day
    limit = payments.last_payoff_day(today())
    if day is None and when.unread and dispatcher is not None:
        dispatcher.utter_message(response="utter_payoff_date_unread", limit=long_date(limit))
    if day is not None and not payments.payoff_day_allowed(day, today()):
        if dispatcher is not None:
            dispatcher.utter_message(response="utter_payoff_date_too_far", limit=long_date(limit))
        return None
    return day


# "kalau tgl 20?", "kalo bulan depan berapa?": asked as a what-if about the figure just given
_WHAT_IF = re.compile(
    r"\?|\b(kalau|kalo|klo|kl|kalu|misal\w*|jika|jikalau|seandainya|andai\w*|gimana|bagaimana|bgmn|gmn|"
    r"berapa|brp)\b",
    re.IGNORECASE,
)
# the words of another account question ("kalau bulan depan cicilannya berapa?" is the instalment)
_OTHER_TOPIC = re.compile(
    r"\b(cicil\w*|angsur\w*|denda\w*|bpkb|stnk|autodebe?t\w*|auto\s+debe?t|jatuh\s+tempo|jt|"
    r"rekening\s+koran|va)\b",
    re.IGNORECASE,
)


def asks_payoff_for_another_day(tracker) -> bool:
    """Right after a payoff figure (its letter offered), a what-if naming a time and no other
    topic asks the same figure for that time: "kalau tgl 20?", "kalo bulan depan berapa?"; after
    "which day?" (offer `payoff_day`) any time named is that day."""
    pending = tracker.get_slot("pending_offer")
    if not tracker.get_slot("offer_open") or pending not in ("payoff_letter", "payoff_day"):
        return False
    text = tracker.latest_message.get("text") or ""
    if said_yes(tracker) or _OTHER_TOPIC.search(text):
        return False
    if pending == "payoff_letter" and not _WHAT_IF.search(text):
        return False
    when = read_when(text, today=today())
    return when.day is not None or bool(when.unread)


def _late_fees_just_shown(tracker: Tracker) -> bool:
    """The bot's answer to the previous message gave the late-fee figures (and what is owed today)."""
    return "utter_late_fee_breakdown" in said_before(tracker)


def _owed_today_asked(tracker: Tracker) -> bool:
    """A total asked right after the late-fee figures in words that do not say the whole credit:
    that total, not the payoff."""
    return _late_fees_just_shown(tracker) and not names_payoff(tracker.latest_message.get("text") or "")


def answer_payoff(
    dispatcher, session: Session, tracker, customer_id: int, number: str, text: Optional[str] = None
) -> List[EventType]:
    """The payoff figure for the day `text` names (the question's own words by default); the
    day quoted stays in `offer_day` for the letter offered after it."""
    if text is None and asks_payoff_for_another_day(tracker):
        text = tracker.latest_message.get("text") or ""
        asked = tracker.get_slot("pending_offer") == "payoff_day"
        if not asked and read_when(text, today=today()).day is None:  # "bulan depan": which day of it
            limit = payments.last_payoff_day(today())
            dispatcher.utter_message(response="utter_ask_payoff_day", limit=long_date(limit))
            return open_offer("payoff_day")
    if text is None and _owed_today_asked(tracker):
        # "kalau saya bayar hari ini totalnya berapa?" right after the late fees: what is due that
        # day ("besok", "tgl 10": the fees of the days until then too)
        said = read_when(tracker.latest_message.get("text") or "", today=today()).day
        day = said if said and payments.payoff_day_allowed(said, today()) else today()
        fees = payments.late_fees(session, customer_id, number, day)
        dispatcher.utter_message(
            response="utter_owed_today" if day == today() else "utter_owed_on_day",
            day=long_date(day),
            due_now=rupiah(fees.due_now),
            count=len(fees.lines),
            overdue=rupiah(fees.overdue),
            total=rupiah(fees.total),
        )
        return close_offer()
    if text is None:
        text = tracker.get_slot("topic_text") or ""
    quote = payments.payoff_quote(session, customer_id, number, today(), _payoff_day(dispatcher, text))
    if quote.total == 0:
        dispatcher.utter_message(response="utter_payoff_none", contract_number=number)
        return close_offer()
    fee_rate = percent(policy.EARLY_SETTLEMENT_FEE_RATE)
    if _asks_for_less(tracker):  # "ada diskon ga kalau lunas dipercepat?"
        dispatcher.utter_message(response="utter_payoff_discount", fee_rate=fee_rate)
    dispatcher.utter_message(
        response="utter_payoff_quote",
        contract_number=number,
        as_of=long_date(quote.as_of),
        principal=rupiah(quote.outstanding_principal),
        interest=rupiah(quote.interest),
        fee_rate=f"{fee_rate} dari sisa pokok",
        fee=rupiah(quote.settlement_fee),
        arrears=rupiah(quote.arrears),
        late_fees=rupiah(quote.late_fees),
        total=rupiah(quote.total),
        valid_until=long_date(quote.valid_until),
    )
    return [SlotSet("account_topic", "payoff")] + open_offer("payoff_letter", offer_day=quote.as_of.isoformat())


def _quoted_day(tracker) -> Optional[date]:
    """The day of the payoff figure last given, while it is still one a figure may be asked for."""
    try:
        day = date.fromisoformat(str(tracker.get_slot("offer_day") or ""))
    except ValueError:
        return _payoff_day(None, tracker.get_slot("topic_text") or "")
    return day if payments.payoff_day_allowed(day, today()) else None


def handle_payoff_letter(dispatcher, session: Session, tracker, customer_id: int, number: str) -> List[EventType]:
    """The answer to "shall I request the official payoff letter?"; "kalau tgl 20?" instead asks
    the figure for that day, and the answer to "which day?" (offer `payoff_day`) gets it."""
    if tracker.get_slot("pending_offer") == "payoff_day":
        if latest_intent(tracker) == "deny":
            dispatcher.utter_message(response="utter_offer_declined")
            return close_offer()
        return answer_payoff(
            dispatcher, session, tracker, customer_id, number, tracker.latest_message.get("text") or ""
        )
    if asks_payoff_for_another_day(tracker):
        return answer_payoff(dispatcher, session, tracker, customer_id, number)
    if asks_for_less(tracker.latest_message.get("text") or ""):  # "ada diskon ga?" is no "no"
        dispatcher.utter_message(response="utter_payoff_discount", fee_rate=percent(policy.EARLY_SETTLEMENT_FEE_RATE))
        dispatcher.utter_message(response="utter_offer_payoff_letter")
        return open_offer("payoff_letter", offer_day=tracker.get_slot("offer_day"))
    if not said_yes(tracker):
        dispatcher.utter_message(response="utter_offer_declined")
        return close_offer()
    quote = payments.payoff_quote(session, customer_id, number, today(), _quoted_day(tracker))
    request = service_requests.request_payoff_letter(
        session, customer_id, number, today(), quote.as_of, quote.total, tracker.sender_id
    )
    details = render(
        "utter_request_details_payoff_letter",
        contract_number=number,
        as_of=long_date(quote.as_of),
        total=rupiah(quote.total),
    )
    dispatcher.utter_message(response="utter_request_created", reference=request.reference, details=details)
    return close_offer()


# --- the statement -----------------------------------------------------------------------------


def check_paid_yet_billed(tracker: Tracker) -> Optional[List[EventType]]:
    """ "saya dapat sms tunggakan padahal sudah setor" read as unrelated or unsure: a payment made
    that the bills do not show is the payment check, after verification as when the NLU places
    it. None for any other message."""
    text = tracker.latest_message.get("text") or ""
    if not says_paid_yet_billed(text):
        return None
    topic = [SlotSet("account_topic", PAYMENT_CHECK_TOPIC), SlotSet("topic_text", text)]
    return topic + close_offer() + [FollowupAction("verification_form")]


def answer_statement_by_email(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[List[EventType]]:
    """ "kirim ke email aja" right after the statement, read as unrelated or unsure: the PDF is
    sent in this chat only (the customer forwards it), or staff send it. None otherwise."""
    if tracker.get_slot("account_topic") != "statement" or verified_contract(tracker) is None:
        return None
    if not asks_by_email(tracker.latest_message.get("text") or ""):
        return None
    dispatcher.utter_message(response="utter_statement_by_email")
    return []


def answer_statement(dispatcher, session: Session, tracker, customer_id: int, number: str) -> List[EventType]:
    """The statement PDF of the verified contract: a WhatsApp document, or a link on the website
    that works for this conversation only, for STATEMENT_LINK_MINUTES."""
    made = statements.statement(session, customer_id, number, today())
    pdf = statements.render_pdf(made, settings().current_time(), settings().brand_name)
    name = statements.filename(made)
    token = documents.issue(
        session,
        conversation_id=tracker.sender_id,
        contract_id=made.contract_id,
        kind="statement",
        filename=name,
        content_type="application/pdf",
        data=pdf,
        now=utc_now(),
    )
    on_whatsapp = conversation_channel(tracker) == "whatsapp"
    dispatcher.utter_message(
        response="utter_statement_ready",
        contract_number=number,
        as_of=long_date(made.as_of),
        paid_count=sum(1 for line in made.lines if line.state == "paid"),
        paid_total=rupiah(made.paid_total),
        outstanding=rupiah(made.outstanding),
        fees=render("utter_line_statement_open_fees", amount=rupiah(made.open_late_fees))
        if made.open_late_fees
        else "",
        link_note=""
        if on_whatsapp
        else render("utter_line_statement_link_note", minutes=policy.STATEMENT_LINK_MINUTES),
    )
    dispatcher.utter_message(
        attachment={
            "type": "file",
            "payload": {"title": name, "url": f"/webhooks/socketio/statements/{token}", "document": token},
        }
    )
    return close_offer()


# --- a payment that does not show --------------------------------------------------------------


def answer_payment_check(dispatcher, session: Session, tracker, customer_id: int, number: str) -> List[EventType]:
    """Check what the question already says ("kemarin lewat atm"), or ask when and how. A
    paid-off contract has nothing to check: "sudah lunas kok masih ditagih" is offered as a
    complaint."""
    contract = accounts.load_contract(session, customer_id, number)
    if contract.status is ContractStatus.PAID_OFF:
        dispatcher.utter_message(response="utter_billed_after_payoff", contract_number=number)
        return open_offer("complaint")
    asked = tracker.get_slot("topic_text") or ""
    if asks_to_pay_later(asked):  # "belum gajian, bisa mundur seminggu?": nothing paid to look for
        return _answer_pay_later(dispatcher, session, tracker, customer_id, number, asked)
    return _check_or_ask(dispatcher, session, tracker, customer_id, number, asked)


def _answer_pay_later(dispatcher, session: Session, tracker, customer_id: int, number: str, asked: str):
    """The next instalment's due date, the late fee for the delay asked (or per day), and the two
    ways out: a due date moved for good, or staff for a customer who cannot pay. Already late, what
    is owed today (the late-fee answer)."""
    summary = accounts.instalment_summary(session, customer_id, number, today())
    line = summary.next_due
    if line is None:
        return []
    if line.overdue:
        return answer_late_fee(dispatcher, session, tracker, customer_id, number)
    days = days_late_asked(asked)
    example = (
        render("utter_line_pay_later_fee", days=days, fee=rupiah(policy.late_fee(line.amount, days))) if days else ""
    )
    dispatcher.utter_message(
        response="utter_pay_later",
        sequence=line.sequence,
        amount=rupiah(line.amount),
        due=long_date(line.due_date),
        rate=percent(policy.LATE_FEE_RATE_PER_DAY),
        example=example,
    )
    return close_offer()


# the payment check's verdicts that file nothing: a correction after them is checked again
_VERDICTS = frozenset({"utter_payment_posted", "utter_payment_in_flight", "utter_payment_within_delay"})


def recheck_payment(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[List[EventType]]:
    """ "eh salah, bayarnya tadi pagi lewat m-banking bca" right after the payment check's verdict:
    the check again with the way or the day the message gives (the NLU read it as how to pay).
    None when the bot gave no verdict just before, or the message names neither."""
    verified = verified_contract(tracker)
    if verified is None or not _VERDICTS & set(said_before(tracker)):
        return None
    text = tracker.latest_message.get("text") or ""
    if chosen_channel_in(tracker, text) is None and read_when(text, today=today(), prefer="past").day is None:
        return None
    with session_scope(session_factory()) as session:
        return _check_or_ask(dispatcher, session, tracker, *verified, text, asked=True)


def handle_payment_details(dispatcher, session: Session, tracker, customer_id: int, number: str) -> List[EventType]:
    """The customer's answer to "when and how did you pay" (with the day said before, if any)."""
    text = " ".join([tracker.latest_message.get("text") or "", tracker.get_slot("payment_details") or ""])
    return _check_or_ask(dispatcher, session, tracker, customer_id, number, text, asked=True)


def _payment_case(
    session: Session,
    tracker: Tracker,
    number: str,
    channel_title: str,
    channel_id: str,
    paid_on: date,
    amount: Optional[int],
    amount_source: str,
    **more: Any,
) -> FiledCase:
    """A payment case for staff: one the records do not show, or one received but not posted."""
    data = {
        "contract_number": number,
        "channel": channel_title,
        "channel_id": channel_id,
        "paid_on": paid_on.isoformat(),
        "amount": amount,
        "amount_source": amount_source,
    }
    return file_conversation_case(session, tracker, CaseKind.PAYMENT_DISPUTE, {**data, **more})


def _check_or_ask(dispatcher, session, tracker, customer_id, number, text: str, asked: bool = False) -> List[EventType]:
    channel = chosen_channel_in(tracker, text)
    paid_on = read_when(text, today=today(), prefer="past").day
    if paid_on is not None and paid_on > today():
        paid_on = None
    if channel is None:
        if paid_on is None:
            response = "utter_ask_payment_details"
        else:  # "udah bayar kemarin kok belum masuk": only the channel is missing
            response = "utter_payment_channel_not_understood" if asked else "utter_ask_payment_channel"
        dispatcher.utter_message(response=response, buttons=_channel_buttons())
        return open_offer("payment_check", payment_details=paid_on.isoformat() if paid_on else None)
    if paid_on is None:
        dispatcher.utter_message(response="utter_ask_payment_date")
        return open_offer("payment_check", payment_details=channel.id)
    now_local = settings().current_time()
    check = payments.check_payment(session, customer_id, number, paid_on, channel.id, now_local)
    no_fee = render("utter_line_no_late_fee_for_delay") if policy.NO_LATE_FEE_FOR_POSTING_DELAY else ""
    if check.outcome == "posted" and check.payment is not None:
        dispatcher.utter_message(
            response="utter_payment_posted",
            amount=rupiah(check.payment.amount),
            paid_at=long_date(to_local(check.payment.paid_at).date()),
            channel=channel.title,
            sequence=check.instalment.sequence if check.instalment else "-",
            due=short_date(check.instalment.due_date) if check.instalment else "-",
        )
    elif check.outcome in ("in_flight", "posting_late") and check.payment is not None and check.expected_by is not None:
        received = check.payment
        told = dict(
            amount=rupiah(received.amount),
            paid_at=long_date(to_local(received.paid_at).date()),
            channel=channel.title,
            expected=long_date_time(check.expected_by),
            no_fee=no_fee,
        )
        if check.outcome == "in_flight":
            dispatcher.utter_message(response="utter_payment_in_flight", **told)
        else:  # received, but its channel's delay is over: for staff to post it
            filed = _payment_case(
                session,
                tracker,
                number,
                channel.title,
                received.channel,
                to_local(received.paid_at).date(),
                received.amount,
                "received",
                payment_reference=received.reference,
            )
            dispatcher.utter_message(response="utter_payment_posting_late", reference=filed.reference, **told)
            tell_when_answered(dispatcher, session)
    elif check.outcome == "within_delay" and check.expected_by is not None:
        dispatcher.utter_message(
            response="utter_payment_within_delay",
            channel=channel.title,
            delay=_delay(channel),
            expected=long_date_time(check.expected_by),
            no_fee=no_fee,
        )
    else:
        said = read_amount(text)
        due = accounts.instalment_summary(session, customer_id, number, today()).next_due
        filed = _payment_case(
            session,
            tracker,
            number,
            channel.title,
            channel.id,
            paid_on,
            said if said is not None else (due.amount if due else None),
            "customer" if said is not None else "instalment_due",
            proof="awaited",
        )
        dispatcher.utter_message(
            response="utter_payment_not_found",
            channel=channel.title,
            paid_on=long_date(paid_on),
            reference=filed.reference,
            upload=render("utter_line_upload_on_website") if conversation_channel(tracker) == "socketio" else "",
        )
        tell_when_answered(dispatcher, session)
    return close_offer()
