"""Settings, database URLs, migrations and the CLI's one-sentence errors."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, inspect, text

from crm import db
from crm.models import Base
from crm.settings import PROJECT_ROOT, ConfigError, Settings, load_settings


def test_defaults_without_environment(tmp_path):
    settings = load_settings({}, env_file=tmp_path / "missing.env")
    assert settings == Settings()
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith("var/crm.db")
    assert settings.action_endpoint_url == "http://127.0.0.1:5055/webhook"


def test_environment_wins_over_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("BRAND_NAME=Dari File\nRASA_PORT=6005\n")
    settings = load_settings({"BRAND_NAME": "Dari Env"}, env_file=env_file)
    assert settings.brand_name == "Dari Env"
    assert settings.rasa_port == 6005


@pytest.mark.parametrize(
    "env, fragment",
    [
        ({"RASA_PORT": "abc"}, "RASA_PORT='abc' is not a port number"),
        ({"ACTION_PORT": "70000"}, "ACTION_PORT=70000 is outside 1-65535"),
        ({"SEED_CUSTOMERS": "-4"}, "SEED_CUSTOMERS=-4 is negative"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL='loud' is not a log level"),
        ({"CRM_TODAY": "22/11/2026"}, "CRM_TODAY='22/11/2026' is not a date"),
    ],
)
def test_bad_settings_name_the_setting(tmp_path, env, fragment):
    with pytest.raises(ConfigError, match=fragment):
        load_settings(env, env_file=tmp_path / "none")


@pytest.mark.parametrize(
    "url, fragment",
    [
        ("not a url", "is not a database URL"),
        ("mysqlx://u:secret@h/db", "unknown database type"),
    ],
)
def test_malformed_database_url(url, fragment):
    with pytest.raises(ConfigError, match=fragment) as info:
        db.create_db_engine(url)
    assert "secret" not in str(info.value)


def test_sqlite_in_missing_folder(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        db.create_db_engine(f"sqlite:///{tmp_path / 'nope' / 'crm.db'}")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_postgres_is_one_sentence():
    engine = db.create_db_engine(
        f"postgresql://crm:topsecret@127.0.0.1:{_closed_port()}/crm", connect_args={"connect_timeout": 2}
    )
    with pytest.raises(ConfigError) as info:
        db.check_database(engine)
    message = str(info.value)
    assert message.startswith("Cannot reach the database at postgresql://crm:***@127.0.0.1")
    assert "topsecret" not in message
    assert message.endswith("start it or fix DATABASE_URL.")


def test_migrations_create_exactly_the_models_schema(engine):
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    assert db.current_revision(engine) == db.head_revision(engine)
    assert set(inspect(engine).get_table_names()) >= set(Base.metadata.tables)


def test_migrate_is_repeatable(engine):
    db.migrate(engine)  # second run: nothing to do, no error
    assert db.current_revision(engine) == db.head_revision(engine)


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-m", "crm", *args],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "url, fragment",
    [
        ("postgresql//broken", "is not a database URL"),
        (f"postgresql://u:p@127.0.0.1:{_closed_port()}/x", "Cannot reach the database"),
    ],
)
def test_cli_reports_database_problems_in_one_line(url, fragment):
    result = _cli("check", DATABASE_URL=url)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]


def test_cli_seed_refuses_to_overwrite(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    first = _cli("seed", "--customers", "12", DATABASE_URL=url)
    assert first.returncode == 0, first.stderr
    assert "seeded 12 customers" in first.stdout
    second = _cli("seed", "--customers", "12", DATABASE_URL=url)
    assert second.returncode == 2 and "already holds customers" in second.stderr
    again = _cli("seed", "--if-empty", DATABASE_URL=url)
    assert again.returncode == 0 and "not seeding" in again.stdout
    reset = _cli("seed", "--reset", "--customers", "8", DATABASE_URL=url)
    assert reset.returncode == 0 and "seeded 8 customers" in reset.stdout


def test_env_example_documents_every_setting():
    """Every setting (declared once, in crm.settings.Settings) has a line in .env.example (set
    or commented out), and a child process reads back exactly the settings it was given."""
    import re
    from dataclasses import fields

    read = {f.metadata["env"] for f in fields(Settings)}
    example = (PROJECT_ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.M))
    assert len(read) > 30 and read <= documented, sorted(read - documented)
    given = load_settings(
        {"RASA_PORT": "6100", "CRM_TODAY": "2026-12-02", "REST_CHANNEL": "false"}, env_file=PROJECT_ROOT / "no.env"
    )
    assert load_settings(given.as_environment(), env_file=PROJECT_ROOT / "no.env") == given


def test_new_case_and_request_kinds_migrate_both_ways(tmp_path):
    from tests.support.migrations import check_kinds_round_trip

    engine = db.create_db_engine(f"sqlite:///{tmp_path / 'kinds.db'}")
    check_kinds_round_trip(engine)


def test_switching_to_wal_waits_for_a_connection_writing_to_the_file(tmp_path):
    """Workers and pool threads open one file together: while another connection writes, SQLite
    fails the switch at once (its busy handler is not used), so `use_wal` tries again."""
    import sqlite3
    import threading

    path = tmp_path / "shared.db"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE t (x)")
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t VALUES (1)")
    switcher = sqlite3.connect(path, timeout=5)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        switcher.execute("PRAGMA journal_mode=WAL")  # SQLite alone, despite its 5 s timeout
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        db.use_wal(switcher, patience_s=0.1)  # a writer that never ends: it gives up
    threading.Timer(0.3, lambda: writer.execute("COMMIT")).start()
    db.use_wal(switcher, patience_s=5)
    assert switcher.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_sqlite_file_keeps_its_connection_between_sessions_but_never_across_a_fork(tmp_path):
    """Pooled (SQLAlchemy 1.4 opened the file anew for every session); a connection opened
    before a fork (Rasa's workers) is never used by the child."""
    engine = db.create_db_engine(f"sqlite:///{tmp_path / 'pooled.db'}")
    opened = []
    event.listen(engine, "connect", lambda connection, _record: opened.append(id(connection)))
    factory = db.make_session_factory(engine)
    for _ in range(3):
        with db.session_scope(factory) as session:
            session.execute(text("SELECT 1"))
    assert len(opened) == 1

    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # the child: the pooled connection is the parent's, so a new one is opened
        with db.session_scope(factory) as session:
            session.execute(text("SELECT 1"))
        os.write(writing, str(len(opened)).encode())
        os._exit(0)
    os.close(writing)
    _, status = os.waitpid(child, 0)
    assert os.read(reading, 16) == b"2" and status == 0
    with db.session_scope(factory) as session:  # the parent still uses its own
        session.execute(text("SELECT 1"))
    assert len(opened) == 1
