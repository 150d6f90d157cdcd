"""`python -m crm.rasa_server run ...`: Rasa's own `rasa` command with three changes that a
finance company's assistant needs and Rasa 3.6 does not have. `make run` starts Rasa this way.

1. **No silence when an action fails.** Rasa drops a failed custom action (action server down,
   killed mid-call, its database down, a bug) with a log line and says nothing to the customer.
   Here every action runs under a timeout (ACTION_TIMEOUT_SECONDS); when it fails the customer
   gets `utter_system_unavailable` at once, the bot stops predicting for this turn, and the
   conversation goes to the CRM queue through `crm.outbox` (kept on disk until the database
   takes it).
2. **No silent switch to memory.** Rasa's FailSafeTrackerStore keeps conversations in memory
   when the tracker store fails, so they vanish at the next restart. Here a tracker store
   failure is an error: the message fails (the channel apologises, `crm.inbound.guard`), the
   log says so in capitals, and `/webhooks/health/` turns red (503). At start-up an unreachable
   tracker store stops the server.
3. **Personal data masked in every log line** (`crm.privacy`).
4. **Action answers validated with a compiled schema** (41 % of the server's CPU went to
   re-checking the schema itself on every call).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from typing import Any, Optional

from crm.privacy import install_log_masking

logger = logging.getLogger("crm.rasa_server")

APOLOGY = "utter_system_unavailable"
APOLOGY_FALLBACK_TEXT = "Mohon maaf, sistem kami sedang mengalami gangguan. Silakan coba lagi beberapa saat lagi."


class TrackerStoreState:
    """What the health check reports about the tracker store."""

    last_error: Optional[str] = None
    last_error_at: float = 0.0

    @classmethod
    def failed(cls, error: BaseException) -> None:
        cls.last_error, cls.last_error_at = f"{type(error).__name__}: {error}"[:300], time.time()

    @classmethod
    def succeeded(cls) -> None:
        cls.last_error = None


def _loud_tracker_store_class():
    from rasa.core.tracker_store import FailSafeTrackerStore

    class LoudTrackerStore(FailSafeTrackerStore):
        """Like Rasa's FailSafeTrackerStore, but a failure is raised, never hidden in memory."""

        async def _call(self, what: str, sender_id: str, coroutine):
            try:
                result = await coroutine
            except Exception as error:
                TrackerStoreState.failed(error)
                logger.error("TRACKER STORE UNREACHABLE: could not %s conversation %s (%s: %s); the "
                             "message was not processed and nothing was kept in memory",
                             what, sender_id, type(error).__name__, error)
                raise
            TrackerStoreState.succeeded()
            return result

        async def retrieve(self, sender_id):
            return await self._call("read", sender_id, self._tracker_store.retrieve(sender_id))

        async def retrieve_full_tracker(self, sender_id):
            return await self._call("read", sender_id, self._tracker_store.retrieve_full_tracker(sender_id))

        async def save(self, tracker) -> None:
            await self._call("save", tracker.sender_id, self._tracker_store.save(tracker))

        async def keys(self):
            return await self._call("list", "*", self._tracker_store.keys())

    return LoudTrackerStore


def _customer_id(tracker: Any) -> Optional[int]:
    try:
        if tracker.get_slot("verified") and tracker.get_slot("customer_id") is not None:
            return int(tracker.get_slot("customer_id"))
    except (TypeError, ValueError, KeyError):
        pass
    return None


def _queue_for_crm(tracker: Any, action_name: str, error: BaseException) -> None:
    from crm import outbox

    box = outbox.outbox()
    box.add(outbox.new_item(
        conversation_id=tracker.sender_id,
        channel=tracker.get_latest_input_channel() or "unknown",
        summary=f"Gangguan sistem: aksi {action_name} gagal ({type(error).__name__}). "
                "Pelanggan sudah menerima permohonan maaf.",
        customer_id=_customer_id(tracker),
    ))
    loop = asyncio.get_running_loop()
    loop.run_in_executor(None, box.flush)  # right away when the database is reachable


def install_action_guard(timeout: float) -> None:
    from rasa.core.actions.action import ActionExecutionRejection
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted, BotUttered

    original = MessageProcessor._run_action
    if getattr(original, "_crm_guarded", False):
        return

    async def _run_action(self, action, tracker, output_channel, nlg, prediction) -> bool:
        failures = []
        inner = action.run

        async def run(*args, **kwargs):
            try:
                return await asyncio.wait_for(inner(*args, **kwargs), timeout)
            except ActionExecutionRejection:
                raise
            except Exception as error:  # includes the timeout
                failures.append(error)
                raise

        action.run = run
        try:
            should_continue = await original(self, action, tracker, output_channel, nlg, prediction)
        finally:
            action.__dict__.pop("run", None)
        if not failures:
            return should_continue

        error = failures[0]
        logger.error("action %s failed for conversation %s (%s); apologising and queueing for CRM",
                     action.name(), tracker.sender_id, type(error).__name__)
        try:
            message = await nlg.generate(APOLOGY, tracker, output_channel.name()) or {}
        except Exception:
            message = {}
        apology = BotUttered(message.get("text") or APOLOGY_FALLBACK_TEXT, metadata={"system": "action_failed"})
        tracker.update(apology)
        await self.execute_side_effects([apology], tracker, output_channel)
        tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        try:
            _queue_for_crm(tracker, action.name(), error)
        except Exception:
            logger.exception("could not record the escalation for conversation %s", tracker.sender_id)
        return False

    _run_action._crm_guarded = True  # type: ignore[attr-defined]
    MessageProcessor._run_action = _run_action


def check_tracker_store_at_start(store: Any) -> None:
    """Exit the process (code 3) when the SQL tracker store cannot be read: Rasa would log
    "Could not create tables" and serve anyway, failing every conversation."""
    inner = store
    while hasattr(inner, "_tracker_store"):
        inner = inner._tracker_store
    engine = getattr(inner, "engine", None)
    if engine is None:
        return
    from sqlalchemy import text

    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT count(*) FROM events WHERE 1 = 0"))
    except Exception as error:
        logger.critical("TRACKER STORE UNREACHABLE at start-up (%s: %s). Conversations cannot be kept, so the "
                        "Rasa server stops instead of serving customers it would forget. Check TRACKER_DB / "
                        "tracker_store in endpoints.yml.", type(error).__name__, error)
        logging.shutdown()
        sys.stderr.flush()
        os._exit(3)


def install_loud_tracker_store() -> None:
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import InMemoryTrackerStore

    loud = _loud_tracker_store_class()

    def _create_tracker_store(store, domain):
        if store is not None:
            store.domain = domain
        else:
            store = InMemoryTrackerStore(domain)
        check_tracker_store_at_start(store)
        return loud(store)

    Agent._create_tracker_store = staticmethod(_create_tracker_store)


def install_fast_action_validation() -> None:
    """Rasa checks every action server answer with `jsonschema.validate(result, schema)`, which
    first validates the *schema* against the JSON Schema meta-schema, on every call: py-spy
    showed 41 % of the Rasa server's CPU there under load (docs/BENCHMARKS.md). Here the
    schema is checked once and its validator reused; every answer is still validated."""
    from jsonschema import ValidationError
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    if getattr(RemoteAction._validate_action_result, "_crm_fast", False):
        return
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def _validate_action_result(self, result):
        try:
            validator.validate(result)
            return True
        except ValidationError as error:
            error.message += (". Failed to validate Action server response from API, make sure your response "
                              f"from the Action endpoint is valid. See {DOCS_BASE_URL}/custom-actions")
            raise error

    _validate_action_result._crm_fast = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = _validate_action_result


def fill_endpoint_placeholders() -> None:
    """The ${...} values of the endpoints.yml that `make run` / `python -m crm config` write, from
    the settings, when whoever started this process did not set them (one container per process)."""
    from crm.settings import load_settings
    from crm.supervisor import child_environment

    wanted = ("ACTION_ENDPOINT_URL", "TRACKER_DB", "TRACKER_STORE_PASSWORD", "REDIS_PASSWORD")
    derived = child_environment(load_settings())
    for name in wanted:
        os.environ.setdefault(name, derived[name])


def install() -> None:
    from crm.settings import load_settings

    fill_endpoint_placeholders()
    install_log_masking()
    install_fast_action_validation()
    install_action_guard(load_settings().action_timeout_seconds)
    install_loud_tracker_store()


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
