"""Build the Chroma client and LlamaIndex's ChromaVectorStore over kb's collection."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from llama_index.vector_stores.chroma import ChromaVectorStore

from kb.config import Settings
from kb.errors import StoreError
from kb.layout import DataDir


def _forget_embedded(path: Path) -> None:
    """Drop this process's cached Chroma system for `path`, so the next client loads the
    store from disk: an embedded Chroma does not see other processes' writes otherwise."""
    from chromadb.api.shared_system_client import SharedSystemClient

    key = str(path)
    # Not stopped: collections still held by in-flight queries keep working on it.
    SharedSystemClient._identifier_to_system.pop(key, None)
    SharedSystemClient._identifier_to_refcount.pop(key, None)


def chroma_client(settings: Settings, fresh: bool = False) -> Any:
    """A Chroma server client when KB_CHROMA_HOST is set, else the embedded store in data_dir
    (`fresh`: reloaded from disk rather than this process's cached copy)."""
    import chromadb

    chroma_settings = chromadb.Settings(anonymized_telemetry=False, allow_reset=False)
    try:
        if settings.chroma_host:
            client = chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
            )
            client.heartbeat()
            return client
        path = DataDir.of(settings).chroma
        path.mkdir(parents=True, exist_ok=True)
        if fresh:
            _forget_embedded(path)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        where = (
            f"the Chroma server at {settings.chroma_host}:{settings.chroma_port}"
            if settings.chroma_host
            else f"the Chroma store in {settings.data_dir}"
        )
        raise StoreError(f"cannot open {where} ({exc}); check it is running/readable") from exc


@contextmanager
def _opening(settings: Settings) -> Iterator[None]:
    """Serialise opening the embedded store across processes: two processes creating it at
    once race in Chroma's schema set-up ("table collections already exists")."""
    if settings.chroma_host:
        yield
        return
    paths = DataDir.of(settings).create()
    with open(paths.chroma_open_lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def chroma_vector_store(
    settings: Settings, fresh: bool = False, name: str | None = None
) -> ChromaVectorStore:
    """kb's collection (cosine space; kb passes every embedding, so no embedding function)."""
    name = name or settings.collection
    with _opening(settings):
        client = chroma_client(settings, fresh)
        try:
            collection = client.get_or_create_collection(
                name,
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
        except Exception as exc:
            raise StoreError(f"cannot open Chroma collection '{name}': {exc}") from exc
    return ChromaVectorStore(chroma_collection=collection)


def drop_collection(settings: Settings, name: str) -> None:
    """Delete collection `name`; one already gone is not an error."""
    with _opening(settings):
        client = chroma_client(settings)
        try:
            client.delete_collection(name)
        except Exception as exc:
            if name in {c.name for c in client.list_collections()}:
                raise StoreError(f"cannot delete Chroma collection '{name}': {exc}") from exc
