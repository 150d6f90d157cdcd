"""Monitoring at scale: the outcome refresh over 10,000 and 100,000 sessions (first run and an
incremental one after 1 % more), and the dashboard's response time over them, through the real
console app on a real HTTP port. Sessions are written straight into a Rasa SQL tracker store
(SQLite, Rasa's own schema) with the shapes the bot produces; prints the figures (`make
bench-monitoring`), which docs/BENCHMARKS.md records."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crm import db  # noqa: E402
from crm.clock import utc_now  # noqa: E402
from crm.services import session_outcomes  # noqa: E402

SHAPES = [  # (weight, intents and actions of one session)
    (40, [("ask_instalment", "verification_form"), ("inform", "action_answer_account"), ("thank", "utter_thank")]),
    (15, [("ask_office_hours", "action_answer_office_hours")]),
    (10, [("ask_payment_methods", "action_answer_payment_methods")]),
    (10, [("ask_instalment", "verification_form")]),  # left at the contract number
    (8, [("request_human", "action_handover")]),
    (7, [("nlu_fallback", "action_reply_or_wait"), ("out_of_scope", "action_reply_or_wait")]),
    (10, [("greet", "action_reply_or_wait"), ("thank", "utter_thank")]),
]


def tracker_events(sessions: int, start_id: int, start_time: float, seed: int) -> List[tuple]:
    """Rows for Rasa's `events` table: one conversation per session, over the last 14 days."""
    chooser = random.Random(seed)
    weights, shapes = zip(*SHAPES, strict=True)
    rows = []
    event_id = start_id
    for n in range(sessions):
        sender = f"rest:bench-{seed}-{n}"
        t = start_time - chooser.random() * 14 * 86400
        steps = chooser.choices(shapes, weights)[0]
        events = [{"event": "action", "name": "action_session_start"}, {"event": "session_started"}]
        for intent, action in steps:
            events.append(
                {
                    "event": "user",
                    "text": "…",
                    "input_channel": "rest",
                    "parse_data": {"intent": {"name": intent, "confidence": round(0.4 + chooser.random() * 0.6, 3)}},
                }
            )
            events.append({"event": "action", "name": action})
            if action == "verification_form":
                events.append({"event": "active_loop", "name": "verification_form"})
                events.append({"event": "slot", "name": "requested_slot", "value": "contract_number"})
            events.append({"event": "bot", "text": "…"})
        for event in events:
            t += 2
            event["timestamp"] = t
            event_id += 1
            rows.append((event_id, sender, event["event"], t, json.dumps(event)))
    return rows


def write_events(url: str, rows: List[tuple]) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
                "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
                "action_name VARCHAR(255), data TEXT)"
            )
        )
        connection.execute(text("CREATE INDEX IF NOT EXISTS ix_events_sender_id ON events (sender_id)"))
        connection.execute(
            text("INSERT INTO events (id, sender_id, type_name, timestamp, data) VALUES (:i, :s, :k, :t, :d)"),
            [{"i": i, "s": s, "k": k, "t": t, "d": d} for i, s, k, t, d in rows],
        )
    engine.dispose()


def refresh(factory, tracker_url: str) -> session_outcomes.Refreshed:
    with db.session_scope(factory) as session:
        return session_outcomes.refresh(session, tracker_url, utc_now(), trigger="command")


def dashboard_seconds(database_url: str, tracker_url: str, tmp: Path, repeat: int = 5) -> List[float]:
    """GET /dashboard (14 days, all channels) as a logged-in supervisor, `repeat` times."""
    import aiohttp
    from sanic import Sanic

    from crm.console.app import create_app
    from crm.services.staff import create_staff
    from crm.settings import load_settings

    Sanic.test_mode = True
    engine = db.create_db_engine(database_url)
    factory = db.make_session_factory(engine)
    with db.session_scope(factory) as session:
        create_staff(session, "bench", "Bench", "bench-password-123", "supervisor")
    app = create_app(
        load_settings({"DATABASE_URL": database_url, "TRACKER_STORE_URL": tracker_url}, env_file=tmp / "none"),
        factory=factory,
        name="bench_console",
        notify=False,
    )

    async def measure() -> List[float]:
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
        await server.startup()
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
                async with http.get(base + "/login") as page:
                    import re

                    csrf = re.search(r'name="csrf_token" value="([^"]+)"', await page.text()).group(1)
                await http.post(
                    base + "/login", data={"username": "bench", "password": "bench-password-123", "csrf_token": csrf}
                )
                times = []
                for _ in range(repeat):
                    started = time.perf_counter()
                    async with http.get(base + "/dashboard?from=2000-01-01") as page:
                        assert page.status == 200, page.status
                        await page.read()
                    times.append(time.perf_counter() - started)
                return times
        finally:
            server.close()
            await server.wait_closed()

    try:
        return asyncio.run(measure())
    finally:
        engine.dispose()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args(argv)
    for size in (int(s) for s in args.sizes.split(",")):
        tmp = Path(tempfile.mkdtemp(prefix="crm-bench-monitoring-"))
        tracker_url, database_url = f"sqlite:///{tmp / 'tracker.db'}", f"sqlite:///{tmp / 'crm.db'}"
        engine = db.create_db_engine(database_url)
        db.migrate(engine)
        factory = db.make_session_factory(engine)
        now = time.time()
        rows = tracker_events(size, 0, now, seed=1)
        write_events(tracker_url, rows)
        first = refresh(factory, tracker_url)
        more = tracker_events(size // 100, len(rows) + 10, now, seed=2)
        write_events(tracker_url, more)
        incremental = refresh(factory, tracker_url)
        engine.dispose()
        times = sorted(dashboard_seconds(database_url, tracker_url, tmp))
        print(
            f"{size:>7} sessions ({len(rows):,} tracker events): first refresh {first.seconds:.1f} s "
            f"({first.sessions / first.seconds:,.0f} sessions/s); +1 % refresh {incremental.seconds:.2f} s "
            f"({incremental.sessions} sessions); dashboard median {times[len(times) // 2] * 1000:.0f} ms, "
            f"slowest {times[-1] * 1000:.0f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
