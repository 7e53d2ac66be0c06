"""Hybrid retrieval: dense (Chroma) and keyword (BM25) candidates fused into one ranking."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from llama_index.core.base.embeddings.base import BaseEmbedding

from kb.config import Settings
from kb.errors import StoreError
from kb.index.snapshot import Snapshot
from kb.index.store import ChunkStore, StoredChunk, parse_chunk_id, stored_page
from kb.search.fusion import Fused, boost_named, fuse, keep_in_top, merge, spread_pages
from kb.security.principals import SYSTEM, Principal

Mode = Literal["hybrid", "dense", "keyword"]
MAX_RETRIES = 5  # a version switch mid-query forces a rerun; more than a few in a row is absurd
# Documents named nearly as well as the best-named one are searched on their own as well:
# "AMCOR ... FY2023" names AMCOR's four 2023 filings about equally (0.95-1.0 on FinanceBench).
NAMED_SHARE = 0.75
# More named documents than this means the question names a common word, not documents.
MAX_NAMED = 10
# How many ranked passages are looked at to keep one per page in the top k.
SPREAD_DEPTH = 4


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


@dataclass(frozen=True)
class Scope:
    """The documents one query may touch, as a Chroma pre-filter and a keyword mask."""

    allowed: set[str] | None  # None: no restriction
    where: dict[str, Any] | None
    forbidden: set[str]

    @classmethod
    def of(cls, view: Snapshot, user: Principal) -> Scope:
        """The scope of `user` in `view`; the Chroma filter lists the shorter side."""
        allowed = view.allowed(user)
        if allowed is None:
            return cls(None, None, set())
        forbidden = set(view.active) - allowed
        if not forbidden:
            return cls(allowed, None, forbidden)
        # Both forms filter inside Chroma before ranking; the shorter list is cheaper, and
        # results are checked against `allowed` again, so a document added or restricted
        # after this snapshot (which a $nin would not name) still cannot slip through.
        if len(forbidden) < len(allowed):
            where: dict[str, Any] = {"doc_id": {"$nin": sorted(forbidden)}}
        else:
            where = {"doc_id": {"$in": sorted(allowed)}}
        return cls(allowed, where, forbidden)

    def permits(self, chunk_id: str) -> bool:
        """Whether a chunk's document is inside the scope."""
        return self.allowed is None or _doc_of(chunk_id) in self.allowed


def _doc_of(chunk_id: str) -> str:
    return parse_chunk_id(chunk_id)[0]


def _page_of(chunk: StoredChunk | None) -> tuple[str, int] | None:
    page = stored_page(chunk.meta) if chunk else None
    return None if chunk is None or page is None else (str(chunk.meta.get("doc_id", "")), page)


def _hit(chunk: StoredChunk, f: Fused) -> Hit:
    meta = chunk.meta
    return Hit(
        chunk_id=chunk.id,
        doc_id=str(meta.get("doc_id", "")),
        name=str(meta.get("name", "")),
        page=stored_page(meta),
        heading=str(meta.get("heading", "")),
        text=chunk.text,
        score=f.score,
        scores={"dense": f.dense, "keyword": f.keyword, "fused": f.score, "named": f.named},
        ranks={"dense": f.dense_rank, "keyword": f.keyword_rank},
    )


class Searcher:
    """Runs both legs and fuses them, using the settings' weights and candidate counts."""

    def __init__(
        self,
        settings: Settings,
        store: ChunkStore,
        embed_model: BaseEmbedding,
        snapshot: Callable[[], Snapshot],
        stamp: Callable[[], tuple[int, int]],
    ) -> None:
        self.settings, self.store, self.embed_model = settings, store, embed_model
        self.snapshot, self.stamp = snapshot, stamp  # the registry's, handed down by the facade

    def trace(
        self,
        query: str,
        k: int | None = None,
        mode: Mode = "hybrid",
        fetch: bool = True,
        user: Principal = SYSTEM,
        vector: list[float] | None = None,
    ) -> Trace:
        """Retrieve `k` hits for `query`, keeping every intermediate ranking (`vector`: the
        query already embedded, by a batch).

        Optimistic concurrency: a writer switches versions (generation + 1) before deleting
        the old chunks, so a result read while the generation held still is one whole
        version; when a switch or an access change happened meanwhile, the query runs again.
        Only documents `user` may read are queried at all: Chroma filters them by `where`
        and the keyword leg masks them before ranking, so they never reach fusion."""
        embedded_again = False
        for _ in range(MAX_RETRIES):
            view = self.snapshot()
            try:
                trace, vector = self._trace(
                    query, k, mode, view, vector, fetch, Scope.of(view, user)
                )
            except StoreError:
                # A full re-index switched collection (and maybe model) between embedding
                # the query and querying: embed it once more for the collection now active.
                if embedded_again:
                    raise
                embedded_again, vector = True, None
                continue
            if self.stamp() == view.stamp:
                break
        return trace

    def _trace(
        self,
        query: str,
        k: int | None,
        mode: Mode,
        view: Snapshot,
        vector: list[float] | None,
        fetch: bool,
        scope: Scope,
    ) -> tuple[Trace, list[float] | None]:
        s = self.settings
        k = k or s.top_k
        n = max(s.candidates, k)
        timings: dict[str, float] = {}
        dense: list[tuple[str, float]] = []
        chunks: dict[str, StoredChunk] = {}
        if mode != "keyword" and scope.allowed != set():
            t = time.perf_counter()
            if vector is None:
                vector = self.embed_model.get_query_embedding(query)
            timings["embed"] = time.perf_counter() - t
            t = time.perf_counter()
            # Over-fetch a little: chunks of a version being replaced are dropped below.
            for cid, cosine in self.store.query(vector, n + 10, scope.where):
                if view.visible(cid) and scope.permits(cid) and len(dense) < n:
                    dense.append((cid, cosine))
            timings["dense"] = time.perf_counter() - t
        keyword: list[tuple[str, float]] = []
        if mode != "dense" and scope.allowed != set():
            t = time.perf_counter()
            mask = view.keyword.mask(scope.allowed, scope.forbidden)
            found = view.keyword.search(query, n, mask)
            keyword = [(i, sc) for i, sc in found if view.visible(i) and scope.permits(i)]
            timings["keyword"] = time.perf_counter() - t
        named: dict[str, float] = {}
        if mode == "hybrid" and s.name_weight > 0 and scope.allowed != set():
            t = time.perf_counter()
            named = {d: v for d, v in view.identities.scores(query).items()
                     if scope.allowed is None or d in scope.allowed}  # fmt: skip
            dense, keyword = self._named_pass(named, vector, query, n, view, scope, dense, keyword)
            timings["named"] = time.perf_counter() - t
        fused = fuse(dense, keyword, s.fusion, s.dense_weight, s.keyword_weight, s.rrf_k)
        best = fused[0].id if fused else ""  # before names: it must stay in the top k
        fused = boost_named(fused, named, _doc_of, s.name_weight, view.paged)
        t = time.perf_counter()
        if fetch:
            depth = k * SPREAD_DEPTH if s.one_passage_per_page and named else k
            wanted = dict.fromkeys([f.id for f in fused[:depth]] + ([best] if named else []))
            chunks.update(self.store.get(list(wanted)))
            page_of: Callable[[str], object] = lambda i: _page_of(chunks.get(i))  # noqa: E731
            if s.one_passage_per_page and named:
                # Inside the documents a question names, k passages should be k pages; the
                # handbook's two passages of page 1 stay (the second held the founders).
                fused = spread_pages(
                    fused, lambda i: page_of(i) if _doc_of(i) in named else None, k
                )
            if named:
                fused = keep_in_top(fused, best, k, page_of)
        timings["fetch"] = time.perf_counter() - t
        hits = [_hit(chunks[f.id], f) for f in fused[:k] if f.id in chunks]
        return Trace(query, dense, keyword, fused, hits, timings), vector

    def _named_pass(
        self,
        named: dict[str, float],
        vector: list[float] | None,
        query: str,
        n: int,
        view: Snapshot,
        scope: Scope,
        dense: list[tuple[str, float]],
        keyword: list[tuple[str, float]],
    ) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """Both legs' candidates plus the best of the documents the question names, searched
        on their own: in a long filing the right page is often below the corpus-wide top n."""
        ids = sorted(d for d, v in named.items() if v >= NAMED_SHARE)
        if not ids or len(ids) > MAX_NAMED:
            return dense, keyword
        if vector is not None:
            more = self.store.query(vector, n, {"doc_id": {"$in": ids}})
            dense = merge(dense, [(c, v) for c, v in more if view.visible(c)])
        mask = view.keyword.mask(set(ids), set(view.active) - set(ids))
        more = view.keyword.search(query, n, mask)
        return dense, merge(keyword, [(c, v) for c, v in more if view.visible(c)])

    def search_many(
        self, queries: list[str], k: int | None = None, mode: Mode = "hybrid",
        user: Principal = SYSTEM,
    ) -> list[list[Hit]]:  # fmt: skip
        """The fused top-`k` hits of each query, the queries embedded in batches: one at a
        time, embedding is ~95% of a query's time on CPU (BENCHMARKS.md, *Query latency*)."""
        vectors: list[list[float] | None] = [None] * len(queries)
        if mode != "keyword":
            vectors = list(self.embed_model.get_text_embedding_batch(queries))
        return [self.trace(q, k, mode, user=user, vector=v).hits
                for q, v in zip(queries, vectors, strict=True)]  # fmt: skip

    def term_share(self, tokens: list[str]) -> dict[str, float]:
        """Each keyword token's share of the indexed passages (how common it is)."""
        return self.snapshot().keyword.share(tokens)

    def search(
        self, query: str, k: int | None = None, mode: Mode = "hybrid", user: Principal = SYSTEM
    ) -> list[Hit]:
        """The fused top-`k` hits."""
        return self.trace(query, k, mode, user=user).hits
