"""The customer database goes away and comes back (issue 8): the product runs on a real
PostgreSQL server (Debian's package, started here) that the test stops mid-conversation.
This product logs at DEBUG (every message Rasa receives is logged), so the log scan at the end
proves personal data is masked where it would otherwise appear.

The customer gets an apology at once, nothing crashes, nothing is half written, the
conversation reaches the CRM queue once the database is back, and the bot answers again
without a restart."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.integration.conftest import START_TIMEOUT_S, Product, rest_id
from tests.support.localservices import PostgresServer

pytestmark = pytest.mark.integration

APOLOGY = "sistem kami sedang mengalami gangguan"


def texts(replies) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


@pytest.fixture(scope="module")
def postgres():
    server = PostgresServer()
    yield server
    server.remove()


@pytest.fixture(scope="module")
def product_on_postgres(tmp_path_factory, postgres, graph):
    running = Product(
        tmp_path_factory.mktemp("pg-product"), graph.url, extra_env={"DATABASE_URL": postgres.url, "LOG_LEVEL": "DEBUG"}
    )
    if not running.ready.wait(START_TIMEOUT_S):
        running.stop()
        pytest.fail(f"the product on PostgreSQL did not become ready:\n{running.output}")
    yield running
    running.stop()


def _rows(postgres, sql, **params):
    engine = create_engine(postgres.url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql), params).fetchall()
    finally:
        engine.dispose()


def _wait(condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except Exception:
            value = None
        if value:
            return value
        time.sleep(0.3)
    return condition()


def test_database_outage_apology_queue_and_recovery(product_on_postgres, postgres):
    product = product_on_postgres
    conversation = f"pg-outage-{uuid.uuid4().hex[:6]}"
    product.say(conversation, "cicilan saya berapa")
    product.say(conversation, "K20123000002")
    answer = texts(product.say(conversation, "05-03-1990"))
    assert "verifikasi berhasil" in answer and "Rp" in answer  # served from PostgreSQL
    counts = (
        "SELECT (SELECT count(*) FROM service_requests), (SELECT count(*) FROM cases), "
        "(SELECT count(*) FROM escalations)"
    )
    before = _rows(postgres, counts)[0]

    postgres.stop()
    try:
        started = time.monotonic()
        reply = texts(product.say(conversation, "cicilan saya berapa"))
        took = time.monotonic() - started
        print(f"\napology with the database down after {took * 1000:.0f} ms")
        assert APOLOGY in reply and "Rp" not in reply and took < 5
        health = requests.get(f"{product.rasa_url}/webhooks/health/", timeout=20).json()
        assert health["checks"]["database"] != "ok" and health["checks"]["escalations_waiting_for_database"] >= 1
        assert health["status"] == "ok"  # Rasa itself still serves customers
        outbox = list((product.tmp / "run").glob("escalation-outbox-*.jsonl"))
        assert outbox and json.loads(outbox[0].read_text().splitlines()[0])["conversation_id"] == rest_id(conversation)
    finally:
        postgres.start()

    # back: the outbox loop queues the conversation once, and the bot answers again by itself
    rows = _wait(
        lambda: _rows(
            postgres, "SELECT reason, status FROM escalations WHERE conversation_id = :c", c=rest_id(conversation)
        ),
        60,
    )
    assert [tuple(r) for r in rows] == [("error", "open")]
    assert _wait(lambda: "Rp" in texts(product.say(conversation, "cicilan saya berapa")), 60)
    after = _rows(postgres, counts)[0]
    assert after[0] == before[0]  # no request half written
    assert after[2] == before[2] + 1  # exactly one queue item for the outage
    assert "stopped unexpectedly" not in product.output  # no process crashed
    health = requests.get(f"{product.rasa_url}/webhooks/health/", timeout=20).json()
    assert health["checks"]["database"] == "ok" and health["checks"]["escalations_waiting_for_database"] == 0


def test_debug_logs_hold_no_identity_data(product_on_postgres, postgres):
    product = product_on_postgres
    (nik,) = _rows(postgres, "SELECT nik FROM customers WHERE phone = '+6281210000002'")[0]
    sender = "6281210000002"  # shaped like a WhatsApp number, as WhatsApp conversations are
    product.say(sender, "cicilan saya berapa")
    product.say(sender, "K20123000002")
    assert "verifikasi berhasil" in texts(product.say(sender, "lahir 05-03-1990"))
    product.say(sender, f"NIK saya {nik}, hp 0812-1000-0002, lahir 5 maret 1990")
    logs = {path.name: path.read_text(errors="replace") for path in (product.tmp / "log").glob("*.log")}
    logs["supervisor output"] = product.output
    everything = "\n".join(logs.values())
    assert "parse_data_text" in everything and "xx-xx-xxxx" in everything  # user text is logged (DEBUG), masked
    for secret in ("05-03-1990", "1990-03-05", "5 maret 1990", nik, "6281210000002", "0812-1000-0002"):
        for name, text_ in logs.items():
            assert secret not in text_, f"{secret} in {name}: " + text_[max(text_.find(secret) - 200, 0) :][:400]
    print(
        f"\nlog scan: {sum(len(t) for t in logs.values())} bytes in {len(logs)} logs, "
        f"{everything.count('xx-xx-xxxx')} masked dates"
    )
