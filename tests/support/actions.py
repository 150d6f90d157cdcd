"""Running custom actions as the action server runs them: a tracker built from a message, the
dispatcher's output, and the slots the action set. Used by every action test; the database
and settings come from the `actions_environment` fixture (tests/conftest.py)."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

BUDI, SITI, AGUS, DEWI_CAR, DEWI_LOAN = "K10124000001", "K20123000002", "K30121000003", "K10224000004", "K10223000005"
RUDI = "K40120000006"  # autodebit BRI on the 20th, BPKB lent out


def tracker(
    slots: Optional[Dict[str, Any]] = None,
    text: str = "",
    intent: str = "inform",
    entities: Optional[List[dict]] = None,
    channel: str = "rest",
    sender: str = "conv-test",
    events: Optional[List[dict]] = None,
    confidence: float = 0.99,
    active_loop: Optional[str] = None,
) -> Tracker:
    message = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": entities or []}
    history = (
        events
        if events is not None
        else [{"event": "user", "text": text, "parse_data": message, "input_channel": channel}]
    )
    return Tracker(
        sender_id=sender,
        slots=slots or {},
        latest_message=message,
        events=history,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def run(action, t: Tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, {}))
    return dispatcher.messages, events


def responses(messages) -> List[str]:
    return [m.get("response") for m in messages]


def slot_events(events) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def verified_slots(number: str, **slots) -> Dict[str, Any]:
    """The slots of a conversation verified for the demo customer holding contract `number`."""
    from actions.verification import ValidateVerificationForm

    born = {
        BUDI: "17-08-1985",
        SITI: "05-03-1990",
        AGUS: "01-12-1978",
        DEWI_CAR: "23-11-1988",
        DEWI_LOAN: "23-11-1988",
        RUDI: "30-06-1975",
    }[number]
    t = tracker(text=born, slots={"contract_number": number})
    result = asyncio.run(ValidateVerificationForm().validate_date_of_birth(born, CollectingDispatcher(), t, {}))
    return {"verified": True, "customer_id": result["customer_id"], "selected_contract": number, **slots}
