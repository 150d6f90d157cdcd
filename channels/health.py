"""GET /webhooks/health/: is this Rasa server able to serve customers?

200 when the model is loaded and the tracker store answers; 503 (red) otherwise, with what
failed. The action server and the customer database are reported too: when they are down the
server still answers customers (with an apology, `crm.runtime.rasa_server`), so they do not turn the
check red. `make run`'s supervisor and a load balancer use this URL.
It also reports how many escalations wait in the outbox (`crm.runtime.outbox`), whose loop the
Rasa launcher runs.
"""

from __future__ import annotations

import asyncio
import logging
import time
import urllib.request
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from crm.runtime.rasa_server import ping_tracker_store

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_S = 3.0
RECENT_FAILURE_S = 30.0


def _ping_lock_store(store: Any) -> None:
    """Raise unless Rasa's Redis lock store answers (the in-memory one always does)."""
    client = getattr(store, "red", None)
    if client is not None:
        client.ping()


def _ping_url(url: str) -> None:
    with urllib.request.urlopen(url, timeout=CHECK_TIMEOUT_S) as answer:
        if answer.status != 200:
            raise OSError(f"HTTP {answer.status}")


def _ping_database() -> None:
    from sqlalchemy import text

    from crm.runtime.outbox import outbox

    with outbox()._session_factory()() as session:
        session.execute(text("SELECT 1"))


async def _check(loop, function, *args) -> Optional[str]:
    try:
        await asyncio.wait_for(loop.run_in_executor(None, function, *args), CHECK_TIMEOUT_S)
        return None
    except Exception as error:
        return f"{type(error).__name__}: {error}"[:300] or type(error).__name__


async def _skipped() -> Optional[str]:
    return None


class HealthInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "health"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> HealthInput:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("crm_health", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(request: Request):
            from crm.runtime.rasa_server import TrackerStoreState
            from crm.settings import load_settings

            loop = asyncio.get_running_loop()
            agent = getattr(request.app.ctx, "agent", None)
            checks: Dict[str, Any] = {}
            red = False
            # the checks run at once, not one after another: while Rasa's event loop is held up
            # (a synchronous SQLite tracker read waits up to 5 s on a locked file), every check
            # that awaits costs another turn of the loop, and one after another they add up
            settings = load_settings()
            ready = agent is not None and agent.is_ready()
            tracker_store = agent.tracker_store if agent is not None and ready else None
            lock_store = agent.lock_store if agent is not None and ready else None
            with_lock_store = getattr(lock_store, "red", None) is not None  # REDIS_URL
            tracker_problem, lock_problem, action_problem, database_problem = await asyncio.gather(
                _check(loop, ping_tracker_store, tracker_store) if ready else _skipped(),
                _check(loop, _ping_lock_store, lock_store) if with_lock_store else _skipped(),
                _check(loop, _ping_url, settings.action_health_url),
                _check(loop, _ping_database),
            )
            if not ready:
                checks["model"], red = "not loaded", True
            else:
                checks["model"] = "ok"
                recent = (
                    TrackerStoreState.last_error and time.time() - TrackerStoreState.last_error_at < RECENT_FAILURE_S
                )
                if tracker_problem or recent:
                    red = True
                    checks["tracker_store"] = f"FAILING: {tracker_problem or TrackerStoreState.last_error}"
                else:
                    checks["tracker_store"] = "ok"
                if with_lock_store:
                    red = red or bool(lock_problem)
                    checks["lock_store"] = f"FAILING: {lock_problem}" if lock_problem else "ok"
            checks["action_server"] = action_problem or "ok"
            checks["database"] = database_problem or "ok"
            from crm.runtime.outbox import outbox

            checks["escalations_waiting_for_database"] = len(outbox().pending())
            if red:
                logger.error("health check red: %s", checks)
            return response.json({"status": "failing" if red else "ok", "checks": checks}, status=503 if red else 200)

        return blueprint
