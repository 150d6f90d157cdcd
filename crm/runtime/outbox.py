"""Escalations the Rasa server must not lose while the database is unreachable.

When a custom action fails (action server down, database down, a bug), the Rasa server
apologises to the customer and queues the conversation for CRM. It writes that request to an
append-only file first (fsync'd, one JSON object per line), then tries to put it in the
database; a background loop retries until the database takes it. `escalate()` merges into the
conversation's open queue item, so a retry after a crash between commit and rewrite does not
create a second item.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import List, Optional

from crm.runtime import file_lock
from crm.settings import load_settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendingEscalation:
    conversation_id: str
    channel: str
    summary: str
    customer_id: Optional[int] = None
    created: float = 0.0


class EscalationOutbox:
    def __init__(self, path: Path, database_url: str):
        self.path = path
        self.database_url = database_url
        self._lock = threading.Lock()
        self._sessions = None

    def add(self, item: PendingEscalation) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(asdict(item), ensure_ascii=False) + "\n"
        with self._exclusive(), open(self.path, "a", encoding="utf-8") as file:
            file.write(line)
            file.flush()
            os.fsync(file.fileno())

    @contextlib.contextmanager
    def _exclusive(self):
        """One writer at a time: this process's threads, and the other workers on this port
        (an append between a flush's read and its rewrite would be lost)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with file_lock.exclusive(self.path.with_suffix(".lock"), self._lock):
            yield

    def pending(self) -> List[PendingEscalation]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        items = []
        for line in lines:
            try:
                items.append(PendingEscalation(**json.loads(line)))
            except (ValueError, TypeError):
                logger.error("escalation outbox %s: unreadable line skipped: %.80s", self.path, line)
        return items

    def _session_factory(self):
        if self._sessions is None:
            from crm.db import create_db_engine, make_session_factory

            self._sessions = make_session_factory(create_db_engine(self.database_url))
        return self._sessions

    def flush(self) -> int:
        """Put pending escalations in the queue; returns how many are still pending."""
        from crm.db import session_scope
        from crm.models import EscalationReason
        from crm.services.escalations import escalate

        with self._exclusive():
            items = self.pending()
            if not items:
                return 0
            left = []
            for number, item in enumerate(items):
                try:
                    with session_scope(self._session_factory()) as session:
                        escalate(
                            session,
                            conversation_id=item.conversation_id,
                            channel=item.channel,
                            reason=EscalationReason.ERROR,
                            summary=item.summary,
                            customer_id=item.customer_id,
                        )
                except Exception as error:  # the database is still away: keep this and the rest
                    logger.warning(
                        "escalation outbox: database unreachable (%s); %d pending, retrying",
                        type(error).__name__,
                        len(items) - number,
                    )
                    left = items[number:]
                    break
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(
                "".join(json.dumps(asdict(i), ensure_ascii=False) + "\n" for i in left), encoding="utf-8"
            )
            os.replace(temporary, self.path)
            done = len(items) - len(left)
            if done:
                logger.info("escalation outbox: %d conversation(s) queued for CRM", done)
            return len(left)


@lru_cache(maxsize=1)
def outbox() -> EscalationOutbox:
    """This Rasa server's outbox: one file per server port, so replicas never share one."""
    settings = load_settings()
    return EscalationOutbox(settings.run_dir / f"escalation-outbox-{settings.rasa_port}.jsonl", settings.database_url)


def new_item(conversation_id: str, channel: str, summary: str, customer_id: Optional[int]) -> PendingEscalation:
    return PendingEscalation(
        conversation_id=conversation_id, channel=channel, summary=summary, customer_id=customer_id, created=time.time()
    )


OUTBOX_INTERVAL_S = 5.0


async def flush_forever(interval: float = OUTBOX_INTERVAL_S) -> None:
    """Put what waits in the outbox into the CRM queue every `interval` seconds, for as long as
    the server runs (the Rasa launcher starts it with the server, whatever channels are on)."""
    import asyncio

    box = outbox()
    loop = asyncio.get_running_loop()
    while True:
        try:
            await loop.run_in_executor(None, box.flush)
        except Exception:
            logger.exception("escalation outbox flush failed")
        await asyncio.sleep(interval)
