"""Satisfaction after a self-served answer: the question with its buttons (once per session and
never twice in a day, crm.services.satisfaction), the rating the buttons send back (an inform
with a csat_score entity, answered by action_reply_or_wait or, when a question is open,
action_handle_offer), and a comment after a low rating. Ignoring the question is fine: nothing
asks again."""

from __future__ import annotations

import re
from typing import List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import buttons_offered_before, channel, session_factory, settings
from crm import conversations, policy
from crm.clock import utc_now
from crm.db import session_scope
from crm.parsing import emoji_only
from crm.services import satisfaction

# the score in a rating button's payload: /inform{"csat_score":"5"}
_BUTTON_SCORE = re.compile(r'csat_score"\s*:\s*"(\d+)"')


def _leaves_question_open(events: List[EventType]) -> bool:
    return any(e.get("event") == "slot" and e.get("name") == "offer_open" and e.get("value") for e in events)


def ask_after_answer(dispatcher: CollectingDispatcher, tracker: Tracker, events: List[EventType], intent: str) -> None:
    """After an answer that asks nothing back: the satisfaction question, when this customer may
    be asked (CSAT_AFTER_ANSWERS on, not asked in the last CSAT_QUIET_HOURS)."""
    if not settings().csat_after_answers or _leaves_question_open(events) or tracker.active_loop.get("name"):
        return
    customer_id = conversations.verified_customer_id(tracker)
    now = utc_now()
    with session_scope(session_factory()) as session:
        if not satisfaction.may_ask(session, tracker.sender_id, customer_id, now):
            return
        satisfaction.record_question(
            session,
            kind="bot",
            conversation_id=tracker.sender_id,
            channel=channel(tracker),
            now=now,
            customer_id=customer_id,
            intent=intent,
        )
    dispatcher.utter_message(response="utter_ask_csat")


def take_comment(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """A message the bot did not understand, right after a low rating, is the comment on it."""
    text = tracker.latest_message.get("text") or ""
    with session_scope(session_factory()) as session:
        taken = satisfaction.add_comment(session, tracker.sender_id, text, utc_now())
    if taken:
        dispatcher.utter_message(response="utter_csat_comment_thanks")
    return taken


def rating_in(tracker: Tracker) -> Optional[int]:
    """The score a satisfaction button sent (/inform{"csat_score":"5"}), or the button whose emoji
    the customer typed right after the question ("👍"); None for any other message."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "csat_score":
            try:
                return int(str(entity.get("value")))
            except ValueError:
                return 0  # a broken payload: thanked, nothing counted
    text = (tracker.latest_message.get("text") or "").strip()
    if not emoji_only(text):
        return None
    for button in buttons_offered_before(tracker):
        score = _BUTTON_SCORE.search(str(button.get("payload") or ""))
        if score and str(button.get("title") or "").split(" ")[0] in text:
            return int(score.group(1))
    return None


def answer_rating(dispatcher: CollectingDispatcher, tracker: Tracker, score: int) -> List[EventType]:
    """The rating goes to the question asked; thanks, and after a low rating an invitation to
    say what was missing (or to ask for a person). An old or broken button counts nothing."""
    with session_scope(session_factory()) as session:
        survey = satisfaction.record_rating(session, tracker.sender_id, score, utc_now())
    low = survey is not None and score <= policy.CSAT_LOW
    dispatcher.utter_message(response="utter_csat_sorry" if low else "utter_csat_thanks")
    return []
