"""Several Rasa workers on one machine without Redis: the SQLite conversation lock
(crm/runtime/lock_store.py), socket.io messages between workers (channels/worker_rooms.py), the
settings that turn them on and the escalation outbox the workers of one port share."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import time

import yaml

from crm.runtime.configuration import write_endpoints
from crm.settings import load_settings

PROCESSES = 4
TURNS = 25


def _take_turns(lock_path: str, counter_path: str, results) -> None:
    from crm.runtime.lock_store import SQLiteLockStore

    store = SQLiteLockStore(path=lock_path)
    counter = sqlite3.connect(counter_path, timeout=30, isolation_level=None)

    async def turns() -> int:
        overlaps = 0
        for n in range(TURNS):
            async with store.lock("wa:6281"):
                if counter.execute("UPDATE state SET inside = 1 WHERE inside = 0").rowcount == 0:
                    overlaps += 1
                count = counter.execute("SELECT count FROM state").fetchone()[0]
                await asyncio.sleep(0.001 * (n % 4))
                counter.execute("UPDATE state SET count = ?, inside = 0", (count + 1,))
        return overlaps

    results.put(asyncio.run(turns()))


def test_four_workers_take_turns_on_one_conversation_without_overlap(tmp_path):
    counter = tmp_path / "counter.sqlite"
    with sqlite3.connect(counter) as db:
        db.execute("CREATE TABLE state (count INTEGER, inside INTEGER)")
        db.execute("INSERT INTO state VALUES (0, 0)")
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [
        context.Process(target=_take_turns, args=(str(tmp_path / "locks.sqlite"), str(counter), results))
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    overlaps = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=10)
    assert overlaps == [0] * PROCESSES
    with sqlite3.connect(counter) as db:
        assert db.execute("SELECT count FROM state").fetchone()[0] == PROCESSES * TURNS
    with sqlite3.connect(tmp_path / "locks.sqlite") as db:  # every finished lock is gone
        assert db.execute("SELECT count(*) FROM locks").fetchone()[0] == 0


def test_a_lock_left_by_a_dead_worker_expires(tmp_path):
    from crm.runtime.lock_store import SQLiteLockStore

    store = SQLiteLockStore(path=str(tmp_path / "locks.sqlite"))
    store.issue_ticket("web:1", lock_lifetime=0.2)  # taken, never given back (the worker died)

    async def next_message() -> float:
        started = time.monotonic()
        async with store.lock("web:1"):
            return time.monotonic() - started

    waited = asyncio.run(next_message())
    assert 0.1 < waited < 2


def _listen_once(directory: str, received) -> None:
    from channels.worker_rooms import WorkerRoomsManager

    async def first() -> None:
        async for message in WorkerRoomsManager(directory)._listen():
            received.put(message)
            return

    asyncio.run(first())


def test_a_message_emitted_on_one_worker_reaches_the_other(tmp_path):
    from channels.worker_rooms import WorkerRoomsManager

    directory = tmp_path / "socketio"
    context = multiprocessing.get_context("fork")
    received = context.Queue()
    other = context.Process(target=_listen_once, args=(str(directory), received))
    other.start()
    deadline = time.monotonic() + 10
    while not list(directory.glob("*.sock")) and time.monotonic() < deadline:
        time.sleep(0.02)
    (directory / "99999999.sock").touch()  # a worker that has stopped: skipped and removed
    message = {"method": "emit", "event": "bot_uttered", "data": [{"text": "Halo dari agen"}], "room": "web:1"}
    asyncio.run(WorkerRoomsManager(directory)._publish(message))
    assert b"Halo dari agen" in received.get(timeout=10)
    other.join(timeout=10)
    assert not (directory / "99999999.sock").exists()


def test_one_server_uses_every_core_with_a_shared_lock_and_replicas_do_not(tmp_path, monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    single = load_settings({}, env_file=tmp_path / "none")
    assert single.rasa_workers == 2
    lock = yaml.safe_load(write_endpoints(single, tmp_path).read_text())["lock_store"]
    assert lock == {
        "type": "crm.runtime.lock_store.SQLiteLockStore",
        "path": str(tmp_path / "conversation-locks.sqlite"),
    }
    one = load_settings({"RASA_WORKERS": "1"}, env_file=tmp_path / "none")
    assert yaml.safe_load(write_endpoints(one, tmp_path).read_text())["lock_store"]["type"].endswith(
        "InMemoryLockStore"
    )
    assert load_settings({"RASA_WORKERS": "auto"}, env_file=tmp_path / "none").rasa_workers == 2
    from tests.support.production import PRODUCTION

    assert load_settings(PRODUCTION, env_file=tmp_path / "none").rasa_workers == 1


def test_workers_of_one_port_take_turns_accepting_connections(tmp_path, monkeypatch):
    from crm.runtime.supervisor import build_children

    monkeypatch.setattr("os.cpu_count", lambda: 2)
    rasa = lambda settings: next(  # noqa: E731
        c for c in build_children(settings, tmp_path / "m.tar.gz", tmp_path / "log") if c.name.startswith("Rasa")
    )
    several = rasa(load_settings({}, env_file=tmp_path / "none"))
    assert several.env["SANIC_WORKERS"] == "2" and several.env["UV_TCP_SINGLE_ACCEPT"] == "1"
    one = rasa(load_settings({"RASA_WORKERS": "1"}, env_file=tmp_path / "none"))
    assert "UV_TCP_SINGLE_ACCEPT" not in one.env


def test_workers_of_one_port_share_the_outbox_without_losing_an_escalation(tmp_path):
    from crm.runtime.outbox import EscalationOutbox, new_item

    path = tmp_path / "escalation-outbox-5005.jsonl"
    context = multiprocessing.get_context("fork")

    def add_many(start: int) -> None:
        box = EscalationOutbox(path, "sqlite:///:memory:")
        for n in range(start, start + 50):
            box.add(new_item(f"web:{n}", "socketio", "gangguan", None))

    writers = [context.Process(target=add_many, args=(n * 100,)) for n in range(3)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=60)
    assert len(EscalationOutbox(path, "sqlite:///:memory:").pending()) == 150


def test_one_worker_at_a_time_hands_whatsapp_messages_to_rasa(tmp_path, monkeypatch):
    from channels.whatsapp.channel import InboxDrainer

    monkeypatch.setenv("SANIC_WORKERS", "2")
    first, second = InboxDrainer(tmp_path / "inbox.lock"), InboxDrainer(tmp_path / "inbox.lock")
    assert first.is_mine() and first.is_mine()
    assert not second.is_mine()
    first._file.close()  # the drainer's process ended: the kernel releases its lock
    assert second.is_mine()
    monkeypatch.setenv("SANIC_WORKERS", "1")
    assert InboxDrainer(tmp_path / "other.lock").is_mine()  # one worker drains what it receives
