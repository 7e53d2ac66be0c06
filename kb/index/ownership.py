"""One registry per Chroma collection: the guard that keeps one data dir from sweeping
another's chunks (each registry deletes, as orphans, the chunks it does not know)."""

from __future__ import annotations

from pathlib import Path

from kb.config import Settings
from kb.errors import ConfigError
from kb.index.store import ChunkStore


def not_owner(settings: Settings, root: Path) -> str:
    """Why a data dir may not write to its configured collection, and what to do."""
    where = (
        f" on the Chroma server {settings.chroma_host}:{settings.chroma_port}"
        if settings.chroma_host
        else ""
    )
    return (
        f"the Chroma collection '{settings.collection}'{where} belongs to another kb data "
        f"dir, not to {root}: nothing was written or deleted. Each data dir keeps its own "
        "registry, so data dirs must not share a collection: give this one its own "
        "KB_COLLECTION (replicas sharing one registry are not supported yet)"
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
