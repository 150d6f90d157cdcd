"""Money questions: how to pay (no verification needed for the channels; the contract's virtual
account once verified), the late-fee breakdown and the payoff figure (after verification, as
account topics answered by action_answer_account)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.common import (
    close_offer,
    escalate_conversation,
    open_offer,
    session_factory,
    settings,
    today,
    verified_contract,
)
from actions.handover import tell_when_answered
from crm import policy
from crm.clock import to_local
from crm.db import session_scope
from crm.formatting import long_date, long_date_time, rupiah, short_date
from crm.models import EscalationReason
from crm.responses import render
from crm.services import accounts, payments
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


def answer_payment_methods(dispatcher: CollectingDispatcher, tracker: Tracker, with_buttons: bool = True) -> bool:
    """The channels (and, once verified, the contract's VA and the day to pay by); True when the
    customer was offered a choice of channel."""
    buttons = _channel_buttons() if with_buttons else []
    advice = _advice(tracker)
    if advice is not None:
        dispatcher.utter_message(
            response="utter_payment_methods_verified",
            contract_number=tracker.get_slot("selected_contract"),
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


def answer_payment_steps(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    channel = chosen_channel(tracker)
    if channel is None:
        dispatcher.utter_message(response="utter_payment_channel_not_understood")
        return []
    advice = _advice(tracker)
    va, bank = (
        (advice.virtual_account, advice.bank) if advice else (render("utter_line_va_after_verification"), "bank Anda")
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
        offered = answer_payment_methods(dispatcher, tracker)
        return open_offer("payment_channel") if offered else close_offer()


# --- account topics (after verification) -------------------------------------------------------


def answer_late_fee(dispatcher, session: Session, tracker, customer_id: int, number: str) -> List[EventType]:
    fees = payments.late_fees(session, customer_id, number, today())
    if not fees.lines:
        dispatcher.utter_message(response="utter_late_fee_none", contract_number=number)
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
    rate = f"{fees.rate_per_day * 100:.1f}".replace(".", ",") + "%"
    dispatcher.utter_message(
        response="utter_late_fee_breakdown", contract_number=number, rate=rate, lines=lines, total=rupiah(fees.total)
    )
    return close_offer()


def answer_payoff(dispatcher, session: Session, tracker, customer_id: int, number: str) -> List[EventType]:
    day = read_when(tracker.get_slot("topic_text") or "", today=today()).day
    limit = today().toordinal() + policy.PAYOFF_DAYS_AHEAD
    if day is not None and (day < today() or day.toordinal() > limit):
        dispatcher.utter_message(response="utter_payoff_date_too_far", limit=long_date(type(day).fromordinal(limit)))
        day = None
    quote = payments.payoff_quote(session, customer_id, number, today(), day)
    if quote.total == 0:
        dispatcher.utter_message(response="utter_payoff_none", contract_number=number)
        return close_offer()
    dispatcher.utter_message(
        response="utter_payoff_quote",
        contract_number=number,
        as_of=long_date(quote.as_of),
        principal=rupiah(quote.outstanding_principal),
        interest=rupiah(quote.interest),
        fee_rate=f"{policy.EARLY_SETTLEMENT_FEE_RATE * 100:.0f}% dari sisa pokok",
        fee=rupiah(quote.settlement_fee),
        arrears=rupiah(quote.arrears),
        late_fees=rupiah(quote.late_fees),
        total=rupiah(quote.total),
        valid_until=long_date(quote.valid_until),
    )
    return close_offer()


# --- a payment that does not show --------------------------------------------------------------


def answer_payment_check(dispatcher, session: Session, tracker, customer_id: int, number: str) -> List[EventType]:
    """Check what the question already says ("kemarin lewat atm"), or ask when and how."""
    return _check_or_ask(dispatcher, session, tracker, customer_id, number, tracker.get_slot("topic_text") or "")


def handle_payment_details(dispatcher, session: Session, tracker, customer_id: int, number: str) -> List[EventType]:
    """The customer's answer to "when and how did you pay" (with the day said before, if any)."""
    text = " ".join([tracker.latest_message.get("text") or "", tracker.get_slot("payment_details") or ""])
    return _check_or_ask(dispatcher, session, tracker, customer_id, number, text, asked=True)


def _check_or_ask(dispatcher, session, tracker, customer_id, number, text: str, asked: bool = False) -> List[EventType]:
    channel = chosen_channel_in(tracker, text)
    paid_on = read_when(text, today=today(), prefer="past").day
    if paid_on is not None and paid_on > today():
        paid_on = None
    if channel is None:
        if not asked or paid_on is None:
            dispatcher.utter_message(response="utter_ask_payment_details", buttons=_channel_buttons())
        else:
            dispatcher.utter_message(response="utter_payment_channel_not_understood", buttons=_channel_buttons())
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
    elif check.outcome == "in_flight" and check.payment is not None and check.expected_by is not None:
        dispatcher.utter_message(
            response="utter_payment_in_flight",
            amount=rupiah(check.payment.amount),
            paid_at=long_date(to_local(check.payment.paid_at).date()),
            channel=channel.title,
            expected=long_date_time(check.expected_by),
            no_fee=no_fee,
        )
    elif check.outcome == "within_delay" and check.expected_by is not None:
        dispatcher.utter_message(
            response="utter_payment_within_delay",
            channel=channel.title,
            delay=_delay(channel),
            expected=long_date_time(check.expected_by),
            no_fee=no_fee,
        )
    else:
        dispatcher.utter_message(response="utter_payment_not_found", channel=channel.title, paid_on=long_date(paid_on))
        escalate_conversation(
            session,
            tracker,
            EscalationReason.CASE_REPORT,
            f"pembayaran belum ditemukan: {number}, {channel.title}, dibayar {paid_on.isoformat()}",
        )
        tell_when_answered(dispatcher, session)
    return close_offer()
