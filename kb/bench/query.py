"""`kb bench query`: retrieval latency at N chunks beside a bare Chroma query, and memory;
with KB_DATABASE_URL on PostgreSQL, the same run on SQLite beside it."""

from __future__ import annotations

import contextlib
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psutil
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from pydantic import SecretStr

from kb import backends
from kb.config import Settings
from kb.errors import DatasetError
from kb.index.ids import chunk_id
from kb.index.registry import Document
from kb.index.text import search_text
from kb.ingest.chunking import chunk_blocks
from kb.ingest.parsing import Block
from kb.knowledge_base import KnowledgeBase
from kb.layout import DataDir

CHUNKS_PER_DOC = 20
BASE_TEXTS = 2000  # distinct passages embedded for real; the rest are noisy copies of them


def _passages(scifact: Path, n: int) -> list[str]:
    """The first chunk of the first n SciFact documents, exactly as `kb eval beir` embeds it,
    so that after an eval run (as in `kb bench all`) no passage is embedded twice."""
    out = []
    try:
        with open(scifact / "corpus.jsonl") as f:
            for line in f:
                row = json.loads(line)
                cid, title = str(row["_id"]), row.get("title") or ""
                blocks = [Block("Title", title, None, 0)] if title else []
                blocks.append(Block("NarrativeText", row.get("text") or ""))
                first = chunk_blocks(blocks)[0]
                out.append(search_text(f"{cid}.txt", first.heading, first.text))
                if len(out) == n:
                    break
    except (OSError, ValueError, KeyError, IndexError) as exc:
        raise DatasetError(f"cannot read {scifact}/corpus.jsonl: {exc}") from exc
    return out


def _queries(scifact: Path, n: int) -> list[str]:
    with open(scifact / "queries.jsonl") as f:
        return [json.loads(line)["text"] for _, line in zip(range(n), f, strict=False)]


def _fill(
    base: KnowledgeBase, passages: list[str], n_chunks: int, log: Callable[[str], None]
) -> None:
    """Write n_chunks chunks straight into the store and registry (no parsing)."""
    vectors, _ = base.cache.embed(passages, base.embed_model.get_text_embedding_batch)
    rng = np.random.default_rng(7)
    base_vecs = np.asarray(vectors, dtype=np.float32)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for d in range(0, n_chunks, CHUNKS_PER_DOC):
        doc_id, version = f"bench-{d // CHUNKS_PER_DOC:06d}", "0000000000000000"
        name = f"{doc_id}.txt"
        nodes = []
        for i in range(min(CHUNKS_PER_DOC, n_chunks - d)):
            j = (d + i) % len(passages)
            noise = np.asarray(rng.normal(0, 0.02, base_vecs.shape[1]), dtype=np.float32)
            vec = base_vecs[j] + noise
            vec /= np.linalg.norm(vec)
            meta = {
                "doc_id": doc_id,
                "name": name,
                "version": version,
                "heading": "",
                "kind": "txt",
                "chunk_index": i,
            }
            nodes.append(
                TextNode(
                    id_=chunk_id(doc_id, version, i),
                    text=passages[j],
                    embedding=vec.tolist(),
                    metadata=meta,
                    relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=doc_id)},
                )
            )
        base.store.add(nodes)
        base.registry.upsert(
            Document(doc_id, name, "txt", 0, version * 4, version, None, len(nodes), now)
        )
        if d % 10000 == 0:
            log(f"  filled {d + len(nodes)}/{n_chunks} chunks")


def _percentiles(values: list[float]) -> tuple[float, float]:
    qs = statistics.quantiles(values, n=20)
    return statistics.median(values), qs[18]


@contextlib.contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """A new empty database on the PostgreSQL server of `url` (needs CREATEDB), dropped after."""
    from sqlalchemy import create_engine, text

    from kb.backends.database import database_url

    server = database_url(url, Path("."))
    name = f"kb_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        backends.close_database(name)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _published_keyword(base: KnowledgeBase, tmp: Path) -> dict[str, float]:
    """Time publishing the keyword index to the blob store and loading it as another replica
    would (into a folder of its own)."""
    from kb.index import published

    started = time.perf_counter()
    base.snapshots.publish()
    publish_s = time.perf_counter() - started
    assert base.snapshots.shared is not None
    generation = base.snapshot().keyword.generation
    started = time.perf_counter()
    fetched = published.fetch(
        base.snapshots.shared, generation, base.snapshots.bm25, tmp / "other-replica-keyword"
    )
    fetch_s = time.perf_counter() - started
    if fetched is None or len(fetched) != len(base.snapshot().keyword):
        raise RuntimeError("the published keyword index did not load back whole")
    size = sum(p.stat().st_size for p in base.paths.keyword.rglob("*") if p.is_file())
    return {
        "keyword_publish_seconds": publish_s,
        "keyword_fetch_seconds": fetch_s,
        "keyword_published_mb": size / 2**20,
    }


def bench_query(
    n_chunks: int,
    scifact: Path,
    settings: Settings,
    n_queries: int = 200,
    log: Callable[[str], None] = print,
    database: str | None = None,
) -> dict[str, Any]:
    """p50/p95 of kb retrieval and of a bare Chroma query (same embedding) at n_chunks, with
    the registry and audit log in `database` (a URL; None: SQLite in a temp data dir)."""
    proc = psutil.Process()
    with tempfile.TemporaryDirectory(prefix="kb-benchq-") as tmp:
        fresh = settings.model_copy(
            update={
                "data_dir": Path(tmp),
                "chroma_host": None,
                "database_url": SecretStr(database) if database else None,
            }
        )
        # The embedded Chroma on both databases: the comparison is of the database alone.
        store = backends.build_vector_store(fresh)
        base = KnowledgeBase(fresh, cache_path=DataDir.of(settings).embeddings, vector_store=store)
        base.embed_model.get_query_embedding("load the model")  # it loads on first use
        rss_empty = proc.memory_info().rss / 2**20
        _fill(base, _passages(scifact, min(BASE_TEXTS, n_chunks)), n_chunks, log)
        started = time.perf_counter()
        base.snapshot()
        keyword_build = time.perf_counter() - started
        shared = _published_keyword(base, Path(tmp)) if base.db.shared else {}
        queries = _queries(scifact, n_queries)
        collection = base.store._collection
        random.Random(3).shuffle(queries)
        kb_ms, bare_ms = [], []
        for q in queries[:5]:  # warm caches and HNSW pages
            base.search(q, settings.top_k)
        for q in queries:
            t = time.perf_counter()
            vec = base.embed_model.get_query_embedding(q)
            collection.query(query_embeddings=[vec], n_results=settings.top_k)
            bare_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            base.search(q, settings.top_k)
            kb_ms.append((time.perf_counter() - t) * 1000)
        rss = proc.memory_info().rss / 2**20
        kb_p50, kb_p95 = _percentiles(kb_ms)
        bare_p50, bare_p95 = _percentiles(bare_ms)
        return {
            "database": base.db.url.get_backend_name(),
            "chunks": base.store.count(),
            "queries": len(queries),
            "kb_p50_ms": kb_p50,
            "kb_p95_ms": kb_p95,
            "bare_p50_ms": bare_p50,
            "bare_p95_ms": bare_p95,
            "p50_ratio": kb_p50 / bare_p50,
            "p95_ratio": kb_p95 / bare_p95,
            "keyword_build_seconds": keyword_build,
            **shared,
            "rss_empty_mb": rss_empty,
            "rss_mb": rss,
        }


def report_query(r: dict[str, Any], log: Callable[[str], None] = print) -> None:
    """Print query latency with the bare-Chroma baseline beside it."""
    log(
        f"chunks={r['chunks']} queries={r['queries']} (k=5, hybrid, no generation; "
        f"registry and audit log on {r.get('database', 'sqlite')})"
    )
    log(f"kb retrieval   p50 {r['kb_p50_ms']:7.1f} ms   p95 {r['kb_p95_ms']:7.1f} ms")
    log(f"bare Chroma    p50 {r['bare_p50_ms']:7.1f} ms   p95 {r['bare_p95_ms']:7.1f} ms")
    log(f"  ratio        p50 {r['p50_ratio']:7.2f}x     p95 {r['p95_ratio']:7.2f}x  (target <= 2x)")
    log(f"keyword index built once in {r['keyword_build_seconds']:.1f} s (not per query)")
    if "keyword_publish_seconds" in r:
        log(
            f"  shared with replicas: published in {r['keyword_publish_seconds']:.2f} s "
            f"({r['keyword_published_mb']:.1f} MB); another replica loads it in "
            f"{r['keyword_fetch_seconds']:.2f} s instead of rebuilding"
        )
    log(f"resident memory: {r['rss_empty_mb']:.0f} MB empty, {r['rss_mb']:.0f} MB loaded")


def report_databases(
    sqlite: dict[str, Any], shared: dict[str, Any], log: Callable[[str], None] = print
) -> None:
    """Print PostgreSQL's retrieval latency against SQLite's from the same run."""
    ratio50 = shared["kb_p50_ms"] / sqlite["kb_p50_ms"]
    ratio95 = shared["kb_p95_ms"] / sqlite["kb_p95_ms"]
    log(
        f"PostgreSQL / SQLite at {sqlite['chunks']} chunks: p50 {ratio50:.2f}x "
        f"(target <= 1.3x), p95 {ratio95:.2f}x"
    )
