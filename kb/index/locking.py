"""One writer at a time, across threads and processes sharing a data dir."""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class WriteLock:
    """An exclusive lock: a thread lock inside the process, flock(2) across processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread_lock = threading.RLock()
        self._depth = 0

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the lock for the block (re-entrant within a thread)."""
        with self._thread_lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                self._depth = 1
                try:
                    yield
                finally:
                    self._depth = 0
                    fcntl.flock(handle, fcntl.LOCK_UN)

    @contextmanager
    def try_hold(self) -> Iterator[bool]:
        """Hold the lock for the block if it is free now; yields whether it was taken."""
        if not self._thread_lock.acquire(blocking=False):
            yield False
            return
        try:
            if self._depth:
                with self.hold():
                    yield True
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    yield False
                    return
                self._depth = 1
                try:
                    yield True
                finally:
                    self._depth = 0
                    fcntl.flock(handle, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()
