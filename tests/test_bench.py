"""The benchmark commands run end to end on small sizes (their figures live in BENCHMARKS.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kb.bench.corpus import FORMATS, make_corpus
from kb.bench.ingest import bench_ingest
from kb.bench.query import bench_query
from kb.config import Settings
from kb.ingest.parsing import parse
from kb.ingest.sniff import sniff
from tests.conftest import shared_data

SCIFACT = shared_data("scifact")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SCIFACT.is_dir(), reason="../shared/data/scifact is absent"),
]


def test_generated_corpus_has_every_format_with_pages(tmp_path: Path) -> None:
    paths = make_corpus(tmp_path, SCIFACT, len(FORMATS))
    assert sorted(p.suffix[1:] for p in paths) == sorted(FORMATS)
    pdf = next(p for p in paths if p.suffix == ".pdf")
    blocks = parse(sniff(pdf.read_bytes(), pdf.name), pdf.read_bytes(), pdf.name)
    assert {b.page for b in blocks} == {1, 2, 3, 4, 5}


def test_bench_ingest_and_query_report_their_baselines(
    tmp_path: Path, settings_for: Callable[..., Settings]
) -> None:
    settings = settings_for()
    make_corpus(tmp_path / "docs", SCIFACT, 3)
    r = bench_ingest(tmp_path / "docs", settings)
    assert r["files"] == 3 and not r["failed"] and r["chunks"] > 10
    assert r["floor_seconds"] > 0 and r["full_over_floor"] > 0
    assert r["reingest_unchanged"] == 3 and r["reingest_over_full"] < 1
    q = bench_query(300, SCIFACT, settings, n_queries=25)
    assert q["chunks"] == 300 and q["queries"] == 25
    assert q["kb_p50_ms"] > 0 and q["bare_p50_ms"] > 0 and q["p95_ratio"] > 0
