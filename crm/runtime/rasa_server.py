"""`python -m crm.runtime.rasa_server run ...`: Rasa's own `rasa` command with the changes a finance
company's assistant needs and Rasa 3.6 does not have. `make run` starts Rasa this way.

1. **No silence when an action fails.** Every action runs under ACTION_TIMEOUT_SECONDS; when it
   fails the customer gets `utter_system_unavailable`, the bot stops predicting for this turn,
   and the conversation goes to the CRM queue through `crm.runtime.outbox` (kept on disk until the
   database takes it).
2. **No silent switch to memory.** A tracker store failure fails the message (the channel
   apologises), is logged in capitals and turns `/webhooks/health/` red; at start-up an
   unreachable tracker store stops the server. A tracker store error never exits the process
   (Rasa's SQL store turns any ValueError into SystemExit).
3. **Personal data masked in every log line** (`crm.privacy`).
4. **Action calls made cheap**: answers validated against the one event kind each event names
   (the schema checked once), the domain sent without its responses and only to the few actions
   that need it, and connections to the action server kept open and reused. The NLU and policy
   graphs run their nodes in a precomputed order instead of through dask's scheduler; RulePolicy
   finds its rules through an index; a message's sparse features are joined without scipy's
   general hstack; each worker listens on its own socket, so connections are spread over them.
5. **A new session starts clean here**, before the action server is asked: no slot (above all
   `verified`) survives into a new session even when the action server is down.
6. **No JAX**: TensorFlow would import it for TF Lite (64 MB per process, unused).
7. **The HTTP front**: bodies capped at 1 MB, `/` says only "ok", `/version` needs the API token,
   and behind our nginx the client address is read from X-Forwarded-For. The API token comes
   from RASA_API_TOKEN, never from argv. The escalation outbox loop runs with the server.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
import time
from typing import Any, Optional

from crm.conversations import verified_customer_id
from crm.privacy import install_log_masking

logger = logging.getLogger("crm.runtime.rasa_server")

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
                try:
                    result = await coroutine
                except SystemExit as exiting:  # Rasa's SQL store exits on any ValueError
                    raise RuntimeError(f"tracker store refused the conversation ({exiting})") from None
            except Exception as error:
                TrackerStoreState.failed(error)
                logger.error(
                    "TRACKER STORE UNREACHABLE: could not %s conversation %s (%s: %s); the "
                    "message was not processed and nothing was kept in memory",
                    what,
                    sender_id,
                    type(error).__name__,
                    error,
                )
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


def _queue_for_crm(tracker: Any, action_name: str, error: BaseException) -> None:
    from crm.runtime import outbox

    box = outbox.outbox()
    box.add(
        outbox.new_item(
            conversation_id=tracker.sender_id,
            channel=tracker.get_latest_input_channel() or "unknown",
            summary=f"Gangguan sistem: aksi {action_name} gagal ({type(error).__name__}). "
            "Pelanggan sudah menerima permohonan maaf.",
            customer_id=verified_customer_id(tracker),
        )
    )
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
        logger.error(
            "action %s failed for conversation %s (%s); apologising and queueing for CRM",
            action.name(),
            tracker.sender_id,
            type(error).__name__,
        )
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


def innermost_store(store: Any) -> Any:
    """The store inside Rasa's wrappers (FailSafe, ours)."""
    while hasattr(store, "_tracker_store"):
        store = store._tracker_store
    return store


def ping_tracker_store(store: Any) -> None:
    """Raise unless the SQL tracker store's database can be read, and on SQLite also written
    (other stores: nothing to do). In WAL mode a file locked by another writer still reads, and
    a worker that did not fail a message itself must still turn red."""
    engine = getattr(innermost_store(store), "engine", None)
    if engine is None:
        return
    from sqlalchemy import text

    with engine.connect() as connection:
        connection.execute(text("SELECT count(*) FROM events WHERE 1 = 0"))
        if engine.dialect.name == "sqlite":
            raw = connection.connection  # the write lock, taken and given back at once
            raw.execute("BEGIN IMMEDIATE")
            raw.execute("ROLLBACK")


def check_tracker_store_at_start(store: Any) -> None:
    """Exit the process (code 3) when the SQL tracker store cannot be read: Rasa would log
    "Could not create tables" and serve anyway, failing every conversation."""
    try:
        ping_tracker_store(store)
    except Exception as error:
        logger.critical(
            "TRACKER STORE UNREACHABLE at start-up (%s: %s). Conversations cannot be kept, so the "
            "Rasa server stops instead of serving customers it would forget. Check TRACKER_DB / "
            "tracker_store in endpoints.yml.",
            type(error).__name__,
            error,
        )
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
    first validates the *schema* against the JSON Schema meta-schema, on every call (41 % of the
    Rasa server's CPU under load once, docs/BENCHMARKS.md), then tries each event against all 23
    kinds of the schema's `oneOf` (1.8 ms an answer). Here the schema is checked once, and each
    event is checked against the one kind its `event` names: the kinds' `event` constants are
    distinct, so "exactly one kind matches" is the same test. Anything else (no `event`, an
    unknown kind) goes through the whole schema, so every answer is still validated as Rasa would."""
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    if getattr(RemoteAction._validate_action_result, "_crm_fast", False):
        return
    validate = action_answer_validator(RemoteAction.action_response_format_spec())

    def _validate_action_result(self, result):
        try:
            validate(result)
            return True
        except ValidationError as error:
            error.message += (
                ". Failed to validate Action server response from API, make sure your response "
                f"from the Action endpoint is valid. See {DOCS_BASE_URL}/custom-actions"
            )
            raise error

    _validate_action_result._crm_fast = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = _validate_action_result


def action_answer_validator(schema: dict) -> Any:
    """A function raising jsonschema's ValidationError exactly when `schema` (Rasa's action answer
    format: `events` items are a `oneOf` of event kinds told apart by a constant `event`) does."""
    from jsonschema.validators import validator_for

    cls = validator_for(schema)
    cls.check_schema(schema)
    whole = cls(schema)
    item = schema["properties"]["events"]["items"]
    kinds = {}
    for kind in item["oneOf"]:
        name = kind["properties"]["event"]["const"]
        assert name not in kinds, f"two event kinds named {name!r}"
        kinds[name] = cls({"allOf": [{key: value for key, value in item.items() if key != "oneOf"}, kind]})

    def validate(result: Any) -> None:
        events = result.get("events") if isinstance(result, dict) else None
        if not isinstance(events, list) or not all(
            isinstance(event, dict) and isinstance(event.get("event"), str) and event["event"] in kinds
            for event in events
        ):
            whole.validate(result)
            return
        rest = {key: value for key, value in result.items() if key != "events"}
        if rest:
            whole.validate(rest)
        for event in events:
            kinds[event["event"]].validate(event)

    return validate


def install_lean_action_domain() -> None:
    """The actions that receive the domain (the form validations, `send_domain: true`; the others
    get none: endpoints.yml enables Rasa's selective domain) get it without `responses`: 34 of its
    43 KB, which actions never read (they name a response and Rasa renders it). It is built once
    per loaded domain instead of by `Domain.as_dict()` on every call."""
    import rasa
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.trackers import EventVerbosity

    if getattr(RemoteAction._action_call_format, "_crm_lean", False):
        return
    built: dict = {}

    def lean(domain: Any) -> dict:
        if built.get("of") is not domain:
            as_dict = domain.as_dict()
            as_dict.pop("responses", None)
            built.update({"of": domain, "dict": as_dict})
        return built["dict"]

    def _action_call_format(self, tracker, domain):
        result = {
            "next_action": self._name,
            "sender_id": tracker.sender_id,
            "tracker": tracker.current_state(EventVerbosity.ALL),
            "version": rasa.__version__,
        }
        if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
            result["domain"] = lean(domain)
        return result

    _action_call_format._crm_lean = True  # type: ignore[attr-defined]
    RemoteAction._action_call_format = _action_call_format


def graph_plan(schema: Any, targets: list) -> list:
    """The nodes `targets` need, each after the nodes it needs: [(node, [needed names])]. A
    needed name that is not a node is one of the run's inputs (e.g. the tracker)."""
    plan: list = []
    placed: set = set()

    def place(name: str, path: tuple) -> None:
        if name in placed or name not in schema.nodes:
            return
        if name in path:
            raise ValueError(f"the graph has a cycle through {name!r}")
        needs = list(schema.nodes[name].needs.values())
        for needed in needs:
            place(needed, (*path, name))
        placed.add(name)
        plan.append((name, needs))

    for target in targets:
        place(target, ())
    return plan


def install_sequential_graph_runner() -> None:
    """Rasa runs its NLU and policy graphs (about 20 nodes, one after another, in one thread)
    through dask's local scheduler, three or four times per message: the scheduling alone was
    5 % of the Rasa server's CPU under load (docs/BENCHMARKS.md). Here each graph's order is
    worked out once per set of targets and its nodes are called in that order, with the same
    inputs, results and errors as with dask."""
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    if getattr(DaskGraphRunner.run, "_crm_sequential", False):
        return

    def run(self, inputs=None, targets=None):
        run_targets = targets if targets else self._graph_schema.target_names
        plans = self.__dict__.setdefault("_crm_plans", {})
        plan = plans.get(tuple(run_targets))
        if plan is None:
            plan = plans[tuple(run_targets)] = graph_plan(self._graph_schema, list(run_targets))
        results: dict = dict.fromkeys(name for name, _ in plan)  # each filled before it is needed
        self._add_inputs_to_graph(inputs, results)  # Rasa's clash check; an input is (name, value)
        try:
            for name, needs in plan:
                results[name] = self._instantiated_nodes[name](*(results[needed] for needed in needs))
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error
        return dict(results[target] for target in run_targets)

    run._crm_sequential = True  # type: ignore[attr-defined]
    run.with_dask = DaskGraphRunner.run  # type: ignore[attr-defined]  # for comparing, in the tests
    DaskGraphRunner.run = run


def named_previous_action(state: dict) -> Optional[str]:
    """The previous action a dialogue state names (a rule's or a conversation's turn); None when it
    names none: a conversation start, an action given by text, or "should not be set"."""
    from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET
    from rasa.shared.nlu.constants import ACTION_NAME

    name = (state.get(PREVIOUS_ACTION) or {}).get(ACTION_NAME)
    return None if not name or name == SHOULD_NOT_BE_SET else name


def rule_index(lookup: dict) -> dict:
    """Rule keys by the previous action their last turn names ({name: [keys]}); `None` holds the
    rules whose last turn names none."""
    import json

    index: dict = {None: []}
    for key in lookup:
        index.setdefault(named_previous_action(json.loads(key)[-1]), []).append(key)
    return index


def install_fast_feature_joining() -> None:
    """Each featurizer adds its own sparse matrix for a message, and Rasa joins them side by side
    with scipy's general `hstack` (about 0.2 ms a join here, five joins a message: 4 % of a
    worker's CPU). Two COO matrices are joined by concatenating their entries, the right one's
    columns shifted: the same matrix, a quarter of the time. Anything else goes to Rasa's join."""
    import numpy as np
    from rasa.shared.nlu.training_data.features import Features
    from scipy.sparse import coo_matrix

    if getattr(Features._combine_sparse_features, "_crm_fast", False):
        return
    general = Features._combine_sparse_features

    def _combine_sparse_features(self, additional_features):
        left, right = self.features, additional_features.features
        if type(left) is not coo_matrix or type(right) is not coo_matrix or left.shape[0] != right.shape[0]:
            return general(self, additional_features)  # Rasa's join, and its error for unequal lengths
        self.features = coo_matrix(
            (
                np.concatenate([left.data, right.data]),
                (np.concatenate([left.row, right.row]), np.concatenate([left.col, right.col + left.shape[1]])),
            ),
            shape=(left.shape[0], left.shape[1] + right.shape[1]),
        )
        self._cached_fingerprint = None

    _combine_sparse_features._crm_fast = True  # type: ignore[attr-defined]
    _combine_sparse_features.general = general  # type: ignore[attr-defined]  # for the tests
    Features._combine_sparse_features = _combine_sparse_features


def install_indexed_rule_lookup() -> None:
    """RulePolicy tests every rule against the conversation's last turn on every prediction (331
    rules, a tenth of a worker's CPU at saturation). A rule whose last turn names a previous action
    matches only when the conversation's last action has that name (Rasa's `_does_rule_match_state`
    compares it), so only those rules and the rules that name none are tested, by Rasa's own
    `_is_rule_applicable`: the same set of rules, found in a fraction of the time."""
    from rasa.core.policies.rule_policy import RulePolicy

    if getattr(RulePolicy._get_possible_keys, "_crm_indexed", False):
        return

    def _get_possible_keys(self, lookup, states):
        if not states:
            return set(lookup)
        indexes = self.__dict__.setdefault("_crm_rule_indexes", {})  # {id(lookup): (its keys, index)}
        keys, index = indexes.get(id(lookup), (None, None))
        if keys != lookup.keys():  # a new lookup, or one changed in place
            keys, index = indexes[id(lookup)] = (frozenset(lookup), rule_index(lookup))
        possible_keys = set(index[None])
        name = named_previous_action(states[-1])
        possible_keys.update(index.get(name, ()) if name else ())
        for turn, state in enumerate(reversed(states)):
            possible_keys = {key for key in possible_keys if self._is_rule_applicable(key, turn, state)}
        return possible_keys

    _get_possible_keys._crm_indexed = True  # type: ignore[attr-defined]
    _get_possible_keys.unindexed = RulePolicy._get_possible_keys  # type: ignore[attr-defined]  # for the tests
    RulePolicy._get_possible_keys = _get_possible_keys


# An idle connection to the action server is closed here before the server would close it
# (crm.runtime.action_server keeps them ACTION_SERVER_KEEP_ALIVE_S), so a call never goes out on
# a connection the server is closing.
ACTION_KEEP_ALIVE_S = 4.0


def install_pooled_action_connections(keep_alive_s: float = ACTION_KEEP_ALIVE_S) -> None:
    """Rasa opens a new HTTP session, so a new TCP connection, for every action call (and closes
    it after): connecting and accepting were 7 % of the Rasa server's CPU under load and more of
    the action server's. Here each event loop (one per worker) keeps one connection pool, reused
    by every call; the session Rasa creates and closes around a call no longer owns it."""
    import aiohttp
    from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
    from rasa.utils.endpoints import EndpointConfig

    if getattr(EndpointConfig.session, "_crm_pooled", False):
        return
    pools: dict = {}

    def pool() -> Optional[aiohttp.TCPConnector]:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        connector = pools.get("connector")
        if pools.get("loop") is not loop or connector is None or connector.closed:
            connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=keep_alive_s)  # no cap, as before
            pools.update(loop=loop, connector=connector)
        return connector

    def session(self) -> aiohttp.ClientSession:
        auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
        connector = pool()
        return aiohttp.ClientSession(
            headers=self.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=connector,
            connector_owner=connector is None,
        )

    session._crm_pooled = True  # type: ignore[attr-defined]
    EndpointConfig.session = session


def fill_endpoint_placeholders() -> None:
    """The ${...} values of the endpoints.yml that `make run` / `python -m crm config` write, from
    the settings, when whoever started this process did not set them (one container per process)."""
    from crm.runtime.configuration import child_environment
    from crm.settings import load_settings

    wanted = ("ACTION_ENDPOINT_URL", "TRACKER_DB", "TRACKER_STORE_PASSWORD", "REDIS_PASSWORD")
    derived = child_environment(load_settings())
    for name in wanted:
        os.environ.setdefault(name, derived[name])


def install_clean_session_start() -> None:
    """Clear the conversation's state (SessionStarted resets every slot) as soon as Rasa decides a
    session has expired, before `action_session_start` runs on the action server: when that call
    fails, the old session's `verified` must not survive into the new one."""
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.events import SessionStarted

    original = MessageProcessor._update_tracker_session
    if getattr(original, "_crm_clean", False):
        return

    async def _update_tracker_session(self, tracker, output_channel, metadata=None) -> None:
        if tracker.applied_events() and self._has_session_expired(tracker):
            tracker.update(SessionStarted(metadata=metadata), self.domain)
        await original(self, tracker, output_channel, metadata)

    _update_tracker_session._crm_clean = True  # type: ignore[attr-defined]
    MessageProcessor._update_tracker_session = _update_tracker_session


def install_worker_sockets() -> None:
    """With several workers Sanic forks them onto one shared listening socket, and which worker
    accepts a new connection is a race: the ten keep-alive connections of a burst all landed on
    one worker while the other idled for their whole life (measured: 10 of 10, 29 msg/s instead
    of 50-56; libuv's UV_TCP_SINGLE_ACCEPT made it rarer, not rare). Here each worker listens on
    its own socket with SO_REUSEPORT, and the kernel spreads new connections over the workers'
    sockets by their addresses; a worker that dies takes only its own socket with it. The rest is
    Sanic's `serve_multiple`: the same start and stop events, signals and forked `serve`, with
    the parent's objects frozen (gc.freeze) before the fork so the workers keep sharing its pages."""
    import multiprocessing
    import signal

    import sanic.app
    from sanic.log import logger as sanic_logger
    from sanic.server import runners

    if getattr(sanic.app.serve_multiple, "_crm_own_sockets", False):
        return
    shared_socket = sanic.app.serve_multiple

    def serve_multiple(server_settings: dict, workers: int) -> None:
        if server_settings.get("sock") is not None or server_settings.get("unix"):
            return shared_socket(server_settings, workers)  # a socket given by the caller: Sanic's way
        server_settings["reuse_port"] = True  # each worker's `serve` binds host:port itself
        server_settings["run_multiple"] = True
        main_start = server_settings.pop("main_start", None)
        main_stop = server_settings.pop("main_stop", None)
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        runners.trigger_events(main_start, loop)
        processes: list = []

        def stop(signum: int, frame: Any) -> None:
            sanic_logger.info("Received signal %s. Shutting down.", signal.Signals(signum).name)
            for process in processes:
                os.kill(process.pid, signal.SIGTERM)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        # the parent's objects (TensorFlow, Rasa, all imported before the fork) move out of the
        # collector's reach: a worker's collections would otherwise write to every object's
        # header and so copy nearly every page it shares with the parent (about 100 MB with two
        # workers, docs/BENCHMARKS.md); Python's documented recipe for fork without exec
        gc.collect()
        gc.freeze()
        for _ in range(workers):
            process = multiprocessing.get_context("fork").Process(target=runners.serve, kwargs=server_settings)
            process.daemon = True
            process.start()
            processes.append(process)
        for process in processes:
            process.join()
        for process in processes:
            process.terminate()
        runners.trigger_events(main_stop, loop)
        loop.close()

    serve_multiple._crm_own_sockets = True  # type: ignore[attr-defined]
    sanic.app.serve_multiple = serve_multiple


MAX_REQUEST_BYTES = 1024 * 1024


def install_http_front(behind_proxy: bool) -> None:
    """Bodies capped, info endpoints quiet, client addresses through our proxy (see above)."""
    import hmac

    import rasa.core.run
    import rasa.server
    from sanic import response

    original = rasa.core.run.configure_app
    if getattr(original, "_crm_front", False):
        return

    def add_root_route(app) -> None:
        @app.get("/")
        async def hello(request):
            return response.text("ok")

    def configure_app(*args, **kwargs):
        app = original(*args, **kwargs)
        app.config.REQUEST_MAX_SIZE = MAX_REQUEST_BYTES
        if behind_proxy:
            app.config.PROXIES_COUNT = 1
        token = kwargs.get("auth_token") if "auth_token" in kwargs else (args[2] if len(args) > 2 else None)

        @app.listener("after_server_start")
        async def start_outbox(app_, loop) -> None:  # escalations kept while the database was away
            from crm.runtime.outbox import flush_forever

            app_.ctx.crm_outbox = loop.create_task(flush_forever())

        @app.listener("before_server_stop")
        async def stop_outbox(app_, loop) -> None:
            task = getattr(app_.ctx, "crm_outbox", None)
            if task is not None:
                task.cancel()

        @app.on_request
        async def version_needs_token(request):
            if request.path == "/version":
                given = str(request.args.get("token") or "")
                if not token or not hmac.compare_digest(given.encode(), str(token).encode()):
                    return response.json({"error": "the API token is required"}, status=401)
            return None

        return app

    rasa.server.add_root_route = add_root_route
    configure_app._crm_front = True  # type: ignore[attr-defined]
    rasa.core.run.configure_app = configure_app


def install() -> None:
    from crm.settings import load_settings

    settings = load_settings()
    fill_endpoint_placeholders()
    install_log_masking()
    install_fast_action_validation()
    install_lean_action_domain()
    install_pooled_action_connections()
    install_sequential_graph_runner()
    install_indexed_rule_lookup()
    install_fast_feature_joining()
    install_action_guard(settings.action_timeout_seconds)
    install_loud_tracker_store()
    install_clean_session_start()
    install_http_front(settings.behind_proxy)
    install_worker_sockets()


def token_arguments(argv: list, environ: Any = None) -> list:
    """`argv` plus Rasa's --auth-token from RASA_API_TOKEN when the API is enabled. Given here,
    inside the process, the token never appears in /proc/<pid>/cmdline or `ps`; the "=" form
    keeps a token starting with "-" from being read as an option."""
    token = (os.environ if environ is None else environ).get("RASA_API_TOKEN")
    if token and "--enable-api" in argv and not any(a.startswith("--auth-token") for a in argv):
        return [*argv, f"--auth-token={token}"]
    return list(argv)


def keep_jax_out() -> None:
    """TensorFlow 2.12 imports JAX when it is installed (a pip dependency of TensorFlow), only for
    TF Lite's converter, which serving never uses: 64 MB in every Rasa process. With `jax` marked
    absent TF Lite's own `except ImportError` carries on without it. Before anything imports TF."""
    sys.modules.setdefault("jax", None)  # type: ignore[arg-type]


def main() -> None:
    keep_jax_out()
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv = token_arguments(sys.argv)
    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
