"""Opening hours by branch and date; no verification needed."""

from __future__ import annotations

from datetime import date
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import also_asked, close_offer, open_offer, previous_turn, session_factory, today
from actions.satisfaction import ask_after_answer
from crm.db import session_scope
from crm.formatting import hours as hours_text
from crm.formatting import long_date
from crm.models import Service
from crm.parsing import asks_branch_contact
from crm.responses import render
from crm.services import hours
from crm.when import read_when


def _hours_lines(by_service: Dict[Service, hours.Hours], services) -> str:
    lines = []
    for service in services:
        h = by_service[service]
        opening = hours_text(h.opens, h.closes) if h.opens and h.closes else render("utter_line_closed")
        note = render("utter_line_hours_holiday", holiday=h.holiday) if h.holiday else ""
        name = render(f"utter_line_service_{service.value}")
        lines.append(render("utter_line_hours", service=name, hours=opening, note=note))
    return "\n".join(lines)


def _message_text(tracker: Tracker) -> str:
    """The message, plus the normalised city an entity synonym gave ("sby" -> "surabaya")."""
    text = tracker.latest_message.get("text") or ""
    cities = [str(e.get("value")) for e in tracker.latest_message.get("entities") or [] if e.get("entity") == "city"]
    return " ".join([text, *cities])


def answer_hours_for_text(
    dispatcher: CollectingDispatcher, tracker: Tracker, remembered_day: Optional[str] = None, ask_city: bool = True
) -> List[EventType]:
    """The hours on the day the message names (today when it names none) at the branches it
    names; with no branch named, customer care's hours and, when `ask_city`, a question which city."""
    text = _message_text(tracker)
    when = read_when(text, today=today())
    day = when.day
    if day is None:
        if when.unread:  # a day was named but not read: say so rather than answer for today quietly
            dispatcher.utter_message(response="utter_date_not_understood", unread=when.unread)
        day = date.fromisoformat(remembered_day) if remembered_day else today()
    with session_scope(session_factory()) as session:
        branches = hours.find_branches(session, text)
        earlier = tracker.get_slot("hours_city")
        if not branches and earlier and remembered_day is None:  # "kalau tgl 25 buka ga?" after a city
            branches = hours.find_branches(session, str(earlier))
        everywhere = hours.all_branches(session)
        cities = ", ".join(
            sorted(
                {b.city.replace("Jakarta Utara", "Jakarta").replace("Jakarta Selatan", "Jakarta") for b in everywhere}
            )
        )
        if branches:
            for branch in branches[:3]:
                dispatcher.utter_message(
                    response="utter_office_hours",
                    branch_name=branch.name,
                    address=branch.address,
                    phone=branch.phone,
                    day=long_date(day),
                    hours=_hours_lines(hours.hours_on(session, branch.id, day), list(Service)),
                )
            # every city answered ("jakarta" is Jakarta Utara and Jakarta Selatan): "kalau besok?" is for all
            cities_answered = ", ".join(dict.fromkeys(branch.city for branch in branches[:3]))
            return close_offer() + [SlotSet("hours_city", cities_answered)]
        if remembered_day is not None:  # we asked for a city and did not get one we know
            dispatcher.utter_message(response="utter_office_hours_no_branch", cities=cities)
            return close_offer()
        care = hours.hours_on(session, everywhere[0].id, day)
        dispatcher.utter_message(
            response="utter_office_hours_general" if ask_city else "utter_office_hours_care",
            day=long_date(day),
            cities=cities,
            hours=_hours_lines(care, [Service.CUSTOMER_CARE]),
        )
    return open_offer("office_hours_city", hours_date=day.isoformat()) if ask_city else []


def answered_hours(turn: List[Dict[str, Any]]) -> bool:
    """The turn answered with a branch's hours (the question's action, or a follow-up that
    remembered the branch)."""
    return any(
        (e.get("event") == "action" and e.get("name") == "action_answer_office_hours")
        or (e.get("event") == "slot" and e.get("name") == "hours_city" and e.get("value"))
        for e in turn
    )


def answer_branch_contact(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[List[EventType]]:
    """ "minta nomor telepon cabang bandung" read as unrelated or unsure, or "alamatnya dimana
    ya" right after a branch's hours: the branch's answer (its address and phone, with its
    hours). None when no branch contact is asked for."""
    text = _message_text(tracker)
    if not asks_branch_contact(text):
        return None
    remembered = bool(tracker.get_slot("hours_city")) and answered_hours(previous_turn(tracker))
    with session_scope(session_factory()) as session:
        if not remembered and not hours.find_branches(session, text):
            return None
    return answer_hours_for_text(dispatcher, tracker, ask_city=False)


class ActionAnswerOfficeHours(Action):
    def name(self) -> str:
        return "action_answer_office_hours"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        events = answer_hours_for_text(dispatcher, tracker)
        others = also_asked(tracker, "ask_office_hours")
        if others:  # "kantor buka jam berapa? terus bpkb kapan bisa diambil?"
            dispatcher.utter_message(response="utter_also_asked", buttons=others)
        else:
            ask_after_answer(dispatcher, tracker, events, "ask_office_hours")
        return events
