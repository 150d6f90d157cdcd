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


def test_the_supervisor_starts_one_worker_per_core(tmp_path, monkeypatch):
    from crm.runtime.supervisor import build_children

    monkeypatch.setattr("os.cpu_count", lambda: 2)
    rasa = lambda settings: next(  # noqa: E731
        c for c in build_children(settings, tmp_path / "m.tar.gz", tmp_path / "log") if c.name.startswith("Rasa")
    )
    assert rasa(load_settings({}, env_file=tmp_path / "none")).env["SANIC_WORKERS"] == "2"
    assert rasa(load_settings({"RASA_WORKERS": "1"}, env_file=tmp_path / "none")).env["SANIC_WORKERS"] == "1"


TWO_WORKERS = """
import gc, os, sys, time
from crm.runtime.rasa_server import install_worker_sockets
install_worker_sockets()
from sanic import Sanic, response
app = Sanic("workers_test")
@app.get("/")
async def pid(request):
    if request.args.get("busy"):
        time.sleep(1.5)  # this worker's loop is stuck, as with a long CPU-bound message
    return response.text(str(os.getpid()))
@app.get("/frozen")
async def frozen(request):
    return response.text(str(gc.get_freeze_count()))
app.run(host="127.0.0.1", port=int(sys.argv[1]), workers=2, access_log=False)
"""


def test_new_connections_are_spread_over_the_workers(tmp_path):
    """Each worker listens on its own SO_REUSEPORT socket (crm.runtime.rasa_server): a burst of
    keep-alive connections reaches both workers, each connection stays with its worker, and a
    worker that dies leaves the port to the other. The workers start with the parent's objects
    frozen (gc.freeze), so their collections do not copy the pages they share with it."""
    import http.client
    import os
    import signal
    import subprocess
    import sys
    import threading
    from pathlib import Path

    from tests.support.localservices import free_port

    port = free_port()
    root = Path(__file__).resolve().parents[1]
    server = subprocess.Popen([sys.executable, "-c", TWO_WORKERS, str(port)], cwd=root, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                probe.request("GET", "/")
                probe.getresponse().read()
                probe.close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "the two workers did not start"
                time.sleep(0.2)
        time.sleep(1)  # both workers listening

        def ask(connection: http.client.HTTPConnection, path: str = "/") -> int:
            connection.request("GET", path)
            return int(connection.getresponse().read())

        # what the parent imported before forking is out of the workers' collector's reach
        assert ask(http.client.HTTPConnection("127.0.0.1", port, timeout=5), "/frozen") > 10_000

        # One worker is busy when a burst of connections arrives: with one shared socket the idle
        # worker accepted the whole burst, and kept it after the busy one was free again.
        busy = threading.Thread(target=ask, args=(http.client.HTTPConnection("127.0.0.1", port, timeout=5), "/?busy=1"))
        busy.start()
        time.sleep(0.3)
        connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=5) for _ in range(24)]
        for connection in connections:
            connection.connect()
        first = [ask(c) for c in connections]
        busy.join()
        assert len(set(first)) == 2, f"24 connections, workers seen: {set(first)}"
        assert min(first.count(pid) for pid in set(first)) >= 3  # spread, not 23 and 1
        assert [ask(c) for c in connections] == first  # a kept-open connection stays with its worker
        for c in connections:
            c.close()

        os.kill(first[0], signal.SIGKILL)
        time.sleep(0.5)
        survivors = {ask(http.client.HTTPConnection("127.0.0.1", port, timeout=5)) for _ in range(10)}
        assert survivors == set(first) - {first[0]}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


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
