"""The conversation lock across processes, on a real Redis (crm/runtime/lock_store.py).

Four processes stand in for four Rasa replicas taking turns on one conversation: inside the
lock each reads a counter, waits a little and writes it back, and marks that it is inside. With
Rasa's own RedisLockStore this loses turns (two inside at once) or stalls on a finished ticket
written back; here every turn is counted once and nobody is ever inside together.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time

import pytest

from tests.support.localservices import RedisServer

pytestmark = pytest.mark.integration

PROCESSES = 4
TURNS = 25


@pytest.fixture(scope="module")
def redis_server():
    server = RedisServer()
    yield server
    server.remove()


def _store(port: int):
    from crm.runtime.lock_store import AtomicRedisLockStore

    return AtomicRedisLockStore(host="127.0.0.1", port=port, db=0, key_prefix="test")


def _take_turns(port: int, conversation: str, results) -> None:
    store = _store(port)

    async def turns() -> int:
        overlaps = 0
        for n in range(TURNS):
            async with store.lock(conversation):
                if not store.red.set("inside", "1", nx=True):
                    overlaps += 1
                count = int(store.red.get("count") or 0)
                await asyncio.sleep(0.001 * (n % 4))
                store.red.set("count", count + 1)
                store.red.delete("inside")
        return overlaps

    results.put(asyncio.run(turns()))


def test_four_processes_take_turns_on_one_conversation_without_overlap(redis_server):
    store = _store(redis_server.port)
    store.red.delete("count", "inside")
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [
        context.Process(target=_take_turns, args=(redis_server.port, "one-conversation", results))
        for _ in range(PROCESSES)
    ]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    overlaps = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(10)
    assert overlaps == [0] * PROCESSES
    assert int(store.red.get("count")) == PROCESSES * TURNS
    assert store.get_lock("one-conversation") is None  # the last turn removed the lock
    assert time.monotonic() - started < 60  # no turn waited for a ticket to expire (60 s)


def test_a_ticket_left_by_a_crashed_replica_expires_with_its_key(redis_server):
    store = _store(redis_server.port)
    ticket = store.issue_ticket("crashed", lock_lifetime=1)  # issued, never finished
    assert ticket == 0 and store.get_lock("crashed") is not None
    assert 0 < store.red.pttl(store.key_prefix + "crashed") <= 2000
    time.sleep(2.2)
    assert store.red.exists(store.key_prefix + "crashed") == 0


def test_the_next_message_gets_its_turn_within_a_tenth_of_a_second(redis_server):
    store = _store(redis_server.port)
    handed_over = []

    async def two_messages():
        async def first():
            async with store.lock("quick"):
                await asyncio.sleep(0.3)
                handed_over.append(time.monotonic())

        async def second():
            await asyncio.sleep(0.05)
            async with store.lock("quick"):
                handed_over.append(time.monotonic())

        await asyncio.gather(first(), second())

    asyncio.run(two_messages())
    assert len(handed_over) == 2 and handed_over[1] - handed_over[0] < 0.1


def test_a_message_turn_costs_three_round_trips_to_redis(redis_server):
    store = _store(redis_server.port)
    sent = []
    execute = store.red.execute_command

    def counted(*args, **options):
        sent.append(args[0])
        return execute(*args, **options)

    store.red.execute_command = counted

    async def one_message() -> None:
        async with store.lock("counted"):
            pass

    asyncio.run(one_message())
    # issue (one script), is it my turn (GET), finish (one script); Rasa's store sends seven
    assert sent == ["EVALSHA", "GET", "EVALSHA"] or sent == ["EVALSHA", "EVAL", "GET", "EVALSHA"]
    assert store.get_lock("counted") is None


def test_locks_are_written_as_rasa_writes_them(redis_server):
    from collections import deque

    from rasa.core.lock import Ticket, TicketLock
    from rasa.core.lock_store import RedisLockStore

    store = _store(redis_server.port)
    rasa_store = RedisLockStore(host="127.0.0.1", port=redis_server.port, db=0, key_prefix="test")
    first = store.issue_ticket("shared", lock_lifetime=30)
    second = store.issue_ticket("shared", lock_lifetime=30)
    seen = rasa_store.get_lock("shared")  # Rasa's own reader
    assert (first, second) == (0, 1) and [t.number for t in seen.tickets] == [0, 1]
    assert seen.conversation_id == "shared" and not seen.is_locked(0) and seen.is_locked(1)

    now = time.time()  # a lock as Rasa writes it, its first ticket long expired
    stale = TicketLock("shared", deque([Ticket(0, now - 5), Ticket(1, now + 30)]))
    store.save_lock(stale)
    assert [t.number for t in store.get_lock("shared").tickets] == [1]
    store.finish_serving("shared", 1)
    assert store.get_lock("shared") is None and store.red.exists(store.key_prefix + "shared") == 0
