"""A full re-index built beside the live one: every document parsed, chunked and embedded
with today's recipe into a new collection, noted document by document (kb.index.builds),
while the registry and the active collection stay exactly as they are until the switch."""

from __future__ import annotations

from pathlib import Path

from llama_index.core.base.embeddings.base import BaseEmbedding

from kb.backends.blobs import BlobStore
from kb.config import Settings
from kb.index.builds import Indexes
from kb.index.registry import Document, Registry
from kb.index.store import ChunkStore
from kb.ingest.commit import Committer, IngestOutcome, Prepared
from kb.ingest.embed_cache import EmbeddingCache
from kb.ingest.pipeline import PIPELINE_VERSION, Ingestor, Progress
from kb.ingest.sources import stored_sources
from kb.layout import original_key


class BuildCommitter(Committer):
    """Commits into the collection being built and notes each document there, never in
    the registry: readers see none of it until Indexes.switch."""

    def __init__(
        self, registry: Registry, target: ChunkStore, originals: BlobStore, indexes: Indexes,
        collection: str,
    ) -> None:  # fmt: skip
        super().__init__(registry, target, originals)
        self.indexes, self.collection = indexes, collection

    def _stage(self, p: Prepared, doc: Document) -> None:
        # A chunk of this version left by an interrupted build would collide: start clean.
        # The original is copied to the new version's key at the switch, not now: a sweep
        # between an interrupted build and its resume would take it for a stray.
        self.store.delete_version(p.doc_id, p.version)

    def _unstage(self, p: Prepared, doc: Document) -> None:
        self.store.delete_version(p.doc_id, p.version)

    def _publish(self, p: Prepared, doc: Document) -> IngestOutcome:
        self.indexes.record(self.collection, doc)
        return IngestOutcome(p.name, "reindexed", p.doc_id, len(p.chunks))


def build_into(
    settings: Settings,
    registry: Registry,
    target: ChunkStore,
    collection: str,
    cache: EmbeddingCache,
    embed_model: BaseEmbedding,
    originals: BlobStore,
    log_path: Path,
    progress: Progress | None = None,
) -> list[IngestOutcome]:
    """Write every registered document not yet in `collection` into it; documents an
    interrupted build finished (same bytes) are skipped and reported as such."""
    indexes = Indexes(registry.db)
    done = indexes.done(collection)
    docs = registry.list()
    todo = [d for d in docs if done.get(d.doc_id, {}).get("sha256") != d.sha256]
    kept = [
        IngestOutcome(d.name, "reindexed", d.doc_id, d.chunks, reason="rebuilt before the restart")
        for d in docs
        if d not in todo
    ]
    builder = Ingestor(settings, registry, target, cache, embed_model, originals, log_path)
    builder.committer = BuildCommitter(registry, target, originals, indexes, collection)
    sources = stored_sources(todo, originals, builder.original_key)
    offset = len(kept)

    def counted(n: int, total: int, outcome: IngestOutcome) -> None:
        if progress:
            progress(n + offset, total + offset, outcome)

    return kept + builder.run(sources, counted, reindex=True)


def copy_originals(registry: Registry, originals: BlobStore, collection: str) -> None:
    """Before the switch: each rebuilt version's original under its new key (the bytes are
    the live version's; only the chunking recipe in the version tag changed)."""
    for doc_id, row in Indexes(registry.db).done(collection).items():
        live = registry.get(doc_id)
        if live is None or live.version == row["version"]:
            continue
        old = original_key(live.doc_id, live.version, live.name, live.kind)
        new = original_key(live.doc_id, str(row["version"]), live.name, live.kind)
        if not originals.exists(new):
            originals.put(new, originals.read(old))


def recipe_of(settings: Settings) -> str:
    """What a build's chunks depend on, besides the model: pipeline, chunk size, overlap."""
    return f"pipeline {PIPELINE_VERSION}, chunks {settings.chunk_size}/{settings.chunk_overlap}"


def model_of(embed_model: BaseEmbedding) -> str:
    """A model's identity for an index: its class and name (vectors of two never mix)."""
    return f"{type(embed_model).__name__}:{embed_model.model_name}"
