"""Rasa's SQL tracker store without rebuilding every conversation from JSON on every message.

Rasa's `SQLTrackerStore` reads all events of the session, decodes them and replays them into a
new tracker for each message, then counts them again to know which ones to append. Here:

- **Live trackers.** After a save, the tracker stays in this process with the conversation's
  version: its highest event id and latest event timestamp. The next `retrieve` reads only that
  version (one lookup on the sender's index) and, when it is unchanged, hands the same tracker
  back. Another worker or replica that answered in between, an erasure, a purge or events whose
  times were rewritten all change it, and the tracker is read from the database as Rasa does.
  Rasa holds the conversation lock around retrieve → process → save, so the check and the save
  never race. A tracker is handed out once (taken out of the cache): when the message fails
  before its save, the next one reads the database. Only a tracker equal to what the database
  would give is kept (the latest session's events, `_session_events`).
- **Appends only new events**, counted from what was retrieved, instead of a COUNT per save.
- **Off the event loop.** Database work runs in a thread, so a commit's fsync no longer stops
  every other conversation on this worker.
- **SQLite**: write-ahead log (readers never wait for the writer; one fsync per commit,
  `synchronous=FULL`: a message is answered only after its events are on disk) and pooled
  connections instead of one per call. Saves take turns on a file lock next to the database
  (threads of this worker and the other workers): SQLite's own busy handler would sleep 1, 2, 5,
  10... ms between tries, and under load those sleeps were most of the tracker store's time.

A writer that changed a stored event's content but neither its id nor its time (none in the
product) would not be seen until the tracker leaves the cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from crm.db import use_wal
from crm.runtime import file_lock

logger = logging.getLogger(__name__)

LIVE_TRACKERS = 2000  # conversations kept per process; a few hundred KB each at most
SQLITE_BUSY_TIMEOUT_S = 5  # as Rasa's: a file locked longer fails the message (apology)


Version = Tuple[Any, ...]  # (highest event id, latest event timestamp) of a conversation


@dataclass
class _Stored:
    """What the database holds of a conversation's latest session, as this process last saw it."""

    tracker: DialogueStateTracker
    events: int  # how many of tracker.events are stored
    version: Version  # the conversation's highest event id and latest timestamp after that


def _session_events(events: List[Event]) -> List[Event]:
    """The events `SQLTrackerStore.retrieve` would return for this tracker: those from the latest
    SessionStarted's timestamp on (all of them without a SessionStarted)."""
    starts = [event for event in events if isinstance(event, SessionStarted)]
    if not starts:
        return events
    since = max(event.timestamp for event in starts)
    return [event for event in events if event.timestamp >= since]


class LiveSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store with live trackers (see the module docstring)."""

    engine: Any  # Rasa's, or the pooled SQLite one below

    def __init__(self, *args: Any, live_trackers: int = LIVE_TRACKERS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._writer = threading.Lock()
        self._writer_file: Optional[Path] = None
        if self.engine.dialect.name == "sqlite":
            self._use_pooled_sqlite()
        self.live_trackers = int(live_trackers)
        self._live: OrderedDict[str, _Stored] = OrderedDict()  # saved, not handed out
        self._handed_out: OrderedDict[str, _Stored] = OrderedDict()  # retrieved, not yet saved
        self._guard = threading.Lock()  # the two maps are used from the executor's threads
        self.hits = self.misses = 0
        events = self.SQLEvent.__table__
        self._version_query = sa.select(sa.func.max(events.c.id), sa.func.max(events.c.timestamp)).where(
            events.c.sender_id == sa.bindparam("sender")
        )

    def _use_pooled_sqlite(self) -> None:
        url = self.engine.url
        self.engine.dispose()
        if url.database and url.database != ":memory:":
            self._writer_file = Path(f"{url.database}.writer")
        engine = sa.create_engine(
            url,
            poolclass=sa.pool.QueuePool,
            pool_size=8,  # the executor's threads (min(32, cores + 4)) each keep one
            max_overflow=8,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
        )

        @sa.event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            use_wal(connection)
            connection.execute("PRAGMA synchronous=FULL")

        self.engine = engine
        self.sessionmaker = sa.orm.session.sessionmaker(bind=engine)

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        return await asyncio.get_running_loop().run_in_executor(None, self._retrieve_live, sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        await asyncio.get_running_loop().run_in_executor(None, self._save_live, tracker)

    def _retrieve_live(self, sender_id: str) -> Optional[DialogueStateTracker]:
        with self.engine.connect() as connection:
            version = tuple(connection.execute(self._version_query, {"sender": sender_id}).one())
        with self._guard:
            live = self._live.pop(sender_id, None)
        if live is not None and version[0] is not None and live.version == version:
            self.hits += 1
            live.tracker.max_event_history = self.max_event_history
            self._hand_out(sender_id, live)
            return live.tracker
        self.misses += 1
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
            events = [json.loads(row.data) for row in rows]
        if not (self.domain and events):
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots, self.max_event_history)
        self._hand_out(sender_id, _Stored(tracker, len(tracker.events), version))
        return tracker

    def _hand_out(self, sender_id: str, stored: _Stored) -> None:
        with self._guard:
            self._handed_out[sender_id] = stored
            while len(self._handed_out) > self.live_trackers:  # read by the API, never saved
                self._handed_out.popitem(last=False)

    @contextlib.contextmanager
    def _turn_to_write(self) -> Iterator[None]:
        """One save at a time on a SQLite file (see the module docstring); nothing elsewhere."""
        if self._writer_file is None:
            yield
            return
        with file_lock.exclusive(self._writer_file, self._writer):  # a pool thread waits, not the loop
            yield

    def _save_live(self, tracker: DialogueStateTracker) -> None:
        with self._turn_to_write():
            self._save_now(tracker)

    def _save_now(self, tracker: DialogueStateTracker) -> None:
        sender_id = tracker.sender_id
        with self._guard:
            known = self._handed_out.pop(sender_id, None)
            self._live.pop(sender_id, None)
        with self.session_scope() as session:
            if known is not None and known.tracker is tracker:
                new_events = list(tracker.events)[known.events :]
            else:  # a tracker this store did not hand out: count what is stored, as Rasa does
                new_events = list(self._additional_events(session, tracker))
            rows = [self._row(sender_id, event) for event in new_events]
            if rows:
                session.execute(self.SQLEvent.__table__.insert(), rows)
            version = tuple(session.execute(self._version_query, {"sender": sender_id}).one())
            session.commit()
        self._keep(tracker, version)

    def _row(self, sender_id: str, event: Event) -> Dict[str, Any]:
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }

    def _keep(self, tracker: DialogueStateTracker, version: Version) -> None:
        """Keep the saved tracker for the next message, as the database would return it."""
        events = list(tracker.events)
        session = _session_events(events)
        if len(session) != len(events):  # a new session began: drop the older one, once
            tracker = DialogueStateTracker.from_dict(
                tracker.sender_id, [event.as_dict() for event in session], self.domain.slots, self.max_event_history
            )
        with self._guard:
            self._live[tracker.sender_id] = _Stored(tracker, len(tracker.events), version)
            while len(self._live) > self.live_trackers:
                self._live.popitem(last=False)
