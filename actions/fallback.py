"""Not understood: first ask to rephrase, with the classifier's two best guesses as topic buttons
when they are self-service topics (else fixed suggestions), then hand over to CRM staff. When the
classifier's best guess was a costly intent it was not sure enough of (a complaint, a person, a
case: nlu_components/certainty.py), the customer is asked once, with buttons, whether that is
what they want: nothing is filed or escalated on a guess. While the bot waits for an answer it
reads from the words themselves (a channel, a day), the message goes to that question, unless
it leaned to a costly intent: that is asked about first."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import bot_spoke_this_session, escalate_conversation, response_of, session_factory, topic_buttons
from actions.handover import acknowledge_wait, tell_when_answered
from actions.satisfaction import answer_rating, rating_in, take_comment
from actions.unplaced import answer_unplaced
from crm import policy
from crm.db import session_scope
from crm.models import EscalationReason
from crm.parsing import begins_with_yes, emoji_only

HANDOVER_AFTER = 2  # consecutive messages not understood
# follow-up questions whose answer is read from its own words (a day, a channel, a city), so a
# message the classifier did not place ("6 hari lalu lewat alfamart") may still answer them
OFFERS_READING_TEXT = frozenset(
    {
        "payment_check",
        "payment_channel",
        "due_day",
        "bpkb_pickup",
        "bpkb_loan",
        "bpkb_pickup_confirm",  # "shall I book Saturday?" is also answered with another day
        "bpkb_loan_confirm",
        "office_hours_city",
        "payoff_day",
        "complaint_details",
    }
)


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many of the latest user messages in a row were not understood: read as nlu_fallback
    and not answered by a reader of customers' words."""
    count, replies = 0, []
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            replies.append(response_of(event))
            continue
        if event.get("event") != "user":
            continue
        answered = any(reply and reply not in _NOT_UNDERSTOOD for reply in replies)
        replies = []
        if emoji_only(event.get("text") or ""):  # "👍": an acknowledgement, no message misunderstood
            continue
        if (event.get("parse_data") or {}).get("intent", {}).get("name") != "nlu_fallback" or answered:
            break
        count += 1
    return count


# costly intents, each confirmed by utter_confirm_<intent> in domain.yml
CONFIRMED_INTENTS = policy.COSTLY_INTENTS

# the fallback's own replies when it did not understand; any other reply to an unplaced message
# ("kalau yang satunya?" answered by a reader of customers' words) means it was understood
_NOT_UNDERSTOOD = {"utter_ask_rephrase", "utter_suggest_topics", *(f"utter_confirm_{i}" for i in CONFIRMED_INTENTS)}


def costly_guess(tracker: Tracker) -> Optional[str]:
    """The costly intent the classifier leaned to for the latest message, if any."""
    ranking = tracker.latest_message.get("intent_ranking") or []
    for candidate in ranking:
        name = candidate.get("name")
        if name == "nlu_fallback":
            continue
        confident = float(candidate.get("confidence") or 0.0) >= policy.COSTLY_CONFIRM_FLOOR
        return str(name) if name in CONFIRMED_INTENTS and confident else None
    return None


def suggested_topics(tracker: Tracker) -> List[Dict[str, str]]:
    """Buttons (utter_topics in domain.yml) for the classifier's two best guesses of the latest
    message, when they are self-service topics it gave at least SUGGEST_TOPIC_FLOOR."""
    ranking = [c for c in tracker.latest_message.get("intent_ranking") or [] if c.get("name") != "nlu_fallback"]
    return topic_buttons(
        str(c.get("name")) for c in ranking[:2] if float(c.get("confidence") or 0.0) >= policy.SUGGEST_TOPIC_FLOOR
    )


class ActionFallback(Action):
    def name(self) -> str:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        from actions.account import YES_NO_OFFERS, ActionHandleOffer

        guess = costly_guess(tracker)
        offer = tracker.get_slot("pending_offer") if tracker.get_slot("offer_open") else None
        # "oke saya mau, gimana caranya" under "Mau saya ajukan surat ...?": a yes the NLU did not place
        open_question = offer in OFFERS_READING_TEXT or (
            offer in YES_NO_OFFERS and begins_with_yes(tracker.latest_message.get("text") or "")
        )
        # a leaning to a complaint or a person is asked about instead, but not in the complaint's own details
        details = tracker.get_slot("pending_offer") == "complaint_details" and guess == "complain"
        if open_question and (guess is None or details):
            return await ActionHandleOffer().run(dispatcher, tracker, domain)
        if take_comment(dispatcher, tracker):  # what was missing, right after a low rating
            return []
        with session_scope(session_factory()) as session:
            waiting = acknowledge_wait(dispatcher, tracker, session)
        if waiting is not None:  # already in the queue: the message is for the staff member
            return waiting
        score = rating_in(tracker)
        if score is not None:  # "👍" typed under the rating buttons
            return answer_rating(dispatcher, tracker, score)
        if emoji_only(tracker.latest_message.get("text") or "") and bot_spoke_this_session(tracker):
            dispatcher.utter_message(response="utter_nothing_more")  # "👍" after an answer: noted
            return []
        known = await answer_unplaced(dispatcher, tracker, domain, leaning_costly=guess is not None)
        if known is not None:
            return known
        if consecutive_fallbacks(tracker) < HANDOVER_AFTER:
            if guess:
                dispatcher.utter_message(response=f"utter_confirm_{guess}")
            elif topics := suggested_topics(tracker):
                dispatcher.utter_message(response="utter_suggest_topics", buttons=topics)
            else:
                dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        texts = [e.get("text") for e in tracker.events if e.get("event") == "user"][-HANDOVER_AFTER:]
        with session_scope(session_factory()) as session:
            escalate_conversation(
                session,
                tracker,
                EscalationReason.FALLBACK,
                "not understood: " + " | ".join(t or "" for t in texts)[:500],
            )
            dispatcher.utter_message(response="utter_handover_fallback")
            tell_when_answered(dispatcher, session)
        return []
