"""Readers' views: the keyword index, live versions and access groups, kept in step with
the registry and with other processes' writes to the vector store."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from kb.backends.blobs import BlobStore
from kb.index import published
from kb.index.identity import Identities
from kb.index.keyword import KeywordIndex, Params
from kb.index.registry import Names, Registry
from kb.index.store import ChunkStore, StoredChunk, is_live, stored_page
from kb.index.text import page_openers, search_text, with_page_opener
from kb.security.principals import Principal

REOPEN_EVERY = 2.0  # seconds; reloading a large embedded store takes a moment


@dataclass
class Snapshot:
    """What readers may see now: the keyword index, the live version of each document and
    its access groups, all from one registry snapshot (`stamp`)."""

    keyword: KeywordIndex
    active: dict[str, str]
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    stamp: tuple[int, int] = (0, 0)
    names: Names = field(default_factory=dict)  # doc id -> (name, pages or None)
    # Per set of user groups: the view is immutable, so each answer holds until it is replaced.
    _allowed: dict[frozenset[str], frozenset[str]] = field(default_factory=dict, repr=False)

    @cached_property
    def identities(self) -> Identities:
        """The documents' names as the Searcher matches questions against them."""
        return Identities.of({d: name for d, (name, _) in self.names.items()})

    def paged(self, doc_id: str) -> bool:
        """Whether a document has pages (PDF, PPTX), so its passages can be told apart by page."""
        return bool(self.names.get(doc_id, ("", None))[1])

    def visible(self, chunk_id: str) -> bool:
        """Whether a chunk belongs to a document's live version."""
        return is_live(chunk_id, self.active)

    def allowed(self, user: Principal) -> set[str] | None:
        """Ids of the documents `user` may read (None: every document, for admins)."""
        if user.is_admin:
            return None
        key = frozenset(user.groups)
        if key not in self._allowed:
            self._allowed[key] = frozenset(
                d for d, groups in self.groups.items() if user.can_see(groups)
            )
        return set(self._allowed[key])


def _sync_key(counters: dict[str, int]) -> tuple[int, int]:
    return counters["writes"], counters["generation"]


def keyword_texts(chunks: list[StoredChunk]) -> list[str]:
    """What the keyword index holds for each stored chunk: its search text, after its page's
    first words when it is not the page's first passage (they hold the page's title)."""
    pages = [stored_page(c.meta) for c in chunks]
    openers = page_openers([(c.id, page, c.text) for c, page in zip(chunks, pages, strict=True)])
    return [
        with_page_opener(
            c.id,
            page,
            search_text(str(c.meta.get("name", "")), str(c.meta.get("heading", "")), c.text),
            openers,
        )
        for c, page in zip(chunks, pages, strict=True)
    ]


class Snapshots:
    """Hands out the current Snapshot; reloads the vector store when another process wrote."""

    def __init__(
        self,
        registry: Registry,
        store: ChunkStore,
        keyword_dir: Path,
        bm25: Params,
        shared: BlobStore | None = None,
    ) -> None:
        self.registry, self.store, self.keyword_dir = registry, store, keyword_dir
        self.bm25 = bm25  # (k1, b): a saved index built with others is rebuilt
        # Replicas: the writer publishes its keyword index here, the others load it.
        self.shared = shared
        self._published = -1  # the generation this process last published
        self._writing = False  # this process holds the write lock and is writing
        self._view: Snapshot | None = None
        self._lock = threading.Lock()
        # (writes, generation) the loaded store is known to hold, and when it was loaded.
        self._synced = _sync_key(registry.counters())
        self._reopened_at = time.monotonic()

    def get(self) -> Snapshot:
        """The Snapshot for the registry as it is now."""
        counters = self.registry.counters()
        key = _sync_key(counters)
        if key != self._synced and not self._writing:
            # Another process wrote. A finished write reloads the store at once; one still
            # running (versions switching file by file) at most every REOPEN_EVERY seconds.
            recent = time.monotonic() - self._reopened_at < REOPEN_EVERY
            if key[0] != self._synced[0] or not recent:
                self._sync_store(key)
        stamp = (counters["generation"], counters["acl_generation"])
        current = self._view
        if current is not None and current.stamp == stamp:
            return current
        with self._lock:
            if self._view is None or self._view.stamp != self.registry.stamp():
                self._view = self._load()
            return self._view

    @contextmanager
    def writing(self, finish: Callable[[], object]) -> Iterator[None]:
        """Around one write (write lock held): the store is brought up to date first, and
        `finish` (the registry's touch) runs before the write is noted as seen."""
        self._writing = True
        try:
            self.sync_before_write()
            yield
        finally:
            finish()
            self.synced_after_write()
            self._writing = False

    def sync_before_write(self) -> None:
        """Reload the store unless it holds every write so far (write lock held): writing
        through a stale embedded copy would lose the other process's chunks."""
        key = _sync_key(self.registry.counters())
        if key != self._synced or self.registry.pending():
            self._synced = (-1, -1)  # a crashed writer bumps neither counter
            self._sync_store(key)

    def synced_after_write(self) -> None:
        """Note that the store holds everything up to this process's own write."""
        self._synced = _sync_key(self.registry.counters())

    def _sync_store(self, key: tuple[int, int]) -> None:
        with self._lock:
            if self._synced != key:
                self.store.reopen()
                self._synced = key
                self._reopened_at = time.monotonic()

    def _load(self) -> Snapshot:
        stamp, active, groups, names = self.registry.snapshot()
        generation = stamp[0]
        if self._view is not None and self._view.keyword.generation == generation:
            keyword = self._view.keyword  # only access groups changed: same chunks
        else:
            saved = KeywordIndex.load(self.keyword_dir, self.bm25)
            if (saved is None or saved.generation != generation) and self.shared:
                saved = published.fetch(self.shared, generation, self.bm25, self.keyword_dir)
            if saved is None or saved.generation != generation:
                saved = self._rebuild_keyword(generation, active)
            keyword = saved
        return Snapshot(keyword, active, groups, stamp, names)

    def publish(self) -> None:
        """Share the current keyword index with the other replicas (write lock held)."""
        view = self.get()
        generation = view.keyword.generation
        if self.shared is None or generation == self._published:
            return
        if KeywordIndex.load(self.keyword_dir, self.bm25) is None:
            view.keyword.save(self.keyword_dir)  # e.g. a read-only moment at rebuild time
        published.publish(self.shared, self.keyword_dir, generation)
        self._published = generation

    def _rebuild_keyword(self, generation: int, active: dict[str, str]) -> KeywordIndex:
        chunks = [c for c in self.store.iter_all() if is_live(c.id, active)]
        index = KeywordIndex.build(
            [c.id for c in chunks], keyword_texts(chunks), generation, self.bm25
        )
        try:
            # No write lock here: a writer may be waiting on the view lock while holding it.
            # Saves are atomic renames, and a stale one is caught by its generation on load.
            if self.registry.generation() == generation:
                index.save(self.keyword_dir)
        except OSError:
            pass  # a read-only data dir still serves; the index is rebuilt next start
        return index
