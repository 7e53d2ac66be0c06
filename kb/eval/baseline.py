"""`kb eval golden --baseline naive`: kb and the naive LlamaIndex pipeline over the same
files, with the same embedding model, indexed and measured in the same run."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.errors import DatasetError
from kb.eval.golden import GoldenQuestion, GoldenResult, evaluate_golden, evaluate_modes
from kb.eval.naive import build_naive
from kb.ingest import Progress


def find_files(questions: list[GoldenQuestion], docs: Path) -> list[Path]:
    """The files the questions name, found under `docs` (the first of each name)."""
    wanted = {q.file for q in questions}
    found: dict[str, Path] = {}
    for path in sorted(docs.rglob("*")):
        if path.name in wanted and path.is_file():
            found.setdefault(path.name, path)
    missing = sorted(wanted - found.keys())
    if missing:
        raise DatasetError(
            f"{len(missing)} files the questions name are not under {docs} (e.g. "
            f"{', '.join(missing[:3])}): point --docs at the folder that holds them"
        )
    return [found[name] for name in sorted(found)]


@dataclass
class Comparison:
    """kb's pipelines and the naive one on one question set, and what indexing cost each."""

    k: int
    files: int
    results: dict[str, GoldenResult] = field(default_factory=dict)
    index: dict[str, str] = field(default_factory=dict)  # pipeline -> "712 s (…)"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"k": self.k, "files": self.files, "index": self.index,
                **{m: r.to_dict() for m, r in self.results.items()}}  # fmt: skip


def compare_with_naive(
    base: Any,
    questions: list[GoldenQuestion],
    files: list[Path],
    k: int,
    progress: Progress | None = None,
    log: Callable[[str], None] = print,
) -> Comparison:
    """Index `files` with kb (unchanged ones are skipped) and with the naive pipeline, then
    run every question through kb's hybrid, keyword and dense modes and the naive retriever."""
    out = Comparison(k, len(files))
    started = time.perf_counter()
    outcomes = base.ingest_paths(files, progress)
    seconds = time.perf_counter() - started
    done = [o for o in outcomes if o.status != "unchanged"]
    failed = [o for o in outcomes if not o.ok]
    note = f"{len(done)} indexed, {len(outcomes) - len(done)} already in the index"
    if failed:
        note += f", {len(failed)} failed"
    out.index["kb"] = f"{seconds:.0f} s ({note}; {sum(o.chunks for o in outcomes):,} chunks)"
    log(f"kb: indexed in {out.index['kb']}")
    log("naive: reading, splitting and embedding the same files ...")
    naive = build_naive(files, base.embed_model)
    out.index["naive"] = f"{naive.seconds:.0f} s ({naive.pages:,} pages, {naive.chunks:,} chunks)"
    log(f"naive: indexed in {out.index['naive']}")
    out.results.update(evaluate_modes(base.search, questions, k))
    out.results["naive"] = evaluate_golden(questions, naive.search, k)
    return out


def report(c: Comparison) -> list[str]:
    """The side-by-side table, then the breakdown by question type."""
    lines = [
        f"{c.results['naive'].n} questions, {c.files} files, k={c.k}",
        f"{'pipeline':<12}{'file@1':>8}{f'file@{c.k}':>8}{'file MRR':>10}"
        f"{'page@1':>8}{f'page@{c.k}':>8}{'page MRR':>10}",
    ]
    for name, r in c.results.items():
        d = r.to_dict()
        label = name if name == "naive" else f"kb {name}"
        lines.append(
            f"{label:<12}{d['file_hit@1']:>8.3f}{r.file_hit_rate:>8.3f}{r.file_mrr:>10.3f}"
            f"{d['page_hit@1']:>8.3f}{r.page_hit_rate:>8.3f}{r.page_mrr:>10.3f}"
        )
    lines += [f"indexing: {name} {text}" for name, text in c.index.items()]
    types = sorted({t for r in c.results.values() for t in r.by_type})
    if len(types) > 1:
        lines.append(f"by question type: file hit@{c.k} / page hit@{c.k}")
        for t in types:
            cells = []
            for name, r in c.results.items():
                row = r.by_type.get(t, {"n": 0, "file_hits": 0, "page_hits": 0})
                n = row["n"] or 1
                cells.append(f"{name} {row['file_hits'] / n:.2f}/{row['page_hits'] / n:.2f}")
            n = c.results["naive"].by_type.get(t, {}).get("n", 0)
            lines.append(f"  {t} (n={n}): " + "  ".join(cells))
    return lines
