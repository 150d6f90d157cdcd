"""Conversation-level actions: session start."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import settings


class ActionSessionStart(Action):
    """Start a session: no slot is carried over (a returning customer verifies again), and the
    configurable brand name is put in a slot so every response can use `{brand_name}`."""

    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        return [
            SessionStarted(),
            SlotSet("brand_name", settings().brand_name),
            ActionExecuted("action_listen"),
        ]
