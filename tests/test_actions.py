"""Custom actions, run as the action server runs them (no server needed)."""

from __future__ import annotations

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import actions, common


def _tracker(sender: str = "test-user") -> Tracker:
    return Tracker(
        sender_id=sender, slots={}, latest_message={}, events=[], paused=False,
        followup_action=None, active_loop={}, latest_action_name="action_listen",
    )


@pytest.fixture
def brand(monkeypatch):
    monkeypatch.setenv("BRAND_NAME", "Uji Finance")
    common.reset()
    yield "Uji Finance"
    common.reset()


def test_session_start_sets_brand_and_listens(brand):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(actions.ActionSessionStart().run(dispatcher, _tracker(), {}))
    assert [e["event"] for e in events] == ["session_started", "slot", "action"]
    assert events[1] == {"event": "slot", "timestamp": None, "name": "brand_name", "value": brand}
    assert events[2]["name"] == "action_listen"
    assert dispatcher.messages == []
