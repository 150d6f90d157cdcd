"""Escalations kept on disk until the database takes them (crm/runtime/outbox.py)."""

from __future__ import annotations

import threading

from sqlalchemy import select

from crm import db
from crm.models import Escalation, EscalationReason
from crm.runtime.outbox import EscalationOutbox, new_item


def test_kept_while_the_database_is_away_then_queued_exactly_once(tmp_path, engine):
    url = str(engine.url)
    box = EscalationOutbox(tmp_path / "outbox.jsonl", f"sqlite:///{tmp_path / 'missing' / 'no.db'}")
    box.add(new_item("conv-1", "rest", "aksi gagal", None))
    box.add(new_item("conv-2", "whatsapp", "aksi gagal", None))
    box.add(new_item("conv-1", "rest", "aksi gagal lagi", None))
    assert box.flush() == 3  # unreachable: all kept
    assert len(box.pending()) == 3

    box.database_url, box._sessions = url, None  # the database is back
    assert box.flush() == 0
    assert box.pending() == []
    assert box.flush() == 0  # nothing left to do twice
    with db.session_scope(db.make_session_factory(engine)) as session:
        rows = session.execute(select(Escalation)).scalars().all()
        assert sorted(r.conversation_id for r in rows) == ["conv-1", "conv-2"]
        assert {r.reason for r in rows} == {EscalationReason.ERROR}


def test_concurrent_adds_and_flushes_lose_nothing(tmp_path, engine):
    box = EscalationOutbox(tmp_path / "outbox.jsonl", str(engine.url))

    def add(n):
        for k in range(20):
            box.add(new_item(f"c-{n}-{k}", "rest", "x", None))
            if k % 5 == 0:
                box.flush()

    threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    box.flush()
    with db.session_scope(db.make_session_factory(engine)) as session:
        assert len(session.execute(select(Escalation)).scalars().all()) == 80
    assert box.pending() == []


def test_an_unreadable_line_does_not_block_the_rest(tmp_path, engine):
    box = EscalationOutbox(tmp_path / "outbox.jsonl", str(engine.url))
    box.add(new_item("good", "rest", "x", None))
    with open(box.path, "a") as file:
        file.write("{not json\n")
    assert box.flush() == 0
