"""One registry per Chroma collection: the guard that keeps one knowledge base from sweeping
another's chunks (each registry deletes, as orphans, the chunks it does not know). Replicas
share one registry (one database), so they all own their collection."""

from __future__ import annotations

from pathlib import Path

from kb.config import Settings
from kb.errors import ConfigError
from kb.index.store import ChunkStore


def not_owner(settings: Settings, root: Path) -> str:
    """Why this registry may not write to its configured collection, and what to do."""
    where = (
        f" on the Chroma server {settings.chroma_host}:{settings.chroma_port}"
        if settings.chroma_host
        else ""
    )
    database = "KB_DATABASE_URL's database" if settings.database_url else f"the data dir {root}"
    return (
        f"the Chroma collection '{settings.collection}'{where} belongs to another kb registry "
        f"(another data dir or database), not to {database}: nothing was written or deleted. "
        "What is shared must be shared together: replicas of one knowledge base use the "
        "same KB_DATABASE_URL, and a separate knowledge base needs its own KB_COLLECTION"
    )


def require_owner(store: ChunkStore, registry_id: str, settings: Settings, root: Path) -> None:
    """Claim the collection for `registry_id` on its first write, or refuse (ConfigError)
    when another registry owns it."""
    if store.claim(registry_id) != registry_id:
        raise ConfigError(not_owner(settings, root))


def foreign(store: ChunkStore, registry_id: str) -> bool:
    """Whether another registry owns the collection (an unclaimed one is nobody's)."""
    owner = store.owner()
    return owner is not None and owner != registry_id
