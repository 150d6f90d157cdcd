"""Answers about a verified customer's contract, and the follow-up questions they lead to
(pickup or BPKB-loan date, new due day, confirmation)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Callable, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.common import (
    account_topics,
    also_asked,
    answer_for_everyone,
    close_offer,
    day_buttons,
    latest_intent,
    leaning_account_question,
    open_offer,
    previous_turn,
    said_before,
    said_yes,
    session_factory,
    today,
    topic_buttons,
    verified_contract,
)
from actions.handover import file_complaint, hand_over_hardship, tell_when_answered
from actions.hours import answer_hours_for_text
from actions.payments import (
    VA_NUMBER_TOPIC,
    answer_late_fee,
    answer_own_va,
    answer_payment_check,
    answer_payment_steps,
    answer_payoff,
    answer_statement,
    asks_payoff_for_another_day,
    chosen_channel,
    handle_payment_details,
    handle_payoff_letter,
    verify_for_va,
)
from actions.satisfaction import answer_rating, ask_after_answer, rating_in
from crm import policy
from crm.db import session_scope
from crm.formatting import hours as opening_hours
from crm.formatting import long_date, month_name, rupiah, short_date
from crm.models import BpkbStatus
from crm.parsing import (
    asks_by_proxy,
    asks_whether,
    asks_why_bill_changed,
    looks_like_a_question,
    names_double_debit,
    names_failed_debit,
    normalise_contract_number,
    only_points_to,
)
from crm.responses import render
from crm.services import accounts, hours, service_requests
from crm.when import When, next_week_if_today, parse_day_of_month, read_month, read_when

Answer = Callable[[CollectingDispatcher, Session, Tracker, int, str], List[EventType]]


def _status(line: accounts.InstalmentLine) -> str:
    if line.paid:
        return (
            render("utter_line_instalment_paid_late", fee=rupiah(line.late_fee))
            if line.late_fee
            else render("utter_line_instalment_paid")
        )
    if line.overdue:
        return render("utter_line_instalment_overdue", fee=rupiah(line.late_fee))
    return render("utter_line_instalment_not_due")


def _line(line: accounts.InstalmentLine) -> str:
    return render(
        "utter_line_instalment",
        sequence=line.sequence,
        due=short_date(line.due_date),
        amount=rupiah(line.amount),
        status=_status(line),
    )


def answer_instalment(dispatcher, session, tracker, customer_id, number) -> List[EventType]:
    s = accounts.instalment_summary(session, customer_id, number, today())
    c = s.contract
    if s.next_due is None:
        dispatcher.utter_message(
            response="utter_instalment_paid_off",
            contract_number=c.number,
            vehicle=c.vehicle,
            plate=c.plate,
            paid=s.paid_count,
            tenor=s.tenor,
        )
        return close_offer()
    dispatcher.utter_message(
        response="utter_instalment_summary",
        contract_number=c.number,
        vehicle=c.vehicle,
        plate=c.plate,
        next_amount=rupiah(s.next_due.amount),
        next_due=long_date(s.next_due.due_date),
        paid=s.paid_count,
        tenor=s.tenor,
        outstanding=rupiah(s.outstanding),
    )
    if s.arrears_count:
        dispatcher.utter_message(
            response="utter_instalment_arrears",
            arrears_count=s.arrears_count,
            arrears_amount=rupiah(s.arrears_amount),
            arrears_fees=rupiah(s.arrears_fees),
        )
    debit = accounts.debit_date_for(s.next_due.due_date)
    if s.autodebit_bank and debit.moved and s.next_due.due_date >= today():  # "25 Des" is debited on the 24th
        dispatcher.utter_message(
            response="utter_instalment_debit_moved",
            bank=s.autodebit_bank,
            debit_date=long_date(debit.debit_date),
            due_date=short_date(debit.due_date),
            reason=debit.reason,
        )
    table = "\n".join(_line(line) for line in s.recent + s.upcoming)
    dispatcher.utter_message(response="utter_instalment_table", table=table)
    if asks_why_bill_changed(tracker.get_slot("topic_text") or tracker.latest_message.get("text") or ""):
        # "kenapa cicilan bulan ini lebih besar?": the instalment itself does not change; what does
        dispatcher.utter_message(response="utter_instalment_why_changed", amount=rupiah(s.next_due.amount))
    return close_offer()


def _next_open_days(session: Session, branch_id: int) -> List[date]:
    return hours.open_days(session, branch_id, date.fromordinal(today().toordinal() + 1), 3)


def _asks_by_proxy_after(tracker: Tracker, answer: str, offer: str) -> bool:
    """ "bisa diambil sama adik saya?" right after `answer` (which listed what to bring), under
    its day buttons (`offer`) or right after the visit was booked: who may collect is answered
    alone, not the whole answer again."""
    said = said_before(tracker)
    after = (
        answer in said
        or _BOOKED in said
        or (tracker.get_slot("offer_open") and tracker.get_slot("pending_offer") == offer)
    )
    return bool(after) and asks_by_proxy(tracker.latest_message.get("text") or "")


# the question that offers the days of each BPKB visit, and the answer that booked one
_DAY_OFFERS = {"bpkb_pickup": "utter_offer_pickup_day", "bpkb_loan": "utter_offer_loan_day"}
_BOOKED = "utter_request_created"

# the question whether to book the day the customer asked about, per visit, answered yes or no
_DAY_CONFIRMS = {"bpkb_pickup": "bpkb_pickup_confirm", "bpkb_loan": "bpkb_loan_confirm"}
_CONFIRM_RESPONSES = {"bpkb_pickup": "utter_confirm_pickup_day", "bpkb_loan": "utter_confirm_loan_day"}


def _answer_by_proxy(dispatcher, session: Session, tracker: Tracker, branch_id: int, offer: str) -> List[EventType]:
    """Who may collect for the customer, and the visit's days offered again unless it was just
    booked."""
    dispatcher.utter_message(response="utter_by_proxy")
    if _BOOKED in said_before(tracker):
        return close_offer()
    dispatcher.utter_message(response=_DAY_OFFERS[offer], buttons=day_buttons(_next_open_days(session, branch_id)))
    return open_offer(offer)


def answer_bpkb_pickup(dispatcher, session, tracker, customer_id, number) -> List[EventType]:
    info = accounts.bpkb_info(session, customer_id, number, today())
    branch = info.branch
    if info.status is BpkbStatus.READY and _asks_by_proxy_after(tracker, "utter_bpkb_ready", "bpkb_pickup"):
        return _answer_by_proxy(dispatcher, session, tracker, branch.id, "bpkb_pickup")
    if info.status is BpkbStatus.READY:
        dispatcher.utter_message(
            response="utter_bpkb_ready",
            contract_number=number,
            branch_name=branch.name,
            branch_address=branch.address,
            branch_phone=branch.phone,
        )
        dispatcher.utter_message(
            response="utter_offer_pickup_day", buttons=day_buttons(_next_open_days(session, branch.id))
        )
        return open_offer("bpkb_pickup")
    if info.status is BpkbStatus.HELD:
        dispatcher.utter_message(
            response="utter_bpkb_active",
            contract_number=number,
            remaining_count=info.remaining_count,
            remaining_amount=rupiah(info.remaining_amount),
            branch_name=branch.name,
            expected_ready=long_date(info.expected_ready) if info.expected_ready else "-",
            ready_days=policy.BPKB_READY_AFTER_DAYS,
        )
    elif info.status is BpkbStatus.LENT_OUT:
        dispatcher.utter_message(
            response="utter_bpkb_lent_out", contract_number=number, since=long_date(info.since), branch_name=branch.name
        )
    else:
        dispatcher.utter_message(
            response="utter_bpkb_handed_over",
            contract_number=number,
            since=long_date(info.since),
            branch_name=branch.name,
            branch_phone=branch.phone,
        )
    return close_offer()


# refused for arrears (a BPKB loan, a due-date change): what is owed, how to pay, a payment made
ARREARS_TOPICS = ("ask_late_fee", "ask_payment_methods", "report_payment_not_posted")


def answer_stnk_renewal(dispatcher, session, tracker, customer_id, number) -> List[EventType]:
    refusal = service_requests.bpkb_loan_refusal(session, customer_id, number, today())
    if refusal:
        buttons = ARREARS_TOPICS if refusal == "in_arrears" else []
        dispatcher.utter_message(response=f"utter_stnk_refused_{refusal}", buttons=topic_buttons(buttons))
        return close_offer()
    branch = accounts.bpkb_info(session, customer_id, number, today()).branch
    if _asks_by_proxy_after(tracker, "utter_stnk_info", "bpkb_loan"):
        return _answer_by_proxy(dispatcher, session, tracker, branch.id, "bpkb_loan")
    dispatcher.utter_message(
        response="utter_stnk_info",
        max_days=policy.BPKB_LOAN_MAX_DAYS,
        fee=rupiah(policy.BPKB_LOAN_FEE),
        branch_name=branch.name,
    )
    dispatcher.utter_message(response="utter_offer_loan_day", buttons=day_buttons(_next_open_days(session, branch.id)))
    return open_offer("bpkb_loan")


def quote_due_date(dispatcher, session, customer_id, number, new_day: Optional[int]) -> List[EventType]:
    """Show the effect of moving the due day, or say why it cannot move; with no day named
    ("iya", "tgl 5 atau 6"), ask for one."""
    if new_day is None:
        contract = accounts.load_contract(session, customer_id, number)
        # in arrears or changed lately: said now, not after the customer has chosen a day
        refusal = service_requests.due_date_change_refusal(session, contract, today())
        if refusal is not None:
            return _refuse_due_date_change(dispatcher, refusal)
        dispatcher.utter_message(response="utter_ask_new_due_day", current_day=contract.due_day)
        return open_offer("due_day")
    try:
        quote = service_requests.due_date_change_quote(session, customer_id, number, new_day, today())
    except service_requests.Refused as refused:
        return _refuse_due_date_change(dispatcher, refused)
    dispatcher.utter_message(
        response="utter_due_date_quote",
        current_day=quote.current_day,
        new_day=quote.new_day,
        current_dates=", ".join(short_date(d) for d in quote.current_dates),
        new_dates=", ".join(short_date(d) for d in quote.new_dates),
        fee=rupiah(quote.fee),
    )
    return open_offer("due_date_confirm", offer_day=str(quote.new_day))


def _refuse_due_date_change(dispatcher: CollectingDispatcher, refused: service_requests.Refused) -> List[EventType]:
    details = {k: (long_date(v) if isinstance(v, date) else v) for k, v in refused.details.items()}
    buttons = topic_buttons(ARREARS_TOPICS if refused.code == "in_arrears" else [])
    dispatcher.utter_message(response=f"utter_due_date_refused_{refused.code}", buttons=buttons, **details)
    # a day outside 1-28 ("tgl 31", "kemarin"): explain and ask again
    return open_offer("due_day") if refused.code == "invalid_day" else close_offer()


def answer_due_date_change(dispatcher, session, tracker, customer_id, number) -> List[EventType]:
    return quote_due_date(
        dispatcher, session, customer_id, number, parse_day_of_month(tracker.get_slot("topic_text") or "")
    )


def _debit_line(item: accounts.AutodebitDate) -> str:
    """One debit day of the schedule, with why it moved when it did."""
    return render(
        "utter_line_autodebit_moved" if item.moved else "utter_line_autodebit",
        debit_date=long_date(item.debit_date),
        due_date=short_date(item.due_date),
        reason=item.reason,
    )


def answer_autodebit(dispatcher, session, tracker, customer_id, number) -> List[EventType]:
    if names_double_debit(tracker.get_slot("topic_text") or ""):  # "autodebet kepotong 2x": money back
        dispatcher.utter_message(response="utter_double_debit", contract_number=number)
        return open_offer("complaint")
    schedule = accounts.autodebit_schedule(session, customer_id, number, today())
    failed = bool(schedule.bank) and names_failed_debit(tracker.get_slot("topic_text") or "")
    last = accounts.last_due(accounts.load_contract(session, customer_id, number), today()) if failed else None
    if last is not None:
        # "autodebet saya bulan ini gagal": whether the latest instalment was paid, before the schedule
        dispatcher.utter_message(
            response="utter_autodebit_last_paid" if last.paid else "utter_autodebit_last_unpaid",
            sequence=last.sequence,
            amount=rupiah(last.amount),
            due_date=long_date(last.due_date),
            buttons=[] if last.paid else topic_buttons(["ask_payment_methods"]),
        )
    if schedule.bank:
        lines = [_debit_line(item) for item in schedule.dates]
        dispatcher.utter_message(
            response="utter_autodebit_schedule",
            contract_number=number,
            bank=schedule.bank,
            due_day=schedule.due_day,
            schedule="\n".join(lines) or "-",
        )
    else:
        dispatcher.utter_message(response="utter_autodebit_none", contract_number=number)
    dispatcher.utter_message(response="utter_autodebit_howto")
    return close_offer()


# answers whose figures differ by month: "kalau bulan depan?" right after them asks that month's
MONTH_TOPICS = ("instalment", "autodebit")


def answer_for_month(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[List[EventType]]:
    """ "kalau bulan depan?", "januari berapa?" right after the instalment or autodebit answer:
    that month's instalment, or its debit day. None when the message names no month or carries
    a contract number, or the previous answer was another."""
    verified = verified_contract(tracker)
    topic = tracker.get_slot("account_topic")
    answered = any(
        e.get("event") == "action" and e.get("name") == "action_answer_account" for e in previous_turn(tracker)
    )
    text = tracker.latest_message.get("text") or ""
    if verified is None or topic not in MONTH_TOPICS or not answered or normalise_contract_number(text):
        return None
    named = read_month(text, today=today())
    if named is None:
        return None
    with session_scope(session_factory()) as session:
        contract = accounts.load_contract(session, *verified)
        line, bank = accounts.instalment_in_month(contract, today(), *named), contract.autodebit_bank
    month = month_name(*named)
    if line is None:
        dispatcher.utter_message(response="utter_no_instalment_in_month", contract_number=verified[1], month=month)
    elif topic == "autodebit" and bank and not line.paid:
        dispatcher.utter_message(
            response="utter_autodebit_in_month",
            month=month,
            bank=bank,
            line=_debit_line(accounts.debit_date_for(line.due_date)),
        )
    else:
        dispatcher.utter_message(
            response="utter_instalment_in_month",
            month=month,
            sequence=line.sequence,
            amount=rupiah(line.amount),
            due=long_date(line.due_date),
            status=_status(line),
        )
    return []


ANSWERS: Dict[str, Answer] = {
    "late_fee": answer_late_fee,
    "payment_not_posted": answer_payment_check,
    "payoff": answer_payoff,
    "statement": answer_statement,
    "instalment": answer_instalment,
    "bpkb_pickup": answer_bpkb_pickup,
    "stnk_renewal": answer_stnk_renewal,
    "due_date_change": answer_due_date_change,
    "autodebit": answer_autodebit,
    VA_NUMBER_TOPIC: answer_own_va,
}


# the follow-up questions answered yes or no
YES_NO_OFFERS = frozenset({"payoff_letter", "due_date_confirm", "verify_other", "complaint", *_DAY_CONFIRMS.values()})
# the follow-up questions answered with a day (the date buttons of a pickup or a loan; "senin aja"
# also answers "shall I book Saturday?")
DAY_OFFERS = frozenset({"bpkb_pickup", "bpkb_loan", *_DAY_CONFIRMS.values()})


class ActionAnswerAccount(Action):
    """Answer the account question that started verification (slot `account_topic`)."""

    def name(self) -> str:
        return "action_answer_account"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        if tracker.get_slot("verification_locked"):
            kind = tracker.get_slot("verification_lock_kind")
            if kind in ("contract", "client"):  # across conversations: no queue item from here
                dispatcher.utter_message(
                    response="utter_verification_locked_contract"
                    if kind == "contract"
                    else "utter_verification_refused"
                )
                return close_offer()
            dispatcher.utter_message(
                response="utter_verification_locked", max_attempts=policy.MAX_VERIFICATION_ATTEMPTS
            )
            with session_scope(session_factory()) as session:
                tell_when_answered(dispatcher, session)
            return close_offer()
        if tracker.get_slot("offer_open") and tracker.get_slot("pending_offer") in YES_NO_OFFERS and said_yes(tracker):
            return await ActionHandleOffer().run(dispatcher, tracker, domain)  # "ya minta surat resminya"
        offer = tracker.get_slot("pending_offer") if tracker.get_slot("offer_open") else None
        if offer in DAY_OFFERS and _chosen_day(tracker).day:  # "bisa diambil sabtu ga?": that day
            return await ActionHandleOffer().run(dispatcher, tracker, domain)
        verified = verified_contract(tracker)
        topic = tracker.get_slot("account_topic") or ""
        if topic != "payoff" and asks_payoff_for_another_day(tracker):  # "kalau bulan depan berapa?"
            topic = "payoff"
        answer = ANSWERS.get(topic)
        general = answer_for_everyone(tracker)
        if general:  # "cara daftar autodebet gimana": the same answer for every customer
            dispatcher.utter_message(**general)
            return close_offer()
        if verified is None:
            return close_offer()  # nothing is said about an account before verification
        if answer is None:  # verified from a contract number and birth date sent before any question
            leaning = leaning_account_question(tracker)  # "mau tanya angsuran, K... 17-08-1985"
            if leaning:
                dispatcher.utter_message(response="utter_verified_which_topic", buttons=leaning)
            else:
                dispatcher.utter_message(response="utter_how_can_i_help")
            return close_offer()
        with session_scope(session_factory()) as session:
            chosen: List[EventType] = []
            contracts = accounts.customer_contracts(session, verified[0])
            asked = _contract_asked_about(tracker)
            if asked is None:  # "bpkb raize saya", "kalau yang satunya?": another of the customer's cars
                meant = accounts.contract_meant(contracts, tracker.latest_message.get("text") or "", verified[1])
                asked = meant.number if meant else None
            if asked and asked != verified[1]:
                if asked not in {c.number for c in contracts}:  # nothing about it, not even whether it exists
                    dispatcher.utter_message(response="utter_contract_not_verified", contract_number=asked)
                    return open_offer("verify_other", contract_number=asked)
                verified, chosen = (verified[0], asked), [SlotSet("selected_contract", asked)]
            try:
                events = chosen + answer(dispatcher, session, tracker, *verified)
            except accounts.ContractNotFound:  # a contract of someone else's: say nothing about it
                dispatcher.utter_message(response="utter_how_can_i_help")
                return close_offer()
        others = also_asked(tracker, topic)
        earlier = _asked_before(tracker, topic)
        if earlier:
            events = events + [SlotSet("earlier_topic", None)]
        if others:  # "denda saya berapa? terus bpkb kapan bisa diambil?": the other question next
            dispatcher.utter_message(response="utter_also_asked", buttons=others)
        elif earlier:  # asked before the question answered, while verification was under way
            dispatcher.utter_message(response="utter_asked_before", buttons=earlier)
        elif hand_over_hardship(dispatcher, tracker, tracker.get_slot("topic_text") or "") is None:
            ask_after_answer(dispatcher, tracker, events, topic)  # "di-phk, cicilan gimana": staff after the answer
        return events


def _asked_before(tracker: Tracker, answered: str) -> List[Dict[str, str]]:
    """The button of the account question asked before the one answered (`earlier_topic`)."""
    earlier = tracker.get_slot("earlier_topic")
    if not earlier or earlier == answered:
        return []
    return topic_buttons(intent for intent, topic in account_topics().items() if topic == earlier)


async def answer_for_other_contract(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any], only_pointing: bool = False
) -> Optional[List[EventType]]:
    """ "kalau yang raize?", "yang satunya?" after an account answer: the same topic for the
    customer's other contract the words point to (`accounts.contract_meant`). None when they point
    to none of the customer's contracts, or before verification or any account answer. With
    `only_pointing` (the NLU leaned to a complaint or a report), only when the message says nothing
    else ("yang yaris cross juga dong")."""
    verified = verified_contract(tracker)
    if verified is None or ANSWERS.get(tracker.get_slot("account_topic") or "") is None:
        return None
    with session_scope(session_factory()) as session:
        contracts = accounts.customer_contracts(session, verified[0])
    text = tracker.latest_message.get("text") or ""
    meant = accounts.contract_meant(contracts, text, verified[1])
    if len(contracts) < 2 or meant is None:
        return None
    if only_pointing and not only_points_to(text, accounts.contract_words(meant)):
        return None
    return await ActionAnswerAccount().run(dispatcher, tracker, domain)


# "yang paling cepet aja", "secepatnya", "yang pertama": the first of the days offered
EARLIEST = re.compile(
    r"\b(paling\s+(cepat|cepet|awal|dekat|deket)|secepatnya|sesegera|terdekat|tercepat|yang\s+pertama|"
    r"yg\s+pertama|pertama\s+aja|kapan\s+aja|kapan\s+saja|terserah)\b",
    re.IGNORECASE,
)


def _contract_asked_about(tracker: Tracker) -> Optional[str]:
    """The contract number the latest message names, if any."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "contract_number":
            number = normalise_contract_number(str(entity.get("value")))
            if number:
                return number
    return normalise_contract_number(tracker.latest_message.get("text") or "")


def verify_other_contract(tracker: Tracker) -> List[EventType]:
    """Start verification again for the contract the customer asked about (its own check)."""
    number = tracker.get_slot("contract_number")
    forget = ["verified", "customer_id", "customer_name", "selected_contract"]
    return (
        [SlotSet(slot, None) for slot in forget]
        + [SlotSet("contract_number", number)]
        + close_offer()
        + [FollowupAction("verification_form")]
    )


def _chosen_day(tracker: Tracker) -> When:
    """The day the customer chose: a button's ISO date entity, else what they wrote."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "date":
            chosen = read_when(str(entity.get("value")), today=today())
            if chosen.understood:
                return chosen
    text = tracker.latest_message.get("text") or ""
    return next_week_if_today(text, read_when(text, today=today()), today=today())  # "sabtu" on a Saturday


def _book(dispatcher, session, tracker, customer_id, number, kind: str) -> List[EventType]:
    if latest_intent(tracker) == "deny":
        dispatcher.utter_message(response="utter_offer_declined")
        return close_offer()
    chosen = _chosen_day(tracker)
    day = chosen.day
    if day is None and EARLIEST.search(tracker.latest_message.get("text") or ""):
        branch = accounts.bpkb_info(session, customer_id, number, today()).branch
        offered = _next_open_days(session, branch.id)
        day = offered[0] if offered else None  # "yang paling cepat aja": the first day offered
    if day is not None and asks_whether(tracker.latest_message.get("text") or ""):
        # "bisa diambil hari sabtu?": whether that day can be, answered, and booked only on a yes
        return _confirm_day(dispatcher, session, customer_id, number, kind, day)
    if day is None:
        if chosen.unread:
            dispatcher.utter_message(response="utter_date_not_understood", unread=chosen.unread)
        elif looks_like_a_question(tracker.latest_message.get("text") or ""):
            # "ambilnya dimana ya", "harus bawa apa aja": the answer holds it; told again, the offer
            # stays ("bisa diambil sama adik saya?": who may collect, alone)
            if not asks_by_proxy(tracker.latest_message.get("text") or ""):
                dispatcher.utter_message(response="utter_offer_answer_again")
            answer = answer_bpkb_pickup if kind == "bpkb_pickup" else answer_stnk_renewal
            return answer(dispatcher, session, tracker, customer_id, number)
        dispatcher.utter_message(response="utter_day_not_understood")
        return []
    return _book_day(dispatcher, session, tracker, customer_id, number, kind, day)


def _refused_day(dispatcher, refused: service_requests.Refused, day: date) -> List[EventType]:
    """Why the day cannot be booked; the account's own refusals (it changed since the offer) end it."""
    if refused.code not in service_requests.DAY_REFUSALS:
        dispatcher.utter_message(response="utter_request_not_possible")
        return close_offer()
    holiday = refused.details.get("holiday")
    dispatcher.utter_message(
        response=f"utter_day_refused_{refused.code}",
        day=long_date(day),
        reason=f" ({holiday})" if holiday else "",
        horizon=policy.APPOINTMENT_HORIZON_DAYS,
    )
    return []


def _confirm_day(dispatcher, session, customer_id, number, kind: str, day: date) -> List[EventType]:
    """The day asked about can be booked (its branch's hours that day), shall it be?"""
    try:
        office = service_requests.check_bpkb_visit(session, customer_id, number, kind, day, today())
    except service_requests.Refused as refused:
        return _refused_day(dispatcher, refused, day)
    assert office.opens is not None and office.closes is not None  # an open day: checked there
    branch = accounts.bpkb_info(session, customer_id, number, today()).branch
    dispatcher.utter_message(
        response=_CONFIRM_RESPONSES[kind],
        day=long_date(day),
        branch=branch.name,
        hours=opening_hours(office.opens, office.closes),
    )
    return open_offer(_DAY_CONFIRMS[kind], offer_day=day.isoformat())


def _answer_day_confirm(dispatcher, session, tracker, customer_id, number, pending: str) -> List[EventType]:
    """The answer to "shall I book that day?": a yes books it; a no (which ends the offer), another
    day or a question is read as an answer to the date buttons."""
    kind = next(visit for visit, confirm in _DAY_CONFIRMS.items() if confirm == pending)
    if said_yes(tracker) and not _chosen_day(tracker).day:
        day = date.fromisoformat(str(tracker.get_slot("offer_day")))
        return _book_day(dispatcher, session, tracker, customer_id, number, kind, day)
    return _book(dispatcher, session, tracker, customer_id, number, kind)  # a no, another day, a question


def _book_day(dispatcher, session, tracker, customer_id, number, kind: str, day: date) -> List[EventType]:
    book = service_requests.book_bpkb_pickup if kind == "bpkb_pickup" else service_requests.book_bpkb_loan
    try:
        request = book(session, customer_id, number, day, today(), tracker.sender_id)
    except service_requests.Refused as refused:
        return _refused_day(dispatcher, refused, day)
    branch = accounts.bpkb_info(session, customer_id, number, today()).branch
    if kind == "bpkb_pickup":
        details = render("utter_request_details_bpkb_pickup", day=long_date(day), branch=branch.name)
    else:
        details = render(
            "utter_request_details_bpkb_loan",
            day=long_date(day),
            branch=branch.name,
            return_by=long_date(date.fromisoformat(request.details["return_by"])),
        )
    dispatcher.utter_message(response="utter_request_created", reference=request.reference, details=details)
    return close_offer()


class ActionHandleOffer(Action):
    """The customer answers the bot's follow-up question (slot `pending_offer`)."""

    def name(self) -> str:
        return "action_handle_offer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        score = rating_in(tracker)
        if score is not None:  # an earlier satisfaction button: the question asked stays open
            return answer_rating(dispatcher, tracker, score)
        pending = tracker.get_slot("pending_offer")
        intent = latest_intent(tracker)
        if pending == "office_hours_city":
            if intent == "deny":  # "ga usah", "tidak, terima kasih": no city wanted
                dispatcher.utter_message(response="utter_offer_declined")
                return close_offer()
            if read_when(tracker.latest_message.get("text") or "", today=today()).day is not None:
                # "besok?" asked for a city: that day's hours, and the city asked again (or the
                # branch's, when the message names one too)
                return answer_hours_for_text(dispatcher, tracker)
            return answer_hours_for_text(dispatcher, tracker, tracker.get_slot("hours_date"))
        if pending == "payment_channel":
            if intent == "deny":
                dispatcher.utter_message(response="utter_offer_declined")
                return close_offer()
            verify = verify_for_va(tracker)  # "no VA saya berapa", or the credentials, after the list
            if verify is not None:
                return verify
            channel = chosen_channel(tracker)
            if intent == "out_of_scope" and channel is None:
                # "kurirnya galak bgt, mau komplain" names no channel: no answer to the buttons
                dispatcher.utter_message(response="utter_out_of_scope")
                return []
            return answer_payment_steps(dispatcher, tracker, channel)
        if pending == "complaint_details":  # "saya mau komplain", then what it is about
            if latest_intent(tracker) == "deny":
                dispatcher.utter_message(response="utter_offer_declined")
                return close_offer()
            if said_yes(tracker):  # "iya": still nothing said of what happened
                dispatcher.utter_message(response="utter_ask_complaint_details")
                return []
            return close_offer() + file_complaint(dispatcher, tracker)
        if pending == "complaint":  # "iya" to "shall I file it as a complaint?"
            if said_yes(tracker):
                return close_offer() + file_complaint(dispatcher, tracker, tracker.get_slot("topic_text"))
            dispatcher.utter_message(response="utter_offer_declined")
            return close_offer()
        if pending == "verify_other":
            if said_yes(tracker):
                return verify_other_contract(tracker)
            dispatcher.utter_message(response="utter_offer_declined")
            return close_offer()
        verified = verified_contract(tracker)
        if verified is None:
            dispatcher.utter_message(response="utter_how_can_i_help")
            return close_offer()
        with session_scope(session_factory()) as session:
            try:
                accounts.load_contract(session, *verified)
            except accounts.ContractNotFound:
                dispatcher.utter_message(response="utter_how_can_i_help")
                return close_offer()
            if pending == "payment_check":
                if intent == "deny":
                    dispatcher.utter_message(response="utter_offer_declined")
                    return close_offer()
                return handle_payment_details(dispatcher, session, tracker, *verified)
            if pending in ("payoff_letter", "payoff_day"):
                return handle_payoff_letter(dispatcher, session, tracker, *verified)
            if pending in ("bpkb_pickup", "bpkb_loan"):
                return _book(dispatcher, session, tracker, *verified, pending)
            if pending in _DAY_CONFIRMS.values():
                return _answer_day_confirm(dispatcher, session, tracker, *verified, pending)
            if pending == "due_day":
                if intent == "deny":
                    dispatcher.utter_message(response="utter_offer_declined")
                    return close_offer()
                day = parse_day_of_month(tracker.latest_message.get("text") or "")
                return quote_due_date(dispatcher, session, *verified, day)
            if pending == "due_date_confirm":
                if said_yes(tracker):
                    new_day = int(tracker.get_slot("offer_day"))
                    request = service_requests.request_due_date_change(
                        session, *verified, new_day, today(), tracker.sender_id
                    )
                    details = render(
                        "utter_request_details_due_date",
                        new_day=new_day,
                        first_due=long_date(date.fromisoformat(request.details["first_new_due"])),
                    )
                    dispatcher.utter_message(
                        response="utter_request_created", reference=request.reference, details=details
                    )
                    return close_offer()
                if intent == "deny":
                    dispatcher.utter_message(response="utter_offer_declined")
                    return close_offer()
                day = parse_day_of_month(tracker.latest_message.get("text") or "")
                return quote_due_date(dispatcher, session, *verified, day)
        dispatcher.utter_message(response="utter_how_can_i_help")
        return close_offer()
