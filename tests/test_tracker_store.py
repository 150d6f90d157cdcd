"""The live tracker store (crm/runtime/tracker_store.py) gives exactly what Rasa's SQL tracker
store would read from the same database, while skipping the rebuild when nothing changed."""

import asyncio
import os
import sqlite3
import time

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered

from crm.runtime.tracker_store import LiveSQLTrackerStore
from crm.settings import PROJECT_ROOT

DOMAIN = Domain.from_path(PROJECT_ROOT / "domain.yml")


def run(coroutine):
    return asyncio.new_event_loop().run_until_complete(coroutine)


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "tracker.db")


def live(path):
    return LiveSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=path)


def rasa_reads(path, sender):
    tracker = run(SQLTrackerStore(DOMAIN, dialect="sqlite", db=path).retrieve(sender))
    return None if tracker is None else [event.as_dict() for event in tracker.events]


def turn(store, sender, *events):
    """One message as Rasa's processor handles it: get or create, update, save."""

    async def go():
        tracker = await store.get_or_create_tracker(sender)
        for event in events:
            tracker.update(event)
        await store.save(tracker)
        return tracker

    return run(go())


def said(text, intent="greet"):
    return UserUttered(text, {"name": intent, "confidence": 0.9})


def test_a_saved_tracker_is_handed_back_without_reading_the_events_again(path):
    store = live(path)
    first = turn(store, "web:1", SessionStarted(), said("halo"), ActionExecuted("utter_greet"))
    second = turn(store, "web:1", said("cicilan saya berapa", "ask_instalment"), SlotSet("requested_slot", "x"))
    assert second is first  # the live tracker, not a rebuild
    assert store.hits == 1
    assert [e.as_dict() for e in second.events] == rasa_reads(path, "web:1")
    rows = sqlite3.connect(path).execute("SELECT count(*) FROM events WHERE sender_id='web:1'").fetchone()[0]
    assert rows == len(second.events)  # each event written once


def test_another_worker_answering_in_between_is_seen(path):
    mine, theirs = live(path), live(path)
    turn(mine, "wa:62", SessionStarted(), said("halo"))
    turn(theirs, "wa:62", said("jam buka", "ask_office_hours"), ActionExecuted("action_answer_office_hours"))
    tracker = turn(mine, "wa:62", said("makasih", "thank"))
    assert mine.misses >= 1
    texts = [e.text for e in tracker.events if isinstance(e, UserUttered)]
    assert texts == ["halo", "jam buka", "makasih"]
    assert [e.as_dict() for e in tracker.events] == rasa_reads(path, "wa:62")


def test_erased_events_are_not_served_from_memory(path):
    store = live(path)
    turn(store, "web:2", SessionStarted(), said("nik saya 3174..."))
    with sqlite3.connect(path) as connection:
        connection.execute("DELETE FROM events WHERE sender_id='web:2'")
    assert run(store.retrieve("web:2")) is None


def test_a_new_session_keeps_only_its_own_events_as_the_database_would(path):
    store = live(path)
    turn(store, "web:3", SessionStarted(), said("halo"), SlotSet("verified", True))
    time.sleep(0.01)
    turn(store, "web:3", ActionExecuted("action_session_start"), SessionStarted(), said("lagi", "greet"))
    tracker = run(store.retrieve("web:3"))
    assert store.hits == 2
    assert [e.as_dict() for e in tracker.events] == rasa_reads(path, "web:3")
    assert tracker.get_slot("verified") is not True


def test_a_message_that_failed_before_its_save_leaves_nothing_behind(path):
    store = live(path)
    turn(store, "web:4", SessionStarted(), said("halo"))

    async def fails():
        tracker = await store.get_or_create_tracker("web:4")
        tracker.update(SlotSet("verified", True))  # processed, then the save never happens
        raise RuntimeError("action server down")

    with pytest.raises(RuntimeError):
        run(fails())
    tracker = run(store.retrieve("web:4"))
    assert tracker.get_slot("verified") is not True
    assert [e.as_dict() for e in tracker.events] == rasa_reads(path, "web:4")


def test_a_tracker_it_did_not_hand_out_is_appended_by_counting_as_rasa_does(path):
    from rasa.shared.core.trackers import DialogueStateTracker

    store = live(path)
    turn(store, "web:5", SessionStarted(), said("halo"))
    outsider = run(SQLTrackerStore(DOMAIN, dialect="sqlite", db=path).retrieve("web:5"))
    outsider.update(said("jam buka", "ask_office_hours"))
    run(store.save(outsider))
    assert [e.as_dict() for e in outsider.events] == rasa_reads(path, "web:5")
    fresh = DialogueStateTracker.from_events("web:6", [SessionStarted(), said("x")], slots=DOMAIN.slots)
    run(store.save(fresh))
    assert len(rasa_reads(path, "web:6")) == 2


def test_sqlite_runs_in_wal_with_full_sync(path):
    store = live(path)
    turn(store, "web:7", SessionStarted())
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_only_so_many_conversations_stay_live(path):
    store = LiveSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=path, live_trackers=3)
    for n in range(5):
        turn(store, f"web:{n}", SessionStarted())
    assert len(store._live) == 3
    assert run(store.retrieve("web:0")) is not None  # read from the database again


def test_saves_from_many_conversations_at_once_take_turns_and_all_land(path):
    from concurrent.futures import ThreadPoolExecutor

    stores = [live(path), live(path)]  # two workers on one file

    def conversation(n):
        turn(stores[n % 2], f"web:c{n}", SessionStarted(), said(f"pesan {n}"))

    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(conversation, range(40)))
    with sqlite3.connect(path) as connection:
        senders = connection.execute("SELECT count(DISTINCT sender_id) FROM events").fetchone()[0]
    assert senders == 40
    assert os.path.exists(path + ".writer")  # the turn-taking lock beside the database


def test_events_whose_times_were_rewritten_are_read_again(path):
    """A session made two hours old in the database (as tests and the demo history do) is not
    served from memory: the bot must see that the session expired."""
    store = live(path)
    turn(store, "web:old", SessionStarted(), said("halo"), SlotSet("verified", True))
    with sqlite3.connect(path) as connection:
        connection.execute(
            "UPDATE events SET timestamp = timestamp - 7200, data = json_set(data, '$.timestamp', "
            "json_extract(data, '$.timestamp') - 7200) WHERE sender_id = 'web:old'"
        )
    tracker = run(store.retrieve("web:old"))
    assert store.hits == 0
    assert max(e.timestamp for e in tracker.events) < time.time() - 7000
