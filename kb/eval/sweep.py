"""`kb eval beir --sweep`: fusion methods, weights and BM25 parameters tried on one set of legs.

The dense leg is collected once by the real retrieval; the keyword leg is rebuilt over the same
chunks for each BM25 (k1, b); fusion is kb's own `fuse`. How the defaults were chosen on
SciFact train, and how an admin re-checks them on another BEIR-format set."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kb.eval.beir import BeirData, Legs, as_docs, score
from kb.index.keyword import KeywordIndex, Params
from kb.index.snapshot import keyword_texts
from kb.knowledge_base import KnowledgeBase
from kb.search.fusion import fuse

# Around the defaults: bm25s's, Lucene's and Anserini's BM25, and flatter length normalisations.
BM25_PARAMS: list[Params] = [(1.5, 0.75), (1.2, 0.75), (0.9, 0.5), (0.9, 0.4), (1.2, 0.5)]
METHODS = ("weighted", "zscore", "rrf")
DENSE_WEIGHTS = (0.3, 0.4, 0.5, 0.6)


@dataclass
class SweepRow:
    """One fusion variant and its metrics."""

    bm25: Params
    method: str
    dense_weight: float
    metrics: dict[str, float]

    def label(self) -> str:
        """e.g. 'zscore dense 0.5 / keyword 0.5, BM25 k1 0.9 b 0.5'."""
        w, (k1, b) = self.dense_weight, self.bm25
        return f"{self.method} dense {w:.1f} / keyword {1 - w:.1f}, BM25 k1 {k1} b {b}"


def fusion_sweep(
    base: KnowledgeBase,
    legs: Legs,
    doc_of_id: dict[str, str],
    data: BeirData,
    log: Callable[[str], None] = print,
) -> list[SweepRow]:
    """Every (BM25 params, method, weight) variant, best nDCG@10 first."""
    chunks = list(base.store.iter_all())
    ids, texts = [c.id for c in chunks], keyword_texts(chunks)
    n = base.settings.candidates
    rows: list[SweepRow] = []
    for params in BM25_PARAMS:
        index = KeywordIndex.build(ids, texts, 0, params)
        keyword = {q: index.search(text, n) for q, text in data.queries.items()}
        for method in METHODS:
            for w in DENSE_WEIGHTS if method != "rrf" else (0.5,):
                ranked = {
                    q: as_docs(
                        [f.id for f in fuse(legs.dense[q], keyword[q], method, w, 1 - w)],
                        doc_of_id,
                    )
                    for q in data.queries
                }
                rows.append(SweepRow(params, method, w, score(ranked, data.qrels)))
        log(f"swept BM25 k1 {params[0]} b {params[1]}")
    return sorted(rows, key=lambda r: -r.metrics["ndcg@10"])
