"""`kb reindex --all` without downtime: the new index is built beside the active one, answers
keep coming from the active one until every document is in, then one switch (issue 15)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from llama_index.core.base.embeddings.base import BaseEmbedding

from kb import backends
from kb.backends.blobs import BlobStore
from kb.config import Settings
from kb.index import ChunkStore, Indexes, IndexInfo, Registry
from kb.ingest import EmbeddingCache, IngestOutcome, Progress
from kb.ingest.rebuild import build_into, copy_originals, model_of, recipe_of
from kb.search import Searcher


class Rebuildable(Protocol):
    """What a full re-index needs of the facade (a Protocol: no import cycle)."""

    settings: Settings
    registry: Registry
    store: ChunkStore
    indexes: Indexes
    cache: EmbeddingCache
    embed_model: BaseEmbedding
    originals: BlobStore
    log_path: Path
    searcher: Searcher

    def _writing(self) -> AbstractContextManager[None]: ...


log = logging.getLogger(__name__)


def query_model(
    active: IndexInfo | None, configured: BaseEmbedding, others: Sequence[BaseEmbedding]
) -> BaseEmbedding:
    """The model the active index was built with (KB_* may name a newer one, for the next
    full re-index); the configured one when the index records none that is loaded here."""
    for model in (configured, *others):
        if active is None or model_of(model) == active.model:
            return model
    assert active is not None  # the loop returns when it is None
    log.warning("the active index was built with %s, which is not loaded here", active.model)
    return configured


def rebuild_all(base: Rebuildable, progress: Progress | None) -> list[IngestOutcome]:
    """Build every document into a new collection with today's recipe and model, resuming an
    interrupted build of the same recipe; switch to it when all are in (write lock held
    throughout, so nothing changes under the build; readers are never blocked)."""
    s = base.settings
    recipe, model = recipe_of(s), model_of(base.embed_model)
    with base._writing():
        building = base.indexes.building()
        if building and (building.recipe, building.model) != (recipe, model):
            backends.drop_collection(s, building.collection)  # another recipe: start over
            base.indexes.abandon(building.collection)
            building = None
        if building is None:
            name = f"{s.collection}-{secrets.token_hex(4)}"
            building = base.indexes.start(name, recipe, model)
        target = ChunkStore(backends.build_vector_store(s, collection=building.collection))
        target.claim(base.registry.id)
        outcomes = build_into(
            s,
            base.registry,
            target,
            building.collection,
            base.cache,
            base.embed_model,
            base.originals,
            base.log_path,
            progress,
        )
        failed = [o for o in outcomes if not o.ok]
        if failed:
            reason = (
                f"{len(failed)} of {len(outcomes)} documents failed, so answers still come from "
                "the previous index; fix or delete them and re-index all again (the documents "
                "already rebuilt are kept)"
            )
            return [*outcomes, IngestOutcome("(new index)", "failed", reason=reason)]
        old = base.indexes.active_name(s.collection)
        copy_originals(base.registry, base.originals, building.collection)
        base.indexes.switch(building.collection)
        base.store.retarget(target.vs)  # this process's readers, at once; others on the bump
        base.searcher.embed_model = base.embed_model
        backends.drop_collection(s, old)
    return outcomes
