"""Retention purge and a customer's export/erase request (crm/services/data_protection.py),
against a real Rasa SQL tracker store and our database."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, select, text

from crm import db
from crm.clock import utc_now
from crm.models import Contract, Customer, Escalation, EscalationReason, StaffSession, WhatsAppInboxMessage
from crm.services import data_protection
from crm.services.escalations import escalate
from crm.settings import PROJECT_ROOT

DOMAIN = Domain.from_path(PROJECT_ROOT / "domain.yml")


def _save(store, sender, events):
    tracker = DialogueStateTracker.from_events(sender, events, slots=DOMAIN.slots)
    asyncio.new_event_loop().run_until_complete(store.save(tracker))


@pytest.fixture
def tracker(tmp_path):
    path = tmp_path / "tracker.db"
    store = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(path))
    return store, f"sqlite:///{path}"


def _budi(session):
    return session.execute(select(Contract).where(Contract.number == "K10124000001")).scalar_one().customer


def test_export_and_erase_a_customer(demo_db, tracker):
    store, url = tracker
    _save(
        store,
        "web-1",
        [
            UserUttered("cicilan saya"),
            BotUttered("nomor kontrak?"),
            UserUttered("K10124000001 lahir 17-08-1985"),
            SlotSet("verified", True),
            SlotSet("customer_id", None),
        ],
    )
    with db.session_scope(demo_db) as session:
        budi = _budi(session)
        budi_id, phone = budi.id, budi.phone
    _save(
        store,
        "web-2",
        [
            UserUttered("K10124000001 17-08-1985"),
            SlotSet("customer_id", float(budi_id)),
            BotUttered("verifikasi berhasil"),
        ],
    )
    _save(store, phone.lstrip("+"), [UserUttered("halo dari whatsapp")])
    _save(store, "someone-else", [UserUttered("jam buka cabang")])
    with db.session_scope(demo_db) as session:
        session.add(
            WhatsAppInboxMessage(
                message_id="wamid.1",
                wa_id=phone.lstrip("+"),
                kind="text",
                payload={"text": {"body": "halo"}},
                processed_at=datetime.utcnow(),
            )
        )
        escalate(
            session,
            conversation_id="web-2",
            channel="rest",
            reason=EscalationReason.HUMAN_REQUEST,
            summary="minta petugas, HP 081210000001",
            customer_id=budi_id,
        )

    with db.session_scope(demo_db) as session:
        budi = _budi(session)
        assert data_protection.conversation_ids(session, budi, url) == {"web-2", phone.lstrip("+")}
        exported = data_protection.export_customer(session, budi, url)
        json.dumps(exported)  # JSON-ready
        assert exported["customer"]["nik"] == budi.nik and exported["customer"]["date_of_birth"] == "1985-08-17"
        assert exported["contracts"][0]["number"] == "K10124000001" and exported["contracts"][0]["instalments"]
        assert [line["text"] for line in exported["conversations"]["web-2"]] == [
            "K10124000001 17-08-1985",
            "verifikasi berhasil",
        ]
        assert exported["queue_items"][0]["summary"].startswith("minta petugas")
        with pytest.raises(ValueError, match="open CRM queue items"):
            data_protection.erase_customer(session, budi, url)
        session.execute(text("UPDATE escalations SET status = 'resolved'"))

    with db.session_scope(demo_db) as session:
        report = data_protection.erase_customer(session, _budi(session), url)
        assert sorted(report.conversations) == sorted(["web-2", phone.lstrip("+")]) and report.whatsapp_rows == 1

    with db.session_scope(demo_db) as session:
        budi = session.get(Customer, budi_id)
        assert budi.name == data_protection.ERASED and budi.phone == "" and "1985" not in str(budi.date_of_birth)
        assert len(budi.contracts) == 1  # the credit record stays
        assert session.execute(select(Escalation.summary)).scalar_one() == data_protection.ERASED
        assert session.execute(select(WhatsAppInboxMessage)).first() is None
    with create_engine(url).connect() as connection:
        senders = {r[0] for r in connection.execute(text("SELECT DISTINCT sender_id FROM events"))}
    assert senders == {"web-1", "someone-else"}  # unverified and unrelated conversations stay


def test_purge_deletes_old_conversations_but_not_queued_ones(demo_db, tracker):
    store, url = tracker
    for sender in ("old-1", "old-queued", "recent"):
        _save(store, sender, [UserUttered("halo")])
    old = time.time() - 400 * 86400
    with create_engine(url).begin() as connection:
        connection.execute(text("UPDATE events SET timestamp = :t WHERE sender_id != 'recent'"), {"t": old})
    now = utc_now()
    with db.session_scope(demo_db) as session:
        escalate(session, conversation_id="old-queued", channel="rest", reason=EscalationReason.FALLBACK)
        session.add(
            WhatsAppInboxMessage(
                message_id="wamid.old",
                wa_id="62811",
                kind="text",
                payload={},
                received_at=now - timedelta(days=40),
                processed_at=now - timedelta(days=40),
            )
        )
        session.add(
            WhatsAppInboxMessage(
                message_id="wamid.new",
                wa_id="62811",
                kind="text",
                payload={},
                received_at=now - timedelta(days=2),
                processed_at=now - timedelta(days=2),
            )
        )
        staff_id = session.execute(
            text(
                "INSERT INTO staff (username, full_name, password_hash, role, active, "
                "created_at) VALUES ('a', 'A', 'x', 'agent', 1, :t)"
            ),
            {"t": now},
        ).lastrowid
        session.add(
            StaffSession(
                token_hash="h" * 64,
                csrf_token="c",
                staff_id=staff_id,
                created_at=now - timedelta(days=2),
                expires_at=now - timedelta(days=1),
            )
        )

    from crm.models import ConversationSession
    from crm.services import session_outcomes

    with db.session_scope(demo_db) as session:
        assert session_outcomes.refresh(session, url, now).sessions == 3  # the dashboard counted them
    with db.session_scope(demo_db) as session:
        dry = data_protection.purge(session, url, 365, 30, dry_run=True)
        assert (dry.conversations, dry.kept_in_queue, dry.whatsapp_rows, dry.staff_sessions) == (1, 1, 1, 1)
    with db.session_scope(demo_db) as session:
        report = data_protection.purge(session, url, 365, 30)
        assert (report.conversations, report.kept_in_queue, report.whatsapp_rows, report.staff_sessions) == (1, 1, 1, 1)
    with create_engine(url).connect() as connection:
        senders = {r[0] for r in connection.execute(text("SELECT DISTINCT sender_id FROM events"))}
    assert senders == {"old-queued", "recent"}
    with db.session_scope(demo_db) as session:
        assert [r.message_id for r in session.execute(select(WhatsAppInboxMessage)).scalars()] == ["wamid.new"]
        counted = sorted(r.conversation_id for r in session.execute(select(ConversationSession)).scalars())
    purged = [c for c in counted if c.startswith("purged:")]
    assert len(purged) == 1 and set(counted) - set(purged) == {"old-queued", "recent"}


def test_the_commands(demo_db, tracker, tmp_path, monkeypatch, capsys):
    from crm.__main__ import main

    store, url = tracker
    _save(store, "web-cli", [UserUttered("K20123000002"), SlotSet("customer_id", 2.0)])
    engine_url = str(demo_db.kw["bind"].url)
    monkeypatch.setenv("DATABASE_URL", engine_url)
    monkeypatch.setenv("TRACKER_DB", url.removeprefix("sqlite:///"))
    with db.session_scope(demo_db) as session:
        siti = session.execute(select(Contract).where(Contract.number == "K20123000002")).scalar_one().customer
        assert siti.id == 2

    out = tmp_path / "siti.json"
    assert main(["customer", "export", "--contract", "K20123000002", "--out", str(out)]) == 0
    exported = json.loads(out.read_text())
    assert exported["customer"]["name"] == "Siti Rahmawati" and "web-cli" in exported["conversations"]
    assert main(["customer", "erase", "--contract", "K20123000002"]) == 2  # needs --yes
    assert "--yes" in capsys.readouterr().err
    assert main(["customer", "erase", "--contract", "K99999999999", "--yes"]) == 2
    assert main(["customer", "erase", "--contract", "K20123000002", "--yes"]) == 0
    assert main(["purge", "--dry-run"]) == 0
    assert "dry run" in capsys.readouterr().out
    with db.session_scope(demo_db) as session:
        assert session.get(Customer, 2).name == data_protection.ERASED
        actions = [r[0] for r in session.execute(text("SELECT action FROM audit_log ORDER BY id"))]
    assert actions == ["customer_export", "customer_erase"]


def test_erasure_deletes_the_customers_files_and_purge_the_expired_documents(demo_db, tracker):
    from crm.models import CaseAttachment, CaseKind, IssuedDocument
    from crm.services import cases, documents

    _, url = tracker
    now = datetime.utcnow()
    with db.session_scope(demo_db) as session:
        budi = _budi(session)
        filed = cases.file_case(
            session,
            kind=CaseKind.PAYMENT_DISPUTE,
            conversation_id="web-proof",
            channel="socketio",
            data={"channel_id": "atm"},
            customer_id=budi.id,
            contract_number="K10124000001",
        )
        cases.attach_proof(
            session, "web-proof", source="website", content_type="image/png", filename="p.png", data=b"png", now=now
        )
        for minutes_ago in (0, 120):  # one live link, one expired
            documents.issue(
                session,
                conversation_id="web-proof",
                contract_id=budi.contracts[0].id,
                kind="statement",
                filename="s.pdf",
                content_type="application/pdf",
                data=b"%PDF",
                now=now - timedelta(minutes=minutes_ago),
            )
        session.execute(
            text("UPDATE escalations SET status = 'resolved' WHERE id = :i"), {"i": filed.escalation.escalation_id}
        )
    with db.session_scope(demo_db) as session:
        report = data_protection.purge(session, url, 365, 30, now=now)
        assert report.documents == 1 and "expired documents deleted: 1" in report.lines()
    with db.session_scope(demo_db) as session:
        report = data_protection.erase_customer(session, _budi(session), url)
        assert report.files == 2  # the proof and the live statement
    with db.session_scope(demo_db) as session:
        assert session.execute(select(CaseAttachment)).first() is None
        assert session.execute(select(IssuedDocument)).first() is None
