"""Parse big batches in a separate, lower-priority process.

In the ingesting process, parsing (pure Python in unstructured) and the embedding model fight
for the GIL and the two cores, so the embedder stalls while a file parses. A niced child process
takes only the CPU the model leaves idle and never holds the parent's GIL; it also keeps a parser
crash (or a runaway file) from taking the ingesting process down with it.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from kb.errors import IngestError
from kb.parsing import Block, parse

# Below this many files to parse, a new process (interpreter start plus unstructured's imports,
# several seconds) costs more than it hides; a long-lived app has those imports already.
MIN_FILES = 8
# The embedding model runs at normal priority; the parser gets what is left, so it never slows
# the step that bounds ingest time. 10 is the usual "background job" niceness.
NICENESS = 10


def _lower_priority() -> None:
    os.nice(NICENESS)


class ParseWorker:
    """One child process that parses files on request; start-up is lazy (first parse)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # spawn, not fork: the parent has threads (Streamlit, torch) and forking them is
                # unsafe.
                self._pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_lower_priority,
                )
            return self._pool

    def parse(self, kind: str, data: bytes, name: str) -> list[Block]:
        """Like kb.parsing.parse, in the child process."""
        try:
            return self._executor().submit(parse, kind, data, name).result()
        except BrokenProcessPool as exc:
            with self._lock:
                self._pool = None  # the next file gets a fresh process
            raise IngestError(
                f"the parser stopped while reading {name} (out of memory, or a crash in a "
                "parsing library); check the file opens in its usual program, then upload "
                "it again"
            ) from exc

    def close(self) -> None:
        """Stop the child process."""
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None

    def __enter__(self) -> ParseWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
