"""One writer at a time, across threads, processes and replicas sharing a knowledge base."""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from kb.backends.database import Database, lock_key


class WriteLock:
    """An exclusive lock: a thread lock inside the process, then across processes flock(2)
    on a file in the data dir (SQLite) or a PostgreSQL advisory lock (shared database, so
    replicas on other machines wait too)."""

    def __init__(self, path: Path, db: Database | None = None) -> None:
        self.path = path
        self.db = db if db is not None and db.shared else None
        self._thread_lock = threading.RLock()
        self._depth = 0

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the lock for the block (re-entrant within a thread)."""
        with self._thread_lock:
            if self._depth:
                with self._nested():
                    yield
                return
            with self._across(wait=True) as taken:
                assert taken
                with self._nested():
                    yield

    @contextmanager
    def try_hold(self) -> Iterator[bool]:
        """Hold the lock for the block if it is free now; yields whether it was taken."""
        if not self._thread_lock.acquire(blocking=False):
            yield False
            return
        try:
            if self._depth:
                with self._nested():
                    yield True
                return
            with self._across(wait=False) as taken:
                if not taken:
                    yield False
                    return
                with self._nested():
                    yield True
        finally:
            self._thread_lock.release()

    @contextmanager
    def _nested(self) -> Iterator[None]:
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1

    @contextmanager
    def _across(self, wait: bool) -> Iterator[bool]:
        if self.db is not None:
            with self._advisory(self.db, wait) as taken:
                yield taken
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @staticmethod
    @contextmanager
    def _advisory(db: Database, wait: bool) -> Iterator[bool]:
        # A session-level lock on a connection of its own, kept for the whole write: the
        # server frees it if this process dies, so a crash never leaves the lock held.
        key = {"k": lock_key("write")}
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if wait:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), key)
            elif not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), key).scalar():
                yield False
                return
            try:
                yield True
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), key)
