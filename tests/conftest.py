"""Shared fixtures: real, migrated SQLite databases in temporary folders."""

from __future__ import annotations

from datetime import date

import pytest

from actions import common
from crm import db, seed

SEED_TODAY = date(2026, 11, 22)


@pytest.fixture
def engine(tmp_path):
    """An empty database with the schema migrated to head."""
    engine = db.create_db_engine(f"sqlite:///{tmp_path / 'crm.db'}")
    db.migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine):
    return db.make_session_factory(engine)


@pytest.fixture(scope="session")
def seeded_engine(tmp_path_factory):
    """A database seeded once for the whole test session with 200 customers."""
    path = tmp_path_factory.mktemp("seeded") / "crm.db"
    engine = db.create_db_engine(f"sqlite:///{path}")
    db.migrate(engine)
    seed.seed(engine, 200, today=SEED_TODAY)
    yield engine
    engine.dispose()


@pytest.fixture
def demo_db(tmp_path):
    """A fresh database with only the demo customers (plus a few others), for tests that write."""
    engine = db.create_db_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    db.migrate(engine)
    seed.seed(engine, 12, today=SEED_TODAY)
    yield db.make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def actions_environment(monkeypatch, demo_db):
    """The action server's settings pointed at a fresh demo database, "today" pinned."""
    monkeypatch.setenv("DATABASE_URL", str(demo_db.kw["bind"].url))
    monkeypatch.setenv("CRM_TODAY", SEED_TODAY.isoformat())
    monkeypatch.setenv("BRAND_NAME", "Uji Finance")
    # the satisfaction question after answers is tested in test_satisfaction.py; elsewhere an
    # answer's messages are the answer alone
    monkeypatch.setenv("CSAT_AFTER_ANSWERS", "false")
    common.reset()
    yield demo_db
    common.reset()
