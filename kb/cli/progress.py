"""The one-line progress report every long CLI command draws."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only a type here: `kb --help` loads no engine
    from kb.ingest import IngestOutcome


class ProgressLine:
    """A one-line progress report on stderr, redrawn in place on a terminal."""

    def __init__(self, label: str) -> None:
        self.label, self.started = label, time.perf_counter()
        self.chunks = 0  # chunks of the files done so far
        self.tty = sys.stderr.isatty()

    def status(self, text: str) -> None:
        """A slow step inside a file (an OCR page); called from the parsing thread."""
        if self.tty:
            sys.stderr.write("\r\033[K" + f"{self.label}: {text}"[:150])
        elif " page 1 of " in text:  # in a log file: one line per file, not per page
            sys.stderr.write(f"{self.label}: {text}\n")
        sys.stderr.flush()

    def __call__(self, done: int, total: int, outcome: IngestOutcome) -> None:
        elapsed = time.perf_counter() - self.started
        eta = elapsed / done * (total - done) if done else 0
        self.chunks += outcome.chunks
        line = (
            f"{self.label} [{done}/{total} documents, {self.chunks} chunks] {elapsed:.0f}s, "
            f"~{eta:.0f}s left: {outcome.name}"
        )
        if self.tty:
            sys.stderr.write("\r\033[K" + line[:150])
            if done == total:
                sys.stderr.write("\n")
        elif total >= 10 and (done % 10 == 0 or done == total):
            sys.stderr.write(line + "\n")
        sys.stderr.flush()
