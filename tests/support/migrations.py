"""The kind changes of migration 0007, checked the same way on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from crm import db


def _insert_case(engine: Engine, kind: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO cases (reference, kind, status, conversation_id, channel, verified, data, created_at)"
                " VALUES (:ref, :kind, 'open', 'rest:x', 'rest', false, '{}', CURRENT_TIMESTAMP)"
            ),
            {"ref": f"CASE-{kind}", "kind": kind},
        )


def check_kinds_round_trip(engine: Engine) -> None:
    """At head a payment dispute is accepted and an unknown kind still refused; downgrading to 0006
    removes the disputes and the new tables and restores the old constraint; upgrading again works."""
    db.migrate(engine)
    _insert_case(engine, "payment_dispute")
    with pytest.raises(IntegrityError):
        _insert_case(engine, "bogus_kind")
    command.downgrade(db._alembic_config(engine), "0006")
    assert "case_attachments" not in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM cases WHERE kind = 'payment_dispute'")).scalar() == 0
    with pytest.raises(IntegrityError):
        _insert_case(engine, "payment_dispute")
    db.migrate(engine)
    assert db.current_revision(engine) == db.head_revision(engine)
    _insert_case(engine, "payment_dispute")
