"""The SQL database (SQLAlchemy 2): SQLite in the data dir by default, PostgreSQL to share.

Registry, write journal, counters, audit log, users and the sign-in throttle all live here,
so several app replicas pointed at one PostgreSQL see one truth.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.pool import ConnectionPoolEntry

from kb.config import Settings
from kb.errors import ConfigError, StoreError

# How long a SQLite writer waits for another before giving up (seconds): an ingest commit
# holds the database for well under a second; 30 s only trips on a stuck process.
SQLITE_BUSY_TIMEOUT = 30


def lock_key(name: str) -> int:
    """A stable 32-bit advisory-lock key for a lock name (the same in every replica)."""
    return zlib.crc32(f"kb:{name}".encode())


def database_url(url: str | None, data_dir: Path) -> URL:
    """KB_DATABASE_URL parsed (a bare postgresql:// gets psycopg 3), else the data dir's
    SQLite file."""
    if not url:
        return URL.create("sqlite", database=str(Path(data_dir).resolve() / "kb.sqlite"))
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"KB_DATABASE_URL is not a database URL ({exc}); use e.g. "
            "postgresql+psycopg://kb:SECRET@db.example.com/kb, or unset it for SQLite"
        ) from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"KB_DATABASE_URL names {parsed.get_backend_name()!r}: kb runs on SQLite "
            "(unset) or PostgreSQL (postgresql+psycopg://...)"
        )
    return parsed


def settings_url(settings: Settings) -> URL:
    """The database URL these settings name (KB_DATABASE_URL, else the data dir's SQLite)."""
    secret = settings.database_url.get_secret_value() if settings.database_url else None
    return database_url(secret, Path(settings.data_dir))


class Database:
    """One engine and the two ways kb uses it: read, and write (one writer at a time)."""

    def __init__(self, url: URL) -> None:
        self.url = url
        self.shared = url.get_backend_name() == "postgresql"
        self.engine = _engine(url)

    def __repr__(self) -> str:
        return f"Database({self.describe()})"

    def describe(self) -> str:
        """The SQLite file, or the URL with its password hidden (for messages and logs)."""
        if not self.shared and self.url.database:
            return self.url.database
        return self.url.render_as_string(hide_password=True)

    @contextmanager
    def read(self, consistent: bool = False) -> Iterator[Connection]:
        """A transaction for reading (`consistent`: every statement sees one snapshot)."""
        with self._errors():
            conn = self.engine.connect()
            if consistent and self.shared:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn, conn.begin():
                yield conn

    @contextmanager
    def write(self, lock: str | None = None) -> Iterator[Connection]:
        """A transaction for writing: BEGIN IMMEDIATE on SQLite (writers queue up front);
        on PostgreSQL, `lock` names an advisory lock held until commit."""
        writer = self.engine.connect().execution_options(kb_write=True)
        with self._errors(), writer as conn, conn.begin():
            if lock and self.shared:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(lock)})
            yield conn

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as exc:
            raise StoreError(
                f"cannot reach the database {self.describe()}: {exc.orig or exc}; "
                "check KB_DATABASE_URL and that the server is up"
            ) from exc
        except DBAPIError as exc:
            if "append-only" in str(exc.orig):
                raise StoreError(f"the audit log is append-only: {exc.orig}") from exc
            raise

    def dispose(self) -> None:
        """Close every pooled connection (tests, and before a fork)."""
        self.engine.dispose()


def _engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        assert url.database
        path = Path(url.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Owner-only before SQLite creates it: it holds password hashes (the -wal and -shm
        # files SQLite adds take the same mode).
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT, "check_same_thread": False},
        )

        @event.listens_for(engine, "connect")
        def _connect(dbapi: Any, _record: ConnectionPoolEntry) -> None:
            dbapi.isolation_level = None  # SQLAlchemy's "begin" hook below emits BEGIN
            # WAL: readers never block the writer. NORMAL: a killed process loses nothing;
            # only a power cut may lose the last commit.
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL"):
                dbapi.execute(f"PRAGMA {pragma}")

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            write = conn.get_execution_options().get("kb_write")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    # pre_ping: a replica outlives database restarts and idle-connection reaping.
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
