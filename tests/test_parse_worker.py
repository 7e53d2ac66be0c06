"""The parse worker: same blocks as in-process parsing, errors intact, lower priority."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kb.errors import IngestError
from kb.parse_worker import NICENESS, ParseWorker
from kb.parsing import parse
from kb.sniff import sniff

SAMPLES = Path(__file__).resolve().parent.parent / "sample_docs"


def test_worker_parses_like_the_parent_and_runs_niced() -> None:
    files = [SAMPLES / "employee-handbook.pdf", SAMPLES / "remote-work-policy.docx"]
    with ParseWorker() as worker:
        for path in files:
            data = path.read_bytes()
            kind = sniff(data, path.name)
            assert worker.parse(kind, data, path.name) == parse(kind, data, path.name)
        pool = worker._pool
        assert pool is not None
        (child,) = pool._processes.values()  # one worker process
        assert (
            os.getpriority(os.PRIO_PROCESS, child.pid)
            >= os.getpriority(os.PRIO_PROCESS, 0) + NICENESS
        )


def test_worker_errors_cross_the_process_boundary() -> None:
    with ParseWorker() as worker, pytest.raises(IngestError, match="could not read x.docx as DOCX"):
        worker.parse("docx", b"PK\x03\x04 not really a zip", "x.docx")


def test_a_dead_parser_fails_one_file_and_the_next_gets_a_new_process() -> None:
    with ParseWorker() as worker:
        pool = worker._executor()
        pool.submit(os._exit, 1)  # a crash inside a parsing library looks like this
        with pytest.raises(IngestError, match="parser stopped while reading x.txt"):
            worker.parse("txt", b"hello there", "x.txt")
        blocks = worker.parse("txt", b"A sentence that survives.", "y.txt")
        assert [b.text for b in blocks] == ["A sentence that survives."]
