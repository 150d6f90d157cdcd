"""Database access: engines, sessions, schema migration and a readable connectivity check.

SQLite (the embedded default) is opened in WAL mode with foreign keys on, and every
transaction starts with ``BEGIN IMMEDIATE`` so that concurrent writers queue on the busy
timeout instead of failing with "database is locked" when a reader upgrades to a writer.
PostgreSQL (``DATABASE_URL=postgresql://...``) is used as it is.

Connections are pooled for both (SQLAlchemy 1.4 would open a SQLite file anew for every
session: a fifth of the action server's CPU under load), and a connection opened before a fork
is never used by the child (the pool opens a new one there).
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

from sqlalchemy import create_engine, event, exc, inspect, pool, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from crm.settings import PROJECT_ROOT, ConfigError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 30


def use_wal(dbapi_connection: sqlite3.Connection, patience_s: float = SQLITE_BUSY_TIMEOUT_S) -> None:
    """Switch a SQLite file to write-ahead logging (readers never wait for the writer). While
    another connection is writing (workers and pool threads opening one file together), SQLite
    fails this switch at once with "database is locked" instead of waiting through its busy
    handler, so it is tried again here for up to `patience_s` seconds."""
    deadline = time.monotonic() + patience_s
    while True:
        try:
            dbapi_connection.execute("PRAGMA journal_mode=WAL").fetchall()
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def redact_url(url: str) -> str:
    """The URL with any password replaced, safe to print."""
    return re.sub(r"(//[^:/@]+:)[^@]*@", r"\1***@", url)


def parse_database_url(url: str) -> URL:
    """Parse `url`, raising :class:`ConfigError` with a one-sentence fix when it is malformed."""
    example = "sqlite:///var/crm.db or postgresql+psycopg2://user:password@host:5432/crm"
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"DATABASE_URL {redact_url(url)!r} is not a database URL; set it like {example}.")
    try:
        parsed.get_dialect()
    except NoSuchModuleError:
        raise ConfigError(
            f"DATABASE_URL {redact_url(url)!r} names an unknown database type "
            f"{parsed.drivername!r}; set it like {example}."
        )
    return parsed


def create_db_engine(url: str, **kwargs) -> Engine:
    """An engine for `url` (validated) with the project's per-dialect settings."""
    parsed = parse_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            path = Path(database)
            if not path.is_absolute():
                path = PROJECT_ROOT / path
                parsed = parsed.set(database=str(path))
            if not path.parent.is_dir():
                raise ConfigError(
                    f"DATABASE_URL points into {path.parent}, which does not exist; "
                    "create that folder or point DATABASE_URL elsewhere."
                )
            kwargs.setdefault("poolclass", pool.QueuePool)
        engine = create_engine(
            parsed,
            future=True,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
            **kwargs,
        )
        _configure_sqlite(engine)
        _not_across_forks(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(parsed, future=True, **kwargs)
    _not_across_forks(engine)
    return engine


def _not_across_forks(engine: Engine) -> None:
    """A pooled connection belongs to the process that opened it (SQLAlchemy's recipe for pools
    and os.fork): a forked child (Rasa's workers) that checks one out gets a new one instead."""

    @event.listens_for(engine, "connect")
    def _remember_process(_dbapi_connection, record):  # pragma: no cover - trivial
        record.info["pid"] = os.getpid()

    @event.listens_for(engine, "checkout")
    def _same_process(_dbapi_connection, record, proxy):
        if record.info.get("pid") != os.getpid():
            record.dbapi_connection = proxy.dbapi_connection = None
            raise exc.DisconnectionError("connection opened by another process; opening a new one")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - trivial
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        use_wal(dbapi_connection)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # pragma: no cover - trivial
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def check_database(engine: Engine) -> None:
    """Connect once; raise :class:`ConfigError` naming the problem if the database is unreachable."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ConfigError(
            f"Cannot reach the database at {redact_url(str(engine.url))} ({reason}); start it or fix DATABASE_URL."
        )


def _alembic_config(engine: Engine):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` with Alembic (creates it on an empty database)."""
    from alembic import command

    check_database(engine)
    command.upgrade(_alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> Optional[str]:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()


def is_seeded(engine: Engine) -> bool:
    """True when the schema exists and holds at least one customer."""
    if "customers" not in inspect(engine).get_table_names():
        return False
    with engine.connect() as connection:
        return connection.execute(text("SELECT 1 FROM customers LIMIT 1")).first() is not None
