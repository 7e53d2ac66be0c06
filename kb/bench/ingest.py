"""`kb bench ingest`: full ingest vs the embedding-only floor vs an unchanged re-ingest."""

from __future__ import annotations

import resource
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kb.bench.naive import run_naive
from kb.config import Settings
from kb.index.text import search_text
from kb.ingest.parsing import parse, preload
from kb.ingest.pipeline import EMBED_GROUP
from kb.ingest.sniff import sniff
from kb.knowledge_base import KnowledgeBase, expand_paths

_NAIVE_PARTS = ("parse_seconds", "split_seconds", "embed_seconds", "index_seconds")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def parse_times(paths: list[Path]) -> dict[str, dict[str, float]]:
    """Seconds spent in unstructured per format (and per page for paged formats)."""
    out: dict[str, dict[str, float]] = {}
    for path in paths:
        data = path.read_bytes()
        kind = sniff(data, path.name)
        started = time.perf_counter()
        blocks = parse(kind, data, path.name)
        spent = time.perf_counter() - started
        pages = len({b.page for b in blocks if b.page}) or 1
        row = out.setdefault(kind, {"files": 0, "seconds": 0.0, "pages": 0})
        row["files"] += 1
        row["seconds"] += spent
        row["pages"] += pages
    return out


def bench_ingest(
    folder: Path,
    settings: Settings,
    log: Callable[[str], None] = print,
    naive: bool = True,
    floor: bool = True,
) -> dict[str, Any]:
    """Measure a first ingest (parse, embed and commit apart), the embedding floor for the
    same chunks, an unchanged re-ingest and, with `naive`, the naive LlamaIndex pipeline on
    the same files in the same run."""
    sources = expand_paths([folder])
    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        fresh = settings.model_copy(update={"data_dir": Path(tmp), "chroma_host": None})
        base = KnowledgeBase(fresh)  # its own empty embedding cache: everything is embedded
        # Start-up costs are not ingest: the model is loaded and warm, and so are the parsers
        # (the app and `kb ingest` load them in the background while the model loads).
        base.embed_model.get_text_embedding_batch(["warm up the model"] * 8)
        preload(background=False)
        rss_before = peak_rss_mb()

        started = time.perf_counter()
        outcomes = base.ingest(sources, _progress(log))
        full = time.perf_counter() - started
        chunks = sum(o.chunks for o in outcomes)
        failed = [o.message() for o in outcomes if not o.ok]
        reports = [d.report for d in base.documents()]
        pages = sum(r.get("pages") or 0 for r in reports)
        parse_s = sum(r.get("parse_seconds", 0.0) for r in reports)
        embed_s = sum(r.get("embed_seconds", 0.0) for r in reports)

        floor_s = _floor(base) if floor else 0.0

        started = time.perf_counter()
        again = base.ingest(sources)
        reingest = time.perf_counter() - started
        unchanged = sum(o.status == "unchanged" for o in again)

    pdfs = [s.path for s in sources if s.path and s.path.suffix.lower() == ".pdf"][:10]
    parsing = parse_times(pdfs)
    baseline = None
    if naive:
        log("naive LlamaIndex pipeline on the same files ...")
        paths = [s.path for s in sources if s.path]
        baseline = asdict(run_naive(paths, base.embed_model))
        baseline["seconds"] = sum(baseline[k] for k in _NAIVE_PARTS)
    return {
        "pages": pages,
        "parse_seconds": parse_s,
        "embed_seconds": embed_s,
        "commit_seconds": max(0.0, full - embed_s),
        "pages_per_second": pages / full if full else 0.0,
        "naive": baseline,
        "over_naive": full / baseline["seconds"] if baseline and baseline["seconds"] else None,
        "files": len(sources),
        "failed": failed,
        "chunks": chunks,
        "full_seconds": full,
        "chunks_per_second": chunks / full if full else 0.0,
        "floor_seconds": floor_s,
        "full_over_floor": full / floor_s if floor_s else 0.0,
        "reingest_seconds": reingest,
        "reingest_over_full": reingest / full if full else 0.0,
        "reingest_unchanged": unchanged,
        "pdf_seconds_per_page": (
            parsing["pdf"]["seconds"] / parsing["pdf"]["pages"] if "pdf" in parsing else None
        ),
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
    }


def _floor(base: KnowledgeBase) -> float:
    """Seconds the model alone takes to embed the stored chunks' texts (no parsing, no I/O)."""
    texts = [
        search_text(str(c.meta.get("name", "")), str(c.meta.get("heading", "")), c.text)
        for c in base.store.iter_all()
    ]
    started = time.perf_counter()
    for i in range(0, len(texts), EMBED_GROUP):
        base.embed_model.get_text_embedding_batch(texts[i : i + EMBED_GROUP])
    return time.perf_counter() - started


def _progress(log: Callable[[str], None]) -> Callable[[int, int, Any], None]:
    def show(done: int, total: int, outcome: Any) -> None:
        if done == total or done % max(1, total // 10) == 0:
            log(f"  ingest [{done}/{total}] {outcome.name}")

    return show


def report_ingest(r: dict[str, Any], log: Callable[[str], None] = print) -> None:
    """Print the ingest figures with their same-run baselines."""
    log(f"files={r['files']} pages={r['pages']} chunks={r['chunks']} failed={len(r['failed'])}")
    for line in r["failed"][:20]:
        log(f"  {line}")
    log(
        f"full ingest        {r['full_seconds']:8.1f} s   {r['chunks_per_second']:.1f} chunks/s, "
        f"{r['pages_per_second']:.1f} pages/s"
    )
    log(
        f"  of which         parse {r['parse_seconds']:.1f} s (a thread, beside embedding), "
        f"embed {r['embed_seconds']:.1f} s, commit and waiting {r['commit_seconds']:.1f} s"
    )
    n = r.get("naive")
    if n:
        log(
            f"naive LlamaIndex   {n['seconds']:8.1f} s   (pypdf {n['parse_seconds']:.1f} s, split "
            f"{n['split_seconds']:.1f} s, embed {n['embed_seconds']:.1f} s, index "
            f"{n['index_seconds']:.1f} s; {n['pages']} pages, {n['chunks']} chunks, "
            f"{len(n['skipped'])} files it could not read)"
        )
        log(f"  ratio kb/naive   {r['over_naive']:8.2f}x  (target <= 1.5x)")
    if r["floor_seconds"]:
        log(f"embedding floor    {r['floor_seconds']:8.1f} s   (same chunk texts, model only)")
        log(f"  ratio full/floor {r['full_over_floor']:8.2f}x  (target <= 1.2x)")
    log(
        f"unchanged re-ingest{r['reingest_seconds']:8.2f} s   ({r['reingest_unchanged']} unchanged)"
    )
    log(f"  ratio re/full    {r['reingest_over_full']:8.3f}   (target <= 0.03)")
    if r["pdf_seconds_per_page"] is not None:
        log(f"PDF parse          {r['pdf_seconds_per_page'] * 1000:8.0f} ms/page (PDFium)")
    log(f"memory: {r['rss_before_mb']:.0f} MB before ingest, peak {r['peak_rss_mb']:.0f} MB")
