"""A message the NLU did not place (unsure, or read as unrelated) that a reader of customers' own
words still knows. The fallback and the reply to an unrelated message try the same readers in one
order, kept here; what each does before them differs on purpose (a costly guess in the fallback,
the office-hours follow-up in the other)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.account import answer_for_month, answer_for_other_contract
from actions.handover import hand_over_hardship
from actions.hours import answer_branch_contact
from actions.payments import answer_pay_through, answer_statement_by_email, check_paid_yet_billed, recheck_payment
from crm.parsing import asks_to_stop_messages, asks_where_contract_number, normalise_contract_number


async def answer_follow_up(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
) -> Optional[List[EventType]]:
    """A follow-up to the account answer just given: another of the customer's cars ("yg raize
    gmn"), a correction of the payment checked ("eh salah, lewat m-banking"), another month
    ("kalau bulan depan?"). None when it is none of these."""
    other = await answer_for_other_contract(dispatcher, tracker, domain)
    if other is not None:
        return other
    corrected = recheck_payment(dispatcher, tracker)  # "eh salah, tadi pagi lewat m-banking"
    return corrected if corrected is not None else answer_for_month(dispatcher, tracker)


async def answer_unplaced(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any], leaning_costly: bool = False
) -> Optional[List[EventType]]:
    """The answer of the first reader that knows the message, None when none does. A message that
    leaned to a costly intent (`leaning_costly`) is only read for a customer who cannot pay: the
    confirming question comes before any other answer."""
    if not leaning_costly:
        follow_up = await answer_follow_up(dispatcher, tracker, domain)
        if follow_up is not None:
            return follow_up
    else:  # "yang yaris cross juga dong" (a complaint at 0.5): only another of the customer's cars
        other = await answer_for_other_contract(dispatcher, tracker, domain, only_pointing=True)
        if other is not None:
            return other
    text = tracker.latest_message.get("text") or ""
    hardship = hand_over_hardship(dispatcher, tracker, text)
    if hardship is not None or leaning_costly:  # "belum bisa bayar 3 bulan, mau ditarik": for staff
        return hardship
    paid = check_paid_yet_billed(tracker)  # "dapat sms tunggakan padahal sudah setor": the payment check
    if paid is not None:
        return paid
    if asks_to_stop_messages(text):  # "stop kirim promo ke saya": how (on WhatsApp, the buttons)
        dispatcher.utter_message(response="utter_opt_out_how")
        return []
    if asks_where_contract_number(text) and normalise_contract_number(text) is None:
        dispatcher.utter_message(response="utter_contract_number_help")  # "nomor kontrak liat dimana ya"
        return []
    contact = answer_branch_contact(dispatcher, tracker)  # "no telp cabang bandung brp"
    if contact is not None:
        return contact
    by_email = answer_statement_by_email(dispatcher, tracker)  # "kirim ke email aja" after the statement
    if by_email is not None:
        return by_email
    return await answer_pay_through(dispatcher, tracker, domain)  # "aku mau bayar via shopeepay bisa?"
