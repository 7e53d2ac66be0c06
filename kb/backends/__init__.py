"""Backends: where the concrete SDKs (Chroma, the embedding model, generators) are built.

┌ kb/backends ───────────────────────────────────────────────────────────────┐
│ the concrete SDKs, built here only: Chroma (embedded or server), the       │
│ embedding model (loaded on first use), language models (build_llm)         │
└────────────────────────────────────────────────────────────────────────────┘
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.vector_stores.types import BasePydanticVectorStore

    from kb.config import Settings

_models: dict[int, BaseEmbedding] = {}


def build_embedding(settings: Settings) -> BaseEmbedding:
    """The embedding model (loaded once per process and batch size: it takes seconds)."""
    from kb.backends.embedding import MiniLMEmbedding

    key = settings.embed_batch_size
    if key not in _models:
        _models[key] = MiniLMEmbedding(embed_batch_size=key)
    return _models[key]


def build_vector_store(settings: Settings, fresh: bool = False) -> BasePydanticVectorStore:
    """LlamaIndex's ChromaVectorStore on the embedded store or the configured server
    (`fresh`: reload an embedded store from disk, to see other processes' writes)."""
    from kb.backends.chroma import chroma_vector_store

    return chroma_vector_store(settings, fresh)


def warm_up(embed_model: BaseEmbedding, background: bool = True) -> None:
    """Load a model that loads on first use now (in a daemon thread by default)."""
    load = getattr(embed_model, "load", None)
    if load is None:
        return  # a model that was whole from the start
    if background:
        threading.Thread(target=load, name="kb-preload-model", daemon=True).start()
    else:
        load()
