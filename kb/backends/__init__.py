"""Backends: where the concrete SDKs (Chroma, the embedding model, generators) are built.

┌ kb/backends ───────────────────────────────────────────────────────────────┐
│ the concrete SDKs, built here only: Chroma (embedded or server), the       │
│ database (SQLite or PostgreSQL, migrated), the blob store of originals,    │
│ the embedding model (loaded on first use), language models (build_llm)    │
└────────────────────────────────────────────────────────────────────────────┘
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.vector_stores.types import BasePydanticVectorStore

    from kb.backends.blobs import BlobStore
    from kb.backends.database import Database
    from kb.config import Settings

_models: dict[int, BaseEmbedding] = {}
_databases: dict[str, Database] = {}
_databases_lock = threading.Lock()


def build_database(settings: Settings) -> Database:
    """The database of these settings, its schema checked and (where allowed) upgraded;
    one engine per URL and process (its pool is shared by every user of it)."""
    from kb.backends.database import Database, settings_url
    from kb.backends.migrate import Legacy, prepare
    from kb.layout import DataDir

    paths = DataDir.of(settings)
    url = settings_url(settings)
    key = url.render_as_string(hide_password=False)
    with _databases_lock:
        if key not in _databases:
            db = Database(url)
            prepare(db, Legacy(paths.registry, paths.audit, paths.users))
            _databases[key] = db
        return _databases[key]


def close_database(database: str) -> None:
    """Close and forget this process's engines on a database of that name (before it is
    dropped, as the query benchmark's scratch database is)."""
    with _databases_lock:
        for key, db in list(_databases.items()):
            if db.url.database == database:
                db.dispose()
                del _databases[key]


def build_blob_store(settings: Settings) -> BlobStore:
    """Where stored originals live: S3 (KB_S3_BUCKET), a shared folder (KB_ORIGINALS_DIR),
    or originals/ in the data dir."""
    from kb.backends.blobs import FolderBlobStore, S3BlobStore
    from kb.layout import DataDir

    paths = DataDir.of(settings)
    if settings.s3_bucket:
        return S3BlobStore.from_settings(settings)
    return FolderBlobStore(settings.originals_dir or paths.originals)


def build_embedding(settings: Settings) -> BaseEmbedding:
    """The embedding model (loaded once per process and batch size: it takes seconds)."""
    from kb.backends.embedding import MiniLMEmbedding

    key = settings.embed_batch_size
    if key not in _models:
        _models[key] = MiniLMEmbedding(embed_batch_size=key)
    return _models[key]


def build_vector_store(
    settings: Settings, fresh: bool = False, collection: str | None = None
) -> BasePydanticVectorStore:
    """LlamaIndex's ChromaVectorStore on the embedded store or the configured server
    (`fresh`: reload an embedded store from disk, to see other processes' writes), over
    `collection` (default KB_COLLECTION; a full re-index builds another beside it)."""
    from kb.backends.chroma import chroma_vector_store

    return chroma_vector_store(settings, fresh, collection)


def drop_collection(settings: Settings, collection: str) -> None:
    """Delete a Chroma collection (an index replaced by a full re-index); gone is fine."""
    from kb.backends.chroma import drop_collection as drop

    drop(settings, collection)


def warm_up(embed_model: BaseEmbedding, background: bool = True) -> None:
    """Load a model that loads on first use now (in a daemon thread by default)."""
    load = getattr(embed_model, "load", None)
    if load is None:
        return  # a model that was whole from the start
    if background:
        threading.Thread(target=load, name="kb-preload-model", daemon=True).start()
    else:
        load()


def check_topology(settings: Settings) -> None:
    """Refuse a mix of shared and private parts: replicas sharing a database must share the
    vectors too, and a shared Chroma needs the shared database (its registry says what is
    live; a private one per replica would let each replica sweep the others' chunks)."""
    from kb.backends.database import settings_url
    from kb.errors import ConfigError

    shared_db = settings_url(settings).get_backend_name() == "postgresql"
    if shared_db and not settings.chroma_host:
        raise ConfigError(
            "KB_DATABASE_URL names a shared PostgreSQL but the vectors are in this machine's "
            "embedded Chroma: other replicas would see documents whose chunks they cannot "
            "search. Set KB_CHROMA_HOST (and KB_CHROMA_PORT) to the Chroma server every "
            "replica uses, or unset KB_DATABASE_URL for a one-machine set-up"
        )
    if settings.chroma_host and not shared_db:
        raise ConfigError(
            "KB_CHROMA_HOST names a shared Chroma server but the registry is this data dir's "
            "SQLite file: a second replica would have a registry of its own over the same "
            "chunks. Set KB_DATABASE_URL to the PostgreSQL every replica uses "
            "(postgresql+psycopg://USER:PASSWORD@HOST/DB)"
        )
    if shared_db and not (settings.s3_bucket or settings.originals_dir):
        raise ConfigError(
            "KB_DATABASE_URL names a shared PostgreSQL but the stored originals stay in this "
            "data dir: other replicas could not re-index or download them. Set KB_S3_BUCKET "
            "(with KB_S3_ENDPOINT and keys) or KB_ORIGINALS_DIR to a shared folder"
        )
