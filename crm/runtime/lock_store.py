"""Rasa's conversation lock, made safe across replicas and quicker to hand over.

Rasa's RedisLockStore changes a lock by GET, edit, SET. Two replicas doing that at once lose
each other's edits: a ticket issued twice, or a finished ticket written back, which then holds
the conversation until it expires (LOCK_LIFETIME, 60 s) — messages sent at once to two replicas
waited minutes (RasaHQ/rasa#9213). Here every change is one Lua script run inside Redis (atomic,
one round trip), an empty lock is deleted, and the key expires with its last ticket so a
crashed replica leaves nothing behind.

`SQLiteLockStore` is the same ticket lock for the Rasa workers of one machine without Redis
(the embedded default with RASA_WORKERS above 1): every change is one `BEGIN IMMEDIATE`
transaction on a small SQLite file under var/run. The lock's state need not survive a power
cut (every worker dies with it), so it is written without fsync.

All stores look for their turn every 50 ms instead of Rasa's 1 s: a customer's second
message, sent while the first is answered, no longer waits up to a second for nothing.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any, AsyncContextManager, Callable, Optional, Tuple, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockStore, RedisLockStore

from crm.db import use_wal

WAIT_FOR_TURN_S = 0.05

T = TypeVar("T")


class _QuickTurn:
    """Looks for its turn every WAIT_FOR_TURN_S instead of Rasa's 1 s."""

    def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = WAIT_FOR_TURN_S,
    ) -> AsyncContextManager[TicketLock]:
        quicker = min(wait_time_in_seconds, WAIT_FOR_TURN_S)
        return super().lock(conversation_id, lock_lifetime, quicker)  # type: ignore[misc]


class QuickInMemoryLockStore(_QuickTurn, InMemoryLockStore):
    """Rasa's in-process lock (one Rasa server), polled every WAIT_FOR_TURN_S."""

    def __init__(self, endpoint_config: Any = None) -> None:
        super().__init__()


Edit = Callable[[Optional[TicketLock]], Tuple[Optional[TicketLock], T]]


class _TicketsInTransactions:
    """Rasa's ticket operations, each one `_change` of the stored lock (one transaction)."""

    def _change(self, conversation_id: str, edit: Edit[T]) -> T:
        raise NotImplementedError

    def create_lock(self, conversation_id: str) -> TicketLock:
        return TicketLock(conversation_id)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        return self._change(conversation_id, issue)

    def update_lock(self, conversation_id: str) -> None:
        self._change(conversation_id, lambda lock: (lock, None))  # _change drops expired tickets

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        def finish(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock, None

        self._change(conversation_id, finish)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        self.finish_serving(conversation_id, ticket_number)  # an emptied lock is deleted there


# One change of a stored lock, done inside Redis: KEYS[1] the lock's key; ARGV: the change
# ("issue", "finish", "update" or "save"), the client's clock (seconds, as Rasa's tickets use),
# its argument (a lifetime, a ticket number, nothing, or a whole lock as Rasa writes it) and the
# conversation id. Tickets expired at that clock are dropped; an empty lock is deleted; the key
# expires a second after its last ticket. Returns the ticket issued (0 for other changes).
_CHANGE_LOCK = """
local now = tonumber(ARGV[2])
local raw = ARGV[1] == 'save' and ARGV[3] or redis.call('GET', KEYS[1])
local tickets = {}
if raw then
  for _, text in ipairs(cjson.decode(raw).tickets or {}) do
    local ticket = cjson.decode(text)
    if ticket.expires >= now then table.insert(tickets, ticket) end
  end
end
local result = 0
if ARGV[1] == 'issue' then
  if #tickets > 0 then result = tickets[#tickets].number + 1 end
  table.insert(tickets, {number = result, expires = now + tonumber(ARGV[3])})
elseif ARGV[1] == 'finish' then
  for i, ticket in ipairs(tickets) do
    if ticket.number == tonumber(ARGV[3]) then table.remove(tickets, i) break end
  end
end
if #tickets == 0 then
  redis.call('DEL', KEYS[1])
  return result
end
local encoded, last = {}, 0
for i, ticket in ipairs(tickets) do
  encoded[i] = cjson.encode({number = ticket.number, expires = ticket.expires})
  last = math.max(last, ticket.expires)
end
redis.call('SET', KEYS[1], cjson.encode({conversation_id = ARGV[4], tickets = encoded}),
  'PX', math.max(1, math.floor((last - now) * 1000)) + 1000)
return result
"""


class AtomicRedisLockStore(_QuickTurn, RedisLockStore):
    """Rasa's Redis ticket lock whose every change is one script run inside Redis: atomic across
    replicas, and one round trip (a message costs three: issue, read, finish; Rasa's store
    needed seven, each a wait for Redis on a busy machine)."""

    def __init__(self, endpoint_config: Any = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)
        self._script = self.red.register_script(_CHANGE_LOCK)  # EVALSHA, loaded on first use

    def _change_lock(self, change: str, conversation_id: str, argument: object = "") -> int:
        key = self.key_prefix + conversation_id
        return int(self._script(keys=[key], args=[change, repr(time.time()), argument, conversation_id]))

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        return self._change_lock("issue", conversation_id, repr(float(lock_lifetime)))

    def update_lock(self, conversation_id: str) -> None:
        self._change_lock("update", conversation_id)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self._change_lock("finish", conversation_id, int(ticket_number))

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        self.finish_serving(conversation_id, ticket_number)  # an emptied lock is deleted there

    def save_lock(self, lock: TicketLock) -> None:
        self._change_lock("save", lock.conversation_id, lock.dumps())


class SQLiteLockStore(_QuickTurn, _TicketsInTransactions, LockStore):
    """The ticket lock shared by the Rasa workers of one machine (see the module docstring)."""

    def __init__(self, endpoint_config: Any = None, path: Optional[str] = None) -> None:
        super().__init__()
        given = path or (endpoint_config.kwargs.get("path") if endpoint_config is not None else None)
        if not given:
            raise ValueError("SQLiteLockStore needs a path (lock_store: path: ... in endpoints.yml)")
        self.path = Path(given)
        self._connection: Optional[sqlite3.Connection] = None
        self._pid = 0

    def _db(self) -> sqlite3.Connection:
        if self._connection is None or self._pid != os.getpid():  # never share one across a fork
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
            use_wal(connection)
            connection.execute(
                "CREATE TABLE IF NOT EXISTS locks (conversation_id TEXT PRIMARY KEY, "
                "data TEXT NOT NULL, expires REAL NOT NULL)"
            )
            connection.execute("PRAGMA synchronous=OFF")
            self._connection, self._pid = connection, os.getpid()
        return self._connection

    def _read(self, db: sqlite3.Connection, conversation_id: str) -> Optional[TicketLock]:
        row = db.execute(
            "SELECT data FROM locks WHERE conversation_id = ? AND expires > ?", (conversation_id, time.time())
        ).fetchone()
        return TicketLock.from_dict(json.loads(row[0])) if row else None

    def _change(self, conversation_id: str, edit: Edit[T]) -> T:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            lock, result = edit(self._read(db, conversation_id))
            if lock is not None:
                lock.remove_expired_tickets()
            if lock is None or not lock.tickets:
                db.execute("DELETE FROM locks WHERE conversation_id = ?", (conversation_id,))
            else:
                expires = max(ticket.expires for ticket in lock.tickets)
                db.execute(
                    "INSERT OR REPLACE INTO locks (conversation_id, data, expires) VALUES (?, ?, ?)",
                    (conversation_id, lock.dumps(), expires),
                )
            db.execute("COMMIT")
            return result
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def get_lock(self, conversation_id: str) -> Optional[TicketLock]:
        return self._read(self._db(), conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        self._db().execute("DELETE FROM locks WHERE conversation_id = ?", (conversation_id,))

    def save_lock(self, lock: TicketLock) -> None:
        self._change(lock.conversation_id, lambda _stored: (lock, None))
