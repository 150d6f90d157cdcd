"""The production profile on this machine (docs/OPERATIONS.md): the same code, other settings.

PostgreSQL holds the customer database and Rasa's tracker store, Redis is Rasa's lock store and
carries socket.io messages between replicas, two Rasa servers and two action servers run behind
Debian's nginx. PostgreSQL and Redis are started here from Debian's packages (tests/support/localservices.py);
`make run` starts the replicas and nginx because the settings ask for them.
"""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.integration.conftest import (
    START_TIMEOUT_S,
    Product,
    assert_one_turn_at_a_time,
    item_for,
    login,
    rest_id,
    turns,
)
from tests.support.customers import WebsiteCustomer
from tests.support.localservices import PostgresServer, RedisServer

pytestmark = pytest.mark.integration

STEP = 1000  # REPLICA_PORT_STEP: replica n listens on RASA_PORT + n * STEP


@pytest.fixture(scope="module")
def services():
    postgres = PostgresServer(databases=("crm", "rasa"))
    redis = RedisServer()
    yield postgres, redis
    redis.remove()
    postgres.remove()


def test_new_case_and_request_kinds_migrate_both_ways_on_postgresql(services):
    from crm import db
    from tests.support.migrations import check_kinds_round_trip

    postgres, _ = services
    postgres._run(["createdb", "-h", "127.0.0.1", "-p", str(postgres.port), "-U", "postgres", "kinds"])
    engine = db.create_db_engine(postgres.url_of("kinds"))
    try:
        check_kinds_round_trip(engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, services, graph):
    postgres, redis = services
    running = Product(
        tmp_path_factory.mktemp("cluster"),
        graph.url,
        extra_env={
            "DATABASE_URL": postgres.url,
            "TRACKER_STORE_URL": postgres.url_of("rasa"),
            "REDIS_URL": redis.url,
            "RASA_REPLICAS": "2",
            "ACTION_SERVERS": "2",
            "REPLICA_PORT_STEP": str(STEP),
            "RATE_LIMIT_MESSAGES": "0",
        },
    )
    if not running.ready.wait(START_TIMEOUT_S):
        running.stop()
        pytest.fail(f"the production profile did not become ready in {START_TIMEOUT_S} s:\n{running.output}")
    yield running
    running.stop()


def replica(cluster, n: int) -> str:
    return f"http://127.0.0.1:{cluster.rasa_port + n * STEP}"


def say(url: str, sender: str, message: str) -> list:
    request = urllib.request.Request(
        f"{url}/webhooks/rest/webhook",
        json.dumps({"sender": sender, "message": message}).encode(),
        {"Content-Type": "application/json"},
    )
    # generous: replicas that just started on a loaded 2-core machine answer their first messages
    # slowly (a 60 s limit failed once, with every message answered once the first was through)
    with urllib.request.urlopen(request, timeout=180) as answer:
        return json.load(answer)


def texts(replies) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def event_rows(postgres, conversation):
    """(type_name, data) of the conversation's stored events, in the order stored."""
    engine = create_engine(postgres.url_of("rasa"))
    try:
        with engine.connect() as connection:
            return connection.execute(
                text("SELECT type_name, data FROM events WHERE sender_id = :c ORDER BY id"),
                {"c": rest_id(conversation)},
            ).fetchall()
    finally:
        engine.dispose()


def user_messages(postgres, conversation):
    return [json.loads(data)["text"] for type_name, data in event_rows(postgres, conversation) if type_name == "user"]


def test_every_process_of_the_profile_runs(cluster):
    names = set(cluster.children())
    assert {"Rasa server 1", "Rasa server 2", "action server 1", "action server 2", "nginx"} <= names
    health = requests.get(cluster.rasa_url + "/webhooks/health/", timeout=10).json()
    assert health["status"] == "ok"
    assert health["checks"]["lock_store"] == "ok" and health["checks"]["tracker_store"] == "ok"
    endpoints = (cluster.tmp / "run" / "endpoints.yml").read_text()
    assert "postgresql" in endpoints and "type: crm.runtime.lock_store.AtomicRedisLockStore" in endpoints


def test_verification_started_on_one_replica_completes_on_the_other(cluster, services):
    postgres, _ = services
    sender = f"replicas-{uuid.uuid4().hex[:6]}"
    asked = texts(say(replica(cluster, 1), sender, "min, cicilan sy bln ini brp?"))
    assert "nomor kontrak" in asked and "Rp" not in asked
    assert "tanggal lahir" in texts(say(replica(cluster, 2), sender, "K20123000002"))
    answer = texts(say(replica(cluster, 1), sender, "05-03-1990"))
    assert "Siti Rahmawati" in answer and "verifikasi berhasil" in answer and "Rp" in answer
    # and through nginx, which sends each request to the next replica
    assert "Rp" in texts(say(cluster.rasa_url, sender, "sisa cicilan saya berapa"))
    assert user_messages(postgres, sender) == [
        "min, cicilan sy bln ini brp?",
        "K20123000002",
        "05-03-1990",
        "sisa cicilan saya berapa",
    ]


def test_messages_of_one_conversation_sent_at_once_to_both_replicas_are_taken_one_at_a_time(cluster, services):
    """Without the lock both replicas read the same tracker and lose or interleave turns.

    A CI run once stored 'makasih 9' before 'makasih 8', sent 50 ms apart to the other replica:
    the order is the order they reach the lock (conftest.turns).
    """
    postgres, _ = services
    conversation = f"order-{uuid.uuid4().hex[:6]}"
    lines = [f"makasih {n}" for n in range(12)]

    def send(n):
        return say(replica(cluster, 1 + n % 2), conversation, lines[n])

    with ThreadPoolExecutor(12) as pool:
        assert all(pool.map(send, range(12)))
    assert_one_turn_at_a_time(turns(event_rows(postgres, conversation)), lines)


def test_40_conversations_through_nginx_each_escalation_once(cluster, services):
    postgres, _ = services
    conversations = [f"spread-{n}-{uuid.uuid4().hex[:6]}" for n in range(40)]
    asked = set(conversations[::4])

    def talk(conversation):
        lines = [
            "halo",
            "jam buka cabang surabaya",
            "saya mau bicara dengan petugas" if conversation in asked else "makasih",
            "oke makasih",
        ]
        return [bool(say(cluster.rasa_url, conversation, line)) for line in lines]

    with ThreadPoolExecutor(12) as pool:
        assert all(all(answers) for answers in pool.map(talk, conversations))
    engine = create_engine(postgres.url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT conversation_id, count(*) FROM escalations "
                    "WHERE conversation_id LIKE 'rest:spread-%' GROUP BY conversation_id"
                )
            ).fetchall()
    finally:
        engine.dispose()
    assert {c for c, _ in rows} == {rest_id(c) for c in asked} and all(count == 1 for _, count in rows)


def test_outcomes_are_refreshed_from_the_postgresql_tracker_store(cluster, services):
    """The dashboard's stored outcomes on the production profile: the same refresh, reading
    Rasa's PostgreSQL tracker store and writing the PostgreSQL CRM database."""
    from crm import db
    from crm.clock import utc_now
    from crm.models import ConversationSession
    from crm.services import session_outcomes

    postgres, _ = services
    run = uuid.uuid4().hex[:6]
    conversations = [f"pgout-{run}-{n}" for n in range(4)]
    for conversation in conversations:
        assert say(cluster.rasa_url, conversation, "jam buka cabang surabaya")
    assert say(cluster.rasa_url, conversations[0], "saya mau bicara dengan petugas")
    engine = db.create_db_engine(postgres.url)
    factory = db.make_session_factory(engine)
    try:
        with db.session_scope(factory) as session:
            first = session_outcomes.refresh(session, postgres.url_of("rasa"), utc_now())
        with db.session_scope(factory) as session:
            again = session_outcomes.refresh(session, postgres.url_of("rasa"), utc_now())
            rows = {
                r.conversation_id: (r.outcome, r.reason)
                for r in session.query(ConversationSession).filter(
                    ConversationSession.conversation_id.like(f"rest:pgout-{run}-%")
                )
            }
    finally:
        engine.dispose()
    assert first.sessions >= 4
    assert rows == {
        rest_id(conversations[0]): ("escalated", "human_request"),
        **{rest_id(c): ("self_served", None) for c in conversations[1:]},
    }
    # no new events: the second run reads none; it rereads only conversations whose queue item is
    # recent (the outbox may write one minutes after the message)
    assert again.from_event_id == again.to_event_id == first.to_event_id
    assert 1 <= again.conversations < first.conversations


def test_a_reply_emitted_on_one_replica_reaches_a_browser_on_the_other(cluster):
    customer = WebsiteCustomer(replica(cluster, 1))  # the socket lives on replica 1
    try:
        customer.say("halo")
        customer.wait_for("selamat datang")
        event = [{"event": "bot", "text": "Pesan dari replika dua", "metadata": {"agent": "uji"}}]
        answer = requests.post(
            f"{replica(cluster, 2)}/conversations/{customer.session_id}/tracker/events",
            params={"token": _api_token(cluster), "output_channel": "latest", "execute_side_effects": "true"},
            json=event,
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        customer.wait_for("Pesan dari replika dua", timeout=20)
    finally:
        customer.close()


def _api_token(cluster) -> str:
    """`make run` makes a random Rasa API token per start and hands it to the Rasa processes in
    their environment (never in argv: the test below checks that)."""
    pid = cluster.children()["Rasa server 2"]
    assert b"--auth-token" not in open(f"/proc/{pid}/cmdline", "rb").read()
    environ = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
    return next(a for a in environ if a.startswith(b"RASA_API_TOKEN=")).split(b"=", 1)[1].decode()


def test_queue_and_console_take_over_unchanged_behind_nginx(cluster):
    customer = WebsiteCustomer(cluster.rasa_url)  # through nginx, like the widget
    try:
        customer.say("saya mau bicara dengan petugas")
        customer.wait_for("petugas")
        web = login(cluster, "kepala", cluster.admin_password)
        item = item_for(cluster, web, customer.session_id)
        base = f"{cluster.console_url}/api/items/{item['id']}"
        assert web.post(f"{base}/claim", json={}, timeout=30).json()["ok"]
        # several API calls through nginx's round robin: both replicas emit to this socket
        for n in range(3):
            assert web.post(f"{base}/reply", json={"text": f"Balasan petugas {n}"}, timeout=30).json()["ok"]
        for n in range(3):
            customer.wait_for(f"Balasan petugas {n}", timeout=20)
        customer.say("baik terima kasih pak")
        time.sleep(1)
        assert web.post(f"{base}/resolve", json={"note": "selesai"}, timeout=30).json()["ok"]
        customer.say("halo kak")  # a plain greeting: "halo lagi" is a fallback for this model (docs/NLU.md)
        customer.wait_for("Ada yang bisa saya bantu", timeout=30)  # the bot answers again after the hand-back
    finally:
        customer.close()


def test_zz_a_killed_replica_costs_no_answer(cluster):
    """Kill Rasa server 1 outright: nginx sends its requests to server 2 while the supervisor
    restarts it; every message is answered."""
    os.kill(cluster.children()["Rasa server 1"], signal.SIGKILL)
    sender = f"survivor-{uuid.uuid4().hex[:6]}"
    replies = [
        say(cluster.rasa_url, sender, line)
        for line in ("halo", "jam buka cabang surabaya", "makasih")
        for _ in range(2)
    ]
    assert all(replies)
    assert "selamat datang" in texts(replies[0]).lower() and "surabaya" in texts(replies[2]).lower()
    assert not any("mohon maaf" in texts(r).lower() and "gangguan" in texts(r).lower() for r in replies)
