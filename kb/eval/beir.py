"""`kb eval beir`: kb's own retrieval over a BEIR dataset, hybrid beside each single leg."""

from __future__ import annotations

import csv
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kb.config import Settings
from kb.errors import DatasetError, IngestError
from kb.eval.metrics import best_chunk_per_doc, mean, mrr_at_k, ndcg_at_k, recall_at_k
from kb.index.ids import doc_id_for
from kb.index.store import parse_chunk_id
from kb.ingest.parsing import Block
from kb.ingest.pipeline import Progress, Source
from kb.knowledge_base import KnowledgeBase
from kb.layout import DataDir


@dataclass
class BeirData:
    """A BEIR dataset: corpus {id: (title, text)}, queries {id: text}, qrels {qid: {doc: grade}}."""

    corpus: dict[str, tuple[str, str]]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def load_beir(folder: Path, split: str) -> BeirData:
    """Read corpus.jsonl, queries.jsonl and qrels/SPLIT.tsv; keep the judged queries."""
    try:
        corpus = {}
        with open(folder / "corpus.jsonl") as f:
            for line in f:
                row = json.loads(line)
                corpus[str(row["_id"])] = (row.get("title") or "", row.get("text") or "")
        qrels: dict[str, dict[str, int]] = {}
        with open(folder / "qrels" / f"{split}.tsv") as f:
            for rec in csv.DictReader(f, delimiter="\t"):
                qrels.setdefault(rec["query-id"], {})[rec["corpus-id"]] = int(rec["score"])
        queries = {}
        with open(folder / "queries.jsonl") as f:
            for line in f:
                row = json.loads(line)
                if str(row["_id"]) in qrels:
                    queries[str(row["_id"])] = row["text"]
    except (OSError, ValueError, KeyError) as exc:
        raise DatasetError(
            f"cannot read a BEIR dataset in {folder} ({exc}); expected corpus.jsonl, "
            f"queries.jsonl and qrels/{split}.tsv"
        ) from exc
    return BeirData(corpus, queries, qrels)


def corpus_sources(data: BeirData) -> list[Source]:
    """One pre-parsed source per document: its title as a heading, its text as a paragraph."""
    return [
        Source(
            f"{cid}.txt",
            data=f"{title}\n\n{text}".encode(),
            blocks=[Block("Title", title, None, 0), Block("NarrativeText", text)]
            if title
            else [Block("NarrativeText", text)],
        )
        for cid, (title, text) in data.corpus.items()
    ]


def index_corpus(
    data: BeirData, settings: Settings, workdir: Path, progress: Progress | None = None
) -> tuple[KnowledgeBase, dict[str, str]]:
    """Ingest the corpus into a store in `workdir` (embeddings cached in settings.data_dir)."""
    temp_settings = settings.model_copy(update={"data_dir": workdir, "chroma_host": None})
    cache = DataDir.of(settings).embeddings
    base = KnowledgeBase(temp_settings, cache_path=cache)
    outcomes = base.ingest(corpus_sources(data), progress)
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise IngestError(f"{len(failed)} BEIR documents failed to index: {failed[0].message()}")
    doc_of_id = {doc_id_for(f"{cid}.txt"): cid for cid in data.corpus}
    return base, doc_of_id


@dataclass
class Legs:
    """Per query, the chunk rankings of each leg from one hybrid retrieval."""

    dense: dict[str, list[tuple[str, float]]]
    keyword: dict[str, list[tuple[str, float]]]
    fused: dict[str, list[str]]


def collect_legs(base: KnowledgeBase, data: BeirData) -> Legs:
    """Run kb's hybrid retrieval once per query and keep each leg's ranking."""
    legs = Legs({}, {}, {})
    for qid, text in data.queries.items():
        trace = base.searcher.trace(text, 1, "hybrid", fetch=False)
        legs.dense[qid], legs.keyword[qid] = trace.dense, trace.keyword
        legs.fused[qid] = [f.id for f in trace.fused]
    return legs


def as_docs(chunks: list[str], doc_of_id: dict[str, str]) -> list[str]:
    """Corpus ids in the order of their best chunk."""
    return best_chunk_per_doc(chunks, {c: doc_of_id[parse_chunk_id(c)[0]] for c in chunks})


def score(ranked: dict[str, list[str]], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    """Mean nDCG@10, Recall@100 and MRR@10."""
    qids = list(qrels)
    return {
        "ndcg@10": mean([ndcg_at_k(ranked.get(q, []), qrels[q], 10) for q in qids]),
        "recall@100": mean([recall_at_k(ranked.get(q, []), qrels[q], 100) for q in qids]),
        "mrr@10": mean([mrr_at_k(ranked.get(q, []), qrels[q], 10) for q in qids]),
    }


def run_beir(
    folder: Path,
    split: str,
    settings: Settings,
    progress: Progress | None = None,
    log: Callable[[str], None] = print,
    sweep: Callable[[KnowledgeBase, Legs, dict[str, str], BeirData], None] | None = None,
) -> dict[str, dict[str, float]]:
    """Metrics for hybrid, keyword-only and dense-only retrieval, measured in one run."""
    data = load_beir(folder, split)
    log(f"{len(data.corpus)} documents, {len(data.queries)} {split} queries")
    with tempfile.TemporaryDirectory(prefix="kb-beir-") as tmp:
        started = time.perf_counter()
        base, doc_of_id = index_corpus(data, settings, Path(tmp), progress)
        log(f"indexed {base.store.count()} chunks in {time.perf_counter() - started:.0f}s")
        started = time.perf_counter()
        legs = collect_legs(base, data)
        per_query = (time.perf_counter() - started) / max(len(data.queries), 1)
        results = {
            "hybrid": score({q: as_docs(c, doc_of_id) for q, c in legs.fused.items()}, data.qrels),
            "keyword": score(
                {q: as_docs([i for i, _ in r], doc_of_id) for q, r in legs.keyword.items()},
                data.qrels,
            ),
            "dense": score(
                {q: as_docs([i for i, _ in r], doc_of_id) for q, r in legs.dense.items()},
                data.qrels,
            ),
        }
        results["hybrid"]["seconds_per_query"] = per_query
        if sweep is not None:
            sweep(base, legs, doc_of_id, data)
    return results


def _row(name: str, m: dict[str, float], base: dict[str, float] | None) -> str:
    cells = []
    for key in ("ndcg@10", "recall@100", "mrr@10"):
        ratio = f" ({m[key] / base[key]:.2f}x)" if base and base[key] else ""
        cells.append(f"{m[key]:.4f}{ratio}".ljust(16))
    return f"{name:<22}" + "".join(cells)


def report_beir(
    results: dict[str, dict[str, float]],
    settings: Settings,
    split: str,
    log: Callable[[str], None] = print,
) -> None:
    """The BEIR table: hybrid beside BM25-only and dense-only from the same run."""
    log(
        f"\nsplit={split}  fusion={settings.fusion} dense_weight={settings.dense_weight} "
        f"keyword_weight={settings.keyword_weight}"
    )
    log(f"{'pipeline':<22}{'nDCG@10':<16}{'Recall@100':<16}{'MRR@10':<16}")
    best_leg = max(results["keyword"], results["dense"], key=lambda m: m["ndcg@10"])
    log(_row("kb hybrid (default)", results["hybrid"], best_leg))
    log(_row("BM25 only (baseline)", results["keyword"], None))
    log(_row("dense only (baseline)", results["dense"], None))
    log("(ratios: hybrid over the better single leg, measured in this run)")
