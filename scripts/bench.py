"""`make bench`: how fast the assistant answers and what it costs, next to a plain `rasa init`
bot served the same way on the same machine (so the ratios hold on a noisy machine).

For each bot: start it, then simulated customers over HTTP (the REST channel), each playing a
realistic conversation and waiting 1-3 s (uniform) between messages like a person, at 10, 50
and 100 simultaneous customers; then a saturation run (10 customers, no waiting). Reports
latency p50/p95/p99 per message, messages per second and errors. Also: memory (proportional set
size, all workers) of the Rasa and action servers, model load time, `make run` start-up time
with a trained model (ours is the embedded default: a Rasa worker per core) and
(unless --skip-train) full training time. Unless --skip-production, the same load against the
production profile (PostgreSQL, Redis, two Rasa and two action servers behind nginx). Prints
everything and writes docs/BENCHMARKS.md.

Our conversation: greeting, instalment question, contract number, date of birth (verification;
the instalment table comes from the database), office hours, a message the bot does not
understand (fallback), thanks. The plain bot's: greet, mood, affirm, goodbye, plus a fallback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from crm.runtime.supervisor import healthy  # noqa: E402
from tests.support.localservices import free_port, free_replica_port  # noqa: E402

REPLICA_STEP = 1000  # the production profile's REPLICA_PORT_STEP here
PY = sys.executable
RASA = str(Path(sys.executable).parent / "rasa")

OUR_SCRIPT = [
    "halo",
    "cicilan saya berapa",
    "K10124000001",
    "17-08-1985",
    "jam buka cabang surabaya besok",
    "wkwk asdfgh qwerty",
    "makasih ya",
]
PLAIN_SCRIPT = ["hello", "I am very sad", "yes", "great", "asdfgh qwerty", "bye"]
LEVELS = (10, 50, 100)


def rss_mb(pid: int) -> float:
    """Memory of `pid` and its children (MB): the proportional set size (a page shared by forked
    workers counted once, split between them), or the resident size where /proc has no PSS."""
    total = 0
    pids = [pid]
    try:
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            rollup = Path(f"/proc/{p}/smaps_rollup")
            lines = rollup.read_text().splitlines() if rollup.exists() else []
            field = "Pss:" if any(line.startswith("Pss:") for line in lines) else "VmRSS:"
            if field == "VmRSS:":
                lines = Path(f"/proc/{p}/status").read_text().splitlines()
            total += sum(int(line.split()[1]) for line in lines if line.startswith(field))
        except OSError:
            continue
    return total / 1024


def wait_http(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if healthy(url):
            return True
        time.sleep(0.3)
    return False


# --- load -------------------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    customers: int
    think: bool
    latencies: List[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    by_step: Dict[int, List[float]] = field(default_factory=dict)  # latencies per line of the script

    def figures(self) -> Dict[str, float]:
        ordered = sorted(self.latencies)

        def pct(p: float) -> float:
            if not ordered:
                return float("nan")
            return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000

        return {
            "messages": len(ordered),
            "errors": self.errors,
            "p50_ms": pct(50),
            "p95_ms": pct(95),
            "p99_ms": pct(99),
            "msg_per_s": len(ordered) / self.seconds if self.seconds else 0.0,
            "mean_ms": statistics.mean(ordered) * 1000 if ordered else float("nan"),
            "steps_p50_ms": [
                statistics.median(self.by_step[n]) * 1000 if self.by_step.get(n) else float("nan")
                for n in range(max(self.by_step, default=-1) + 1)
            ],
        }


async def customer(
    session: aiohttp.ClientSession,
    url: str,
    script: List[str],
    run: Run,
    deadline: float,
    rng: random.Random,
    number: int,
) -> None:
    conversation = 0
    while time.monotonic() < deadline:
        conversation += 1
        # a REST sender in the issued format (crm/conversations.py): letters, digits, _.@- only
        label = re.sub(r"[^A-Za-z0-9]+", "-", run.name)[:16]
        sender = f"bench-{label}-{run.customers}-{number}-{conversation}-{rng.randrange(10**9)}"[:64]
        for step, text in enumerate(script):
            if time.monotonic() >= deadline:
                return
            started = time.perf_counter()
            try:
                async with session.post(url, json={"sender": sender, "message": text}) as answer:
                    body = await answer.json(content_type=None)
                    ok = answer.status == 200 and isinstance(body, list) and len(body) > 0
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                ok = False
            took = time.perf_counter() - started
            if ok:
                run.latencies.append(took)
                run.by_step.setdefault(step, []).append(took)
            else:
                run.errors += 1
            if run.think:
                await asyncio.sleep(rng.uniform(1.0, 3.0))


async def load(url: str, script: List[str], name: str, customers: int, think: bool, seconds: float) -> Run:
    run = Run(name, customers, think)
    rng = random.Random(customers * 7 + (1 if think else 0))
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as session:
        started = time.monotonic()
        deadline = started + seconds
        tasks = []
        for n in range(customers):
            tasks.append(asyncio.ensure_future(customer(session, url, script, run, deadline, rng, n)))
            if think:  # customers arrive over the first 2 s, not all in the same millisecond
                await asyncio.sleep(2.0 / customers)
        await asyncio.gather(*tasks)
        run.seconds = time.monotonic() - started
    return run


# --- the two bots ---------------------------------------------------------------------------


class Ours:
    """Our product started the way `make run` starts it. profile "production": PostgreSQL
    (customer database and tracker store) and Redis from Debian's packages, two Rasa servers and
    two action servers behind nginx (docs/OPERATIONS.md)."""

    def __init__(self, workdir: Path, profile: str = "single"):
        self.workdir = workdir
        self.profile = profile
        self.name = "ours" if profile == "single" else "ours, production"
        self.services = []
        self.rasa_port = free_replica_port(2, REPLICA_STEP)
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{workdir / 'crm.db'}",
            "TRACKER_DB": str(workdir / "tracker.db"),
            "LOG_DIR": str(workdir / "log"),
            "RASA_PORT": str(self.rasa_port),
            "ACTION_PORT": str(free_replica_port(2, REPLICA_STEP)),
            "CONSOLE_PORT": str(free_port()),
            "WEBSITE_PORT": str(free_port()),
            "SEED_CUSTOMERS": "300",
            "RATE_LIMIT_MESSAGES": "0",
            "HANDOVER_WAIT_MINUTES": "600",
            "RASA_TELEMETRY_ENABLED": "false",
            "LOG_LEVEL": "INFO",
        }
        for key in [k for k in env if k.startswith("WHATSAPP_")]:
            env.pop(key)
        if profile == "production":
            from tests.support.localservices import PostgresServer, RedisServer

            postgres = PostgresServer(databases=("crm", "rasa"))
            self.services.append(postgres)
            redis = RedisServer()
            self.services.append(redis)
            env.update(
                DATABASE_URL=postgres.url,
                TRACKER_STORE_URL=postgres.url_of("rasa"),
                REDIS_URL=redis.url,
                RASA_REPLICAS="2",
                ACTION_SERVERS="2",
                REPLICA_PORT_STEP=str(REPLICA_STEP),
            )
        # seeding is not start-up: seed first, as an installed system would have its database
        subprocess.run([PY, "-m", "crm", "seed", "--if-empty"], cwd=ROOT, env=env, check=True, capture_output=True)
        started = time.monotonic()
        self.process = subprocess.Popen(
            [PY, "-m", "crm", "serve"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.output = []
        for line in self.process.stdout:
            self.output.append(line)
            if line.startswith("Ready in"):
                break
        else:
            self.stop()
            raise RuntimeError("our product did not start:\n" + "".join(self.output))
        self.startup_s = time.monotonic() - started
        started_lines = re.findall(r"^started (.+?) \(pid (\d+),", "".join(self.output), re.M)
        self.pids = {name: int(pid) for name, pid in started_lines}
        self.url = f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook"

    def model_load_s(self) -> Optional[float]:
        log = (self.workdir / "log" / ("rasa.log" if self.profile == "single" else "rasa-1.log")).read_text(
            errors="replace"
        )
        stamps = re.findall(
            r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \S+\s+\S+\s+- (Loading model|Rasa server is up)", log, re.M
        )
        loaded = [s for s, what in stamps if what == "Loading model"]
        up = [s for s, what in stamps if what.startswith("Rasa server")]
        if not loaded or not up:
            return None
        parse = lambda s: time.mktime(time.strptime(s, "%Y-%m-%d %H:%M:%S"))  # noqa: E731
        return parse(up[-1]) - parse(loaded[-1])

    def predictions_per_message(self) -> Dict[str, float]:
        """From the tracker store: actions run per user message (each one is a policy ensemble
        prediction; `action_listen` included) and custom actions per message (action server calls)."""
        import sqlite3

        with sqlite3.connect(self.workdir / "tracker.db") as tracker:
            counts = dict(
                tracker.execute(
                    "SELECT type_name, count(*) FROM events WHERE type_name IN ('user', 'action') GROUP BY type_name"
                ).fetchall()
            )
            custom = tracker.execute(
                "SELECT count(*) FROM events WHERE type_name = 'action' AND "
                "(action_name LIKE 'action_%' OR action_name LIKE '%_form') AND "
                "action_name NOT IN ('action_listen', 'action_session_start', "
                "'action_default_fallback')"
            ).fetchone()[0]
        users = counts.get("user") or 1
        return {"actions": counts.get("action", 0) / users, "custom_actions": custom / users}

    def memory(self) -> Dict[str, float]:
        """The largest Rasa server and action server (each replica is one process)."""
        return {
            "rasa_mb": max(rss_mb(pid) for name, pid in self.pids.items() if name.startswith("Rasa server")),
            "actions_mb": max(rss_mb(pid) for name, pid in self.pids.items() if name.startswith("action server")),
        }

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        for service in reversed(self.services):
            service.remove()


class Plain:
    """`rasa init` (its default config, data and model), served with `rasa run` (REST)."""

    name = "plain rasa init"

    def __init__(self, cache: Path):
        project = cache / "plain-rasa-init"
        if not list((project / "models").glob("*.tar.gz")):
            shutil.rmtree(project, ignore_errors=True)
            project.mkdir(parents=True)
            print(f"creating and training a plain `rasa init` bot in {project} (once)", flush=True)
            subprocess.run(
                [RASA, "init", "--no-prompt", "--init-dir", str(project)],
                cwd=project,
                check=True,
                capture_output=True,
                env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
            )
        self.port = free_port()
        started = time.monotonic()
        self.log = open(cache / "plain-rasa.log", "w")
        self.process = subprocess.Popen(
            [RASA, "run", "--port", str(self.port), "--interface", "127.0.0.1"],
            cwd=project,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
        )
        if not wait_http(f"http://127.0.0.1:{self.port}/webhooks/rest/", 300):
            raise RuntimeError("the plain rasa init bot did not start; see " + str(cache / "plain-rasa.log"))
        self.startup_s = time.monotonic() - started
        self.url = f"http://127.0.0.1:{self.port}/webhooks/rest/webhook"

    def memory(self) -> Dict[str, float]:
        return {"rasa_mb": rss_mb(self.process.pid)}

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


# Where the Rasa server's CPU goes during the saturation run (py-spy, on-CPU samples). A sample
# counts once, for the first category in this list with a marker anywhere in its stack (so
# featurizing inside TED counts as featurizing, TensorFlow inside DIET as NLU).
PROFILE_CATEGORIES = [
    ("tracker store (SQL, events to and from JSON)", ("tracker_store.py",)),
    (
        "dialogue: featurizing the conversation for the policies",
        ("tracker_featurizers.py", "single_state_featurizer.py"),
    ),
    ("dialogue: TED policy inference", ("ted_policy.py",)),
    ("dialogue: rule and memoization policies", ("rule_policy.py", "memoization.py")),
    ("NLU pipeline (tokenizer, featurizers, DIET)", ("rasa/nlu/", "nlu_components/")),
    ("custom actions: calling the action server", ("rasa/utils/endpoints.py", "aiohttp/client")),
    ("TensorFlow runtime (other)", ("tensorflow/",)),
    ("HTTP server, channels, front door", ("sanic/", "channels/inbound.py")),
    ("rest of Rasa (processor, events, domain)", ("rasa/",)),
]
OTHER = "other (Python, asyncio, logging)"


# Where work starts in a stack: the event loop running a callback, or a pool thread running a job.
# Frames above these (process start-up, Sanic's runner, the workers' parent) are shared by every
# sample; a stack with nothing after them is a loop or thread waiting, which py-spy cannot tell.
DISPATCH_FRAMES = ("_run (asyncio/events.py", "run (concurrent/futures/thread.py")
# Stacks that end in a wait py-spy reports as busy: an idle pool thread, the workers' parent, the
# event loop in its poll (uvloop's loop is C, so an idle loop ends in Sanic's `serve`), and a
# pool thread in `flock` waiting for its turn to write to SQLite (crm/runtime/file_lock.py).
IDLE_LEAVES = (
    "_worker (concurrent/futures/thread.py",
    "poll (multiprocessing/popen_fork.py",
    "serve (sanic/server/runners.py",
    "exclusive (crm/runtime/file_lock.py",
)


def _work(stack: str) -> str:
    """The part of a stack below its dispatch frame; empty for a waiting loop or thread."""
    frames = stack.split(";")
    if frames[-1].startswith(IDLE_LEAVES):
        return ""  # a pool thread or the workers' parent waiting
    starts = [n for n, frame in enumerate(frames) if frame.startswith(DISPATCH_FRAMES)]
    return ";".join(frames[starts[-1] + 1 :]) if starts else stack


def summarise_profile(folded: Path) -> Dict[str, float]:
    """Share of on-CPU samples per category, from py-spy's `--format raw` (collapsed stacks), each
    sample read from where its work was dispatched (see DISPATCH_FRAMES)."""
    totals: Dict[str, float] = {name: 0 for name, _ in PROFILE_CATEGORIES}
    totals[OTHER] = 0
    all_samples = 0
    for raw in folded.read_text(errors="replace").splitlines():
        stack, _, count = raw.rpartition(" ")
        if not count.isdigit():
            continue
        work = _work(stack)
        if not work:
            continue
        all_samples += int(count)
        totals[_category(work)] += int(count)
    return {name: 100.0 * n / all_samples for name, n in totals.items()} if all_samples else {}


NLU_COMPONENT = re.compile(r"\((rasa/nlu/[\w/]+|nlu_components/\w+)\.py:")


def nlu_components(folded: Path) -> Dict[str, float]:
    """Share of the busy samples per NLU component file (the innermost one on the stack)."""
    shares: Dict[str, float] = {}
    busy = 0
    for raw in folded.read_text(errors="replace").splitlines():
        stack, _, count = raw.rpartition(" ")
        work = _work(stack) if count.isdigit() else None
        if not work:
            continue
        busy += int(count)
        found = NLU_COMPONENT.findall(work)
        if found:
            name = found[-1].rsplit("/", 1)[-1]
            shares[name] = shares.get(name, 0) + int(count)
    return {name: 100.0 * n / busy for name, n in shares.items()} if busy else {}


def _category(work: str) -> str:
    """The first specific category whose code is on the stack (it owns what it calls); the HTTP
    server and the rest of Rasa call each other, so between those two the innermost frame decides."""
    *specific, (http, http_markers), (rest, rest_markers) = PROFILE_CATEGORIES
    found = next((name for name, markers in specific if any(marker in work for marker in markers)), None)
    if found:
        return found
    for frame in reversed(work.split(";")):
        if any(marker in frame for marker in http_markers):
            return http
        if any(marker in frame for marker in rest_markers):
            return rest
    return OTHER


def profile_saturation(bot, script: List[str], seconds: float, out: Path) -> Dict[str, float]:
    """Run the saturation load again while py-spy samples the (first) Rasa server."""
    pid = next(pid for name, pid in bot.pids.items() if name.startswith("Rasa server"))
    spy = shutil.which("py-spy") or str(Path(PY).parent / "py-spy")
    recorder = subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(int(seconds)),
            "--rate",
            "100",
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
            "--subprocesses",  # the Rasa workers (RASA_WORKERS) are children of the first process
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    asyncio.run(load(bot.url, script, bot.name, 10, False, seconds))
    _, errors = recorder.communicate(timeout=seconds + 60)
    if recorder.returncode != 0 or not out.exists():
        print(f"  py-spy failed ({recorder.returncode}): {errors.strip()[-300:]}", flush=True)
        return {}
    shares = summarise_profile(out)
    for name, share in sorted(shares.items(), key=lambda item: -item[1]):
        print(f"  {share:5.1f} %  {name}", flush=True)
    return shares


def measure(bot, script: List[str], seconds: float, levels=LEVELS) -> Dict[str, Dict[str, float]]:
    results = {}
    asyncio.run(load(bot.url, script, bot.name, 5, False, 5))  # warm-up, not counted
    for customers in levels:
        run = asyncio.run(load(bot.url, script, bot.name, customers, True, seconds))
        results[f"{customers} customers"] = run.figures()
        print(f"  {bot.name:16} {customers:3} customers: " + line(results[f"{customers} customers"]), flush=True)
    run = asyncio.run(load(bot.url, script, bot.name, 10, False, seconds))
    results["saturation"] = run.figures()
    print(f"  {bot.name:16} saturation (10, no wait): " + line(results["saturation"]), flush=True)
    return results


def line(f: Dict[str, float]) -> str:
    return (
        f"p50 {f['p50_ms']:.0f} ms, p95 {f['p95_ms']:.0f} ms, p99 {f['p99_ms']:.0f} ms, "
        f"{f['msg_per_s']:.1f} msg/s, {f['messages']} messages, {f['errors']} errors"
    )


def training_time() -> float:
    out = Path(tempfile.mkdtemp(prefix="bench-train-"))
    started = time.monotonic()
    subprocess.run(
        [RASA, "train", "--force", "--out", str(out), "--fixed-model-name", "bench"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    shutil.rmtree(out, ignore_errors=True)
    return time.monotonic() - started


# --- report ---------------------------------------------------------------------------------


def _ratio(level: str):
    return lambda r: r["ratios"][f"p95 at {level}"]


def _production_saturation(r: Dict) -> float:
    if not r.get("production"):
        return float("nan")
    return r["production"]["saturation"]["msg_per_s"] / r["plain"]["saturation"]["msg_per_s"]


# issue 17: ratios to the plain `rasa init` bot measured in the same run
TARGETS = [
    ("p95 ratio to plain at 10 customers", _ratio("10 customers"), "≤ 1.0 (stretch 0.5)", lambda v: v <= 1.0),
    ("p95 ratio to plain at 50 customers", _ratio("50 customers"), "≤ 1.0 (stretch 0.5)", lambda v: v <= 1.0),
    ("p95 ratio to plain at 100 customers", _ratio("100 customers"), "≤ 1.5", lambda v: v <= 1.5),
    ("saturation ratio to plain", lambda r: r["ratios"]["saturation msg/s"], "≥ 1.5", lambda v: v >= 1.5),
    ("production profile saturation ratio to plain", _production_saturation, "≥ 2.0", lambda v: v >= 2.0),
    ("errors at 50 customers", lambda r: r["ours"]["50 customers"]["errors"], "0", lambda v: v == 0),
    (
        "Rasa server memory / plain's",
        lambda r: r["memory"]["rasa_mb"] / r["plain_memory"]["rasa_mb"],
        "≤ 1.0",
        lambda v: v <= 1.0,
    ),
    ("start-up (`make run`, trained)", lambda r: r["startup_s"], "≤ 60 s", lambda v: v <= 60),
]


NOTES_MARKER = "<!-- written by hand below this line; `make bench` keeps it -->"


def write_report(results: Dict, path: Path) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {time.strftime('%Y-%m-%d %H:%M')} ({os.cpu_count()} cores; the "
        "load generator runs on the same machine). Simulated customers talk over the REST channel; "
        "with waiting they pause 1-3 s between messages. Each level runs "
        f"{results['seconds']:.0f} s. Latency is per message, from request to the bot's full answer.",
        "",
        "## Targets",
        "",
        "| target | measured | goal | met |",
        "|---|---|---|---|",
    ]
    for name, get, goal, ok in TARGETS:
        value = get(results)
        lines.append(f"| {name} | {value:.1f} | {goal} | {'yes' if ok(value) else '**no**'} |")
    lines += [
        "",
        "## Latency and throughput",
        "",
        "| bot | load | p50 ms | p95 ms | p99 ms | msg/s | messages | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for bot in ("ours", "production", "plain"):
        for level, f in results.get(bot, {}).items():
            lines.append(
                f"| {bot} | {level} | {f['p50_ms']:.0f} | {f['p95_ms']:.0f} | {f['p99_ms']:.0f} | "
                f"{f['msg_per_s']:.1f} | {f['messages']} | {f['errors']} |"
            )
    lines += ["", "## Ours / plain `rasa init`", "", "| measure | ratio |", "|---|---|"]
    lines += [f"| {k} | {v:.2f} |" for k, v in results["ratios"].items()]
    if results.get("production"):
        lines.append(f"| production profile saturation msg/s | {_production_saturation(results):.2f} |")
    lines += [
        "",
        "## Cost",
        "",
        "| measure | value |",
        "|---|---|",
        f"| Rasa server memory after the load (all its workers, proportional set size) | "
        f"{results['memory']['rasa_mb']:.0f} MB |",
        f"| action server memory after the load | {results['memory']['actions_mb']:.0f} MB |",
        f"| plain `rasa init` server memory (proportional set size) | {results['plain_memory']['rasa_mb']:.0f} MB |",
        f"| model load time (Rasa log: loading to up) | {results['model_load_s']:.0f} s |",
        f'| `make run` start-up with a trained model (to "Ready") | {results["startup_s"]:.0f} s |',
        f"| full `rasa train --force` | {results['training_s']:.0f} s |"
        if results.get("training_s")
        else "| full training | not measured (--skip-train) |",
    ]
    if results.get("production"):
        memory = results["production_memory"]
        lines += [
            f"| production profile: largest Rasa replica / action server memory | "
            f"{memory['rasa_mb']:.0f} MB / {memory['actions_mb']:.0f} MB |",
            f"| production profile start-up (2 Rasa replicas load at once) | {results['production_startup_s']:.0f} s |",
        ]
    for bot, script in (("ours", OUR_SCRIPT), ("plain", PLAIN_SCRIPT)):
        steps = results.get(bot, {}).get("10 customers", {}).get("steps_p50_ms")
        if steps:
            lines += [
                "",
                f"Median latency of each message of the {bot} script at 10 customers (ms): "
                + ", ".join(f'"{text}" {ms:.0f}' for text, ms in zip(script, steps, strict=False))
                + ".",
            ]
    if results.get("per_message"):
        lines += [
            "",
            f"Per customer message our bot predicted {results['per_message']['actions']:.1f} actions "
            f"(each one a run of the policy ensemble, `action_listen` included) and called the action server "
            f"{results['per_message']['custom_actions']:.1f} times (tracker store, all load levels).",
        ]
    if results.get("profile"):
        lines += [
            "",
            "## Where the Rasa server's CPU goes at saturation (py-spy)",
            "",
            "On-CPU samples of the Rasa server during a second saturation run of our bot; each sample "
            "counts once, for the first matching category (`scripts/bench.py`, PROFILE_CATEGORIES). "
            "Collapsed stacks: `var/bench/rasa-saturation.folded`.",
            "",
            "| share | where |",
            "|---|---|",
        ]
        lines += [
            f"| {share:.1f} % | {name} |"
            for name, share in sorted(results["profile"].items(), key=lambda item: -item[1])
        ]
    if results.get("nlu_components"):
        lines += [
            "",
            "NLU components, share of the Rasa server's CPU in the same samples (innermost component "
            "on the stack): "
            + ", ".join(
                f"{name} {share:.1f} %"
                for name, share in sorted(results["nlu_components"].items(), key=lambda item: -item[1])
            )
            + ".",
        ]
    if results.get("production"):
        lines += ["", "## Production profile / embedded default", "", "| measure | ratio |", "|---|---|"]
        for level in results["production"]:
            key = "p95_ms" if level != "saturation" else "msg_per_s"
            lines.append(
                f"| {'p95' if key == 'p95_ms' else 'msg/s'} at {level} | "
                f"{results['production'][level][key] / results['ours'][level][key]:.2f} |"
            )
    lines.append("")
    text = "\n".join(lines)
    notes = ""
    if path.exists() and NOTES_MARKER in path.read_text():  # hand-written analysis below the marker stays
        notes = path.read_text().split(NOTES_MARKER, 1)[1]
    path.write_text(text + "\n" + NOTES_MARKER + notes)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40, help="length of each load level")
    parser.add_argument("--skip-train", action="store_true", help="do not measure full training time")
    parser.add_argument("--skip-profile", action="store_true", help="do not profile the Rasa server with py-spy")
    parser.add_argument(
        "--skip-plain",
        action="store_true",
        help="exploration: only our bot(s), print the figures, leave docs/BENCHMARKS.md alone",
    )
    parser.add_argument(
        "--skip-production",
        action="store_true",
        help="do not measure the production profile (needs Debian's postgresql, redis-server, nginx)",
    )
    parser.add_argument("--out", default=str(ROOT / "docs" / "BENCHMARKS.md"))
    args = parser.parse_args()
    cache = ROOT / "var" / "bench"
    cache.mkdir(parents=True, exist_ok=True)
    results: Dict = {"seconds": args.seconds}

    work = Path(tempfile.mkdtemp(prefix="bench-ours-"))
    print("starting our product (make run's way)", flush=True)
    ours = Ours(work)
    try:
        results["startup_s"] = ours.startup_s
        results["model_load_s"] = ours.model_load_s() or float("nan")
        results["ours"] = measure(ours, OUR_SCRIPT, args.seconds)
        results["memory"] = ours.memory()
        results["per_message"] = ours.predictions_per_message()
        print(
            "  per customer message: {actions:.1f} actions predicted, {custom_actions:.1f} action server calls".format(
                **results["per_message"]
            ),
            flush=True,
        )
        if not args.skip_profile:
            print("profiling the Rasa server during a second saturation run (py-spy)", flush=True)
            folded = cache / "rasa-saturation.folded"
            results["profile"] = profile_saturation(ours, OUR_SCRIPT, args.seconds, folded)
            if folded.exists():
                results["nlu_components"] = nlu_components(folded)
    finally:
        ours.stop()
        shutil.rmtree(work, ignore_errors=True)

    if not args.skip_production:
        work = Path(tempfile.mkdtemp(prefix="bench-production-"))
        print("starting the production profile (PostgreSQL, Redis, 2 Rasa + 2 action servers behind nginx)", flush=True)
        production = Ours(work, "production")
        try:
            results["production_startup_s"] = production.startup_s
            results["production"] = measure(production, OUR_SCRIPT, args.seconds)
            results["production_memory"] = production.memory()
        finally:
            production.stop()
            shutil.rmtree(work, ignore_errors=True)

    if args.skip_plain:  # an exploration run: figures printed, the report is not touched
        print(json.dumps({k: v for k, v in results.items() if k != "seconds"}, indent=2))
        return 0
    print("starting a plain rasa init bot", flush=True)
    plain = Plain(cache)
    try:
        results["plain"] = measure(plain, PLAIN_SCRIPT, args.seconds)
        results["plain_memory"] = plain.memory()
    finally:
        plain.stop()

    results["ratios"] = {}
    for level in (f"{n} customers" for n in LEVELS):
        results["ratios"]["p95 at " + level] = results["ours"][level]["p95_ms"] / results["plain"][level]["p95_ms"]
    results["ratios"]["saturation msg/s"] = (
        results["ours"]["saturation"]["msg_per_s"] / results["plain"]["saturation"]["msg_per_s"]
    )
    if not args.skip_train:
        print("timing a full training (rasa train --force)", flush=True)
        results["training_s"] = training_time()
    (cache / "results.json").write_text(json.dumps(results, indent=2))
    print("\n" + write_report(results, Path(args.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
