"""Hybrid retrieval: dense (Chroma) and keyword (BM25) candidates fused into one ranking."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from kb.config import Settings
from kb.fusion import Fused, fuse
from kb.keyword import KeywordIndex
from kb.store import ChunkStore, StoredChunk, is_live

Mode = Literal["hybrid", "dense", "keyword"]
MAX_RETRIES = 5  # a version switch mid-query forces a rerun; more than a few in a row is absurd


@dataclass
class Hit:
    """A retrieved passage with where it came from and every score behind its rank."""

    chunk_id: str
    doc_id: str
    name: str
    page: int | None
    heading: str
    text: str
    score: float
    scores: dict[str, float | None] = field(default_factory=dict)
    ranks: dict[str, int | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass
class Trace:
    """Every step of one retrieval, for the source inspector and the evaluations."""

    query: str
    dense: list[tuple[str, float]]
    keyword: list[tuple[str, float]]
    fused: list[Fused]
    hits: list[Hit]
    timings: dict[str, float]


@dataclass
class View:
    """What a reader may see now: the keyword index and the live version of each document."""

    keyword: KeywordIndex
    active: dict[str, str]

    def visible(self, chunk_id: str) -> bool:
        """Whether a chunk belongs to a document's live version."""
        return is_live(chunk_id, self.active)


def _hit(chunk: StoredChunk, f: Fused) -> Hit:
    meta = chunk.meta
    page = meta.get("page")
    return Hit(
        chunk_id=chunk.id,
        doc_id=str(meta.get("doc_id", "")),
        name=str(meta.get("name", "")),
        page=int(page) if isinstance(page, int | float) and page > 0 else None,
        heading=str(meta.get("heading", "")),
        text=chunk.text,
        score=f.score,
        scores={"dense": f.dense, "keyword": f.keyword, "fused": f.score},
        ranks={"dense": f.dense_rank, "keyword": f.keyword_rank},
    )


class Searcher:
    """Runs both legs and fuses them, using the settings' weights and candidate counts."""

    def __init__(
        self,
        settings: Settings,
        store: ChunkStore,
        embed_model: BaseEmbedding,
        view: Callable[[], View],
        generation: Callable[[], int],
    ) -> None:
        self.settings, self.store, self.embed_model, self.view = settings, store, embed_model, view
        self.generation = generation

    def trace(
        self, query: str, k: int | None = None, mode: Mode = "hybrid", fetch: bool = True
    ) -> Trace:
        """Retrieve `k` hits for `query`, keeping every intermediate ranking.

        Optimistic concurrency: a writer switches versions (generation + 1) before deleting
        the old chunks, so a result read while the generation held still is one whole
        version; when a switch happened meanwhile, the query runs again on the new view."""
        vector = None
        for _ in range(MAX_RETRIES):
            view = self.view()
            trace, vector = self._trace(query, k, mode, view, vector, fetch)
            if self.generation() == view.keyword.generation:
                break
        return trace

    def _trace(
        self,
        query: str,
        k: int | None,
        mode: Mode,
        view: View,
        vector: list[float] | None,
        fetch: bool,
    ) -> tuple[Trace, list[float] | None]:
        s = self.settings
        k = k or s.top_k
        n = max(s.candidates, k)
        timings: dict[str, float] = {}
        dense: list[tuple[str, float]] = []
        chunks: dict[str, StoredChunk] = {}
        if mode != "keyword":
            t = time.perf_counter()
            if vector is None:
                vector = self.embed_model.get_query_embedding(query)
            timings["embed"] = time.perf_counter() - t
            t = time.perf_counter()
            # Over-fetch a little: chunks of a version being replaced are dropped below.
            for cid, cosine in self.store.query(vector, n + 10):
                if view.visible(cid) and len(dense) < n:
                    dense.append((cid, cosine))
            timings["dense"] = time.perf_counter() - t
        keyword: list[tuple[str, float]] = []
        if mode != "dense":
            t = time.perf_counter()
            keyword = [(i, sc) for i, sc in view.keyword.search(query, n) if view.visible(i)]
            timings["keyword"] = time.perf_counter() - t
        fused = fuse(dense, keyword, s.fusion, s.dense_weight, s.keyword_weight, s.rrf_k)
        top = fused[:k]
        missing = [f.id for f in top if f.id not in chunks] if fetch else []
        t = time.perf_counter()
        chunks.update(self.store.get(missing))
        timings["fetch"] = time.perf_counter() - t
        hits = [_hit(chunks[f.id], f) for f in top if f.id in chunks]
        return Trace(query, dense, keyword, fused, hits, timings), vector

    def search(self, query: str, k: int | None = None, mode: Mode = "hybrid") -> list[Hit]:
        """The fused top-`k` hits."""
        return self.trace(query, k, mode).hits


class HybridRetriever(BaseRetriever):
    """LlamaIndex retriever over kb's hybrid search; scores ride along in node metadata."""

    def __init__(self, searcher: Searcher, k: int | None = None) -> None:
        super().__init__()
        self.searcher, self.k = searcher, k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self.searcher.search(query_bundle.query_str, self.k)
        return [
            NodeWithScore(
                node=TextNode(
                    id_=h.chunk_id,
                    text=h.text,
                    metadata={
                        "doc_id": h.doc_id,
                        "name": h.name,
                        "page": h.page,
                        "heading": h.heading,
                        "scores": h.scores,
                    },
                ),
                score=h.score,
            )
            for h in hits
        ]
