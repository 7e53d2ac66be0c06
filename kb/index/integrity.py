"""Consistency of registry, Chroma, keyword index and originals: check and sweep.

Each class is handed the parts it reads; none knows the facade. Recovery of interrupted
writes re-runs ingestion, so it lives one stage up, in `kb.ingest.recovery`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kb.backends.blobs import BlobStore
from kb.index.builds import Indexes
from kb.index.locking import WriteLock
from kb.index.published import is_published
from kb.index.registry import Document, Registry
from kb.index.snapshot import Snapshot
from kb.index.store import ChunkStore, is_live, parse_chunk_id
from kb.index.versions import Versions
from kb.layout import original_key

BUSY = "a write (ingest, re-index or delete) is in progress; check again when it finishes"


def original_of(doc: Document) -> str:
    """The blob key of a live version's original bytes."""
    return original_key(doc.doc_id, doc.version, doc.name, doc.kind)


def stray_originals(registry: Registry, originals: BlobStore) -> list[str]:
    """Blobs among the originals that belong to no live or kept version."""
    keep = {original_of(d) for d in registry.list()}
    keep |= {original_key(v.doc_id, v.version, v.name, v.kind) for v in Versions(registry.db).all()}
    # A full re-index copies its versions' originals just before its switch: a crash between
    # leaves them for its resume, not for the sweep.
    building = Indexes(registry.db).building()
    if building:
        live = {d.doc_id: d for d in registry.list()}
        for doc_id, row in Indexes(registry.db).done(building.collection).items():
            if doc_id in live:
                d = live[doc_id]
                keep.add(original_key(doc_id, str(row["version"]), d.name, d.kind))
    return [k for k in originals.keys_under() if k not in keep and not is_published(k)]


class Checker:
    """Finds disagreements between the stores and counts what they hold (reads only)."""

    def __init__(
        self,
        registry: Registry,
        store: ChunkStore,
        originals: BlobStore,
        snapshot: Callable[[], Snapshot],
        lock: WriteLock,
    ) -> None:
        self.registry, self.store, self.originals = registry, store, originals
        self.snapshot, self.lock = snapshot, lock

    def check(self) -> list[str]:
        """Disagreements between registry, Chroma, keyword index and originals (empty: all
        agree). Run only when no writer holds the lock: a writer's half-done work is not a
        fault."""
        with self.lock.try_hold() as free:
            if not free:
                return [BUSY]
            return self._check()

    def _check(self) -> list[str]:
        problems = [
            f"interrupted {p.op} of {p.name} (started {p.started_at} UTC): the next write or "
            "`repair()` finishes it"
            for p in self.registry.pending()
        ]
        active = self.registry.active_versions()
        stored: dict[str, int] = {}
        live: set[str] = set()
        for cid in self.store.all_ids():
            if not is_live(cid, active):
                problems.append(f"orphan chunk {cid} in Chroma")
                continue
            live.add(cid)
            doc_id = parse_chunk_id(cid)[0]
            stored[doc_id] = stored.get(doc_id, 0) + 1
        for doc in self.registry.list():
            if stored.get(doc.doc_id, 0) != doc.chunks:
                problems.append(
                    f"{doc.name}: registry says {doc.chunks} chunks, Chroma has "
                    f"{stored.get(doc.doc_id, 0)}"
                )
            if not self.originals.exists(original_of(doc)):
                problems.append(f"{doc.name}: the stored original is missing; upload it again")
        strays = stray_originals(self.registry, self.originals)
        where = self.originals.describe()
        problems += [f"stray file {key} among the originals ({where})" for key in strays]
        keyword = set(self.snapshot().keyword.ids)
        if keyword != live:
            problems.append(
                f"keyword index has {len(keyword - live)} extra and "
                f"{len(live - keyword)} missing chunks"
            )
        return problems

    def stats(self) -> dict[str, Any]:
        """Counts for the admin page and `kb docs list`: documents, chunks in each store,
        bytes."""
        docs = self.registry.list()
        snap = self.snapshot()
        by_kind: dict[str, int] = {}
        for d in docs:
            by_kind[d.kind] = by_kind.get(d.kind, 0) + 1
        return {
            "documents": len(docs),
            "chunks": sum(d.chunks for d in docs),
            "stored_chunks": self.store.count(),
            "keyword_entries": len(snap.keyword),
            "bytes": sum(d.size for d in docs),
            "by_kind": by_kind,
            "generation": snap.keyword.generation,
        }


class Sweeper:
    """Deletes what no live version owns: chunks, originals, half-saved keyword indexes."""

    def __init__(
        self, registry: Registry, store: ChunkStore, originals: BlobStore, keyword_dir: Path
    ) -> None:
        self.registry, self.store = registry, store
        self.originals, self.keyword_dir = originals, keyword_dir

    def sweep(self) -> int:
        """Delete chunks of no live version and originals of none (lock held); returns how
        many chunks went. Safe only under the write lock: an ingest in flight owns such
        chunks."""
        active = self.registry.active_versions()
        orphans = [cid for cid in self.store.all_ids() if not is_live(cid, active)]
        if orphans:
            self.store.delete_ids(orphans)
        for key in stray_originals(self.registry, self.originals):
            self.originals.delete(key)
        for tmp in self.keyword_dir.parent.glob(f"{self.keyword_dir.name}.*-*"):
            shutil.rmtree(tmp, ignore_errors=True)  # a save cut short; the index itself is whole
        return len(orphans)
