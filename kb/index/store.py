"""The dense leg and chunk storage: kb's chunks in Chroma through LlamaIndex's vector store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.types import BasePydanticVectorStore

from kb.errors import StoreError
from kb.index.ids import split_chunk_id

_FALLBACK_BATCH = 5000  # under every Chroma client's limit seen (embedded: 5,461)
_PAGE = 2000  # ids per Chroma get() call: large enough to be quick, small enough for memory
# Collection metadata naming the one registry whose writes (and sweeps) the collection takes:
# a registry that does not know a chunk would otherwise delete it as an orphan.
OWNER_KEY = "kb_registry_id"


@dataclass
class StoredChunk:
    """A chunk as stored: id, text and the metadata kb wrote."""

    id: str
    text: str
    meta: dict[str, Any]


def parse_chunk_id(chunk_id: str) -> tuple[str, str]:
    """(doc_id, version) encoded in a chunk id."""
    doc_id, version, _ = split_chunk_id(chunk_id)
    return doc_id, version


def stored_page(meta: dict[str, Any]) -> int | None:
    """A chunk's 1-based page from its metadata (None: the document has no pages)."""
    page = meta.get("page")
    return int(page) if isinstance(page, int | float) and page > 0 else None


def is_live(chunk_id: str, active: dict[str, str]) -> bool:
    """Whether a chunk belongs to its document's live version (`active`: doc_id -> version)."""
    doc_id, version = parse_chunk_id(chunk_id)
    return active.get(doc_id) == version


def _meta(node_meta: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in node_meta.items() if not k.startswith("_")}


class ChunkStore:
    """Adds, finds and removes chunks; knows nothing of which versions are live."""

    def __init__(
        self,
        vector_store: BasePydanticVectorStore,
        reopen: Callable[[], BasePydanticVectorStore] | None = None,
    ) -> None:
        self.vs = vector_store
        self._reopen = reopen

    def retarget(self, vector_store: BasePydanticVectorStore) -> None:
        """Serve another collection from now on (a full re-index switched to it)."""
        self.vs = vector_store

    def can_reopen(self) -> bool:
        """Whether kb built this store itself (an injected one cannot be rebuilt beside)."""
        return self._reopen is not None

    def reopen(self) -> bool:
        """Load the store afresh (to see another process's writes); False when it cannot."""
        if self._reopen is None:
            return False
        self.vs = self._reopen()
        return True

    @property
    def _collection(self) -> Any:
        return self.vs.client  # the Chroma collection, for paging and counting

    def owner(self) -> str | None:
        """The id of the registry that owns the collection (None: not claimed yet)."""
        try:
            meta = self._collection.metadata or {}
        except Exception as exc:
            raise StoreError(f"cannot read the Chroma collection's metadata: {exc}") from exc
        value = meta.get(OWNER_KEY)
        return str(value) if value else None

    def claim(self, registry_id: str) -> str:
        """Record `registry_id` as the collection's owner unless one is recorded; returns the
        owner now recorded (another registry's id when it claimed first)."""
        if self.owner() is None:
            self.reopen()  # a copy loaded before another registry's claim would not show it
        if self.owner() is None:
            try:
                meta = dict(self._collection.metadata or {})
                self._collection.modify(metadata={**meta, OWNER_KEY: registry_id})
            except Exception as exc:
                raise StoreError(f"cannot claim the Chroma collection: {exc}") from exc
            self.reopen()  # read the claim back as the store has it: two may race
        return self.owner() or registry_id

    def max_batch(self) -> int:
        """Most records one Chroma write may carry (the client's own limit; LlamaIndex splits
        writes at 41,665, over the embedded client's 5,461)."""
        try:
            return int(self._collection._client.get_max_batch_size())
        except Exception:  # a client without the call: a size every Chroma accepts
            return _FALLBACK_BATCH

    def add(self, nodes: list[TextNode]) -> None:
        """Store nodes (each with its embedding), in writes under Chroma's batch limit."""
        try:
            size = self.max_batch()
            for start in range(0, len(nodes), size):
                self.vs.add(nodes[start : start + size])
        except Exception as exc:
            raise StoreError(f"could not write chunks to Chroma: {exc}") from exc

    def upsert(self, nodes: list[TextNode]) -> None:
        """Write nodes over any stored chunks with the same ids."""
        from llama_index.core.vector_stores.utils import node_to_metadata_dict

        try:
            for start in range(0, len(nodes), _PAGE):
                part = nodes[start : start + _PAGE]
                self._collection.upsert(
                    ids=[n.node_id for n in part],
                    embeddings=[n.get_embedding() for n in part],
                    documents=[n.get_content() for n in part],
                    metadatas=[
                        node_to_metadata_dict(n, remove_text=True, flat_metadata=True) for n in part
                    ],
                )
        except Exception as exc:
            raise StoreError(f"could not write chunks to Chroma: {exc}") from exc

    def delete_version(self, doc_id: str, version: str) -> None:
        """Remove every chunk of one version of a document."""
        # A where-only delete on the collection: LlamaIndex's delete_nodes(filters=...) sends
        # an empty id list alongside, which Chroma 1.5 rejects.
        where = {"$and": [{"doc_id": doc_id}, {"version": version}]}
        try:
            self._collection.delete(where=where)
        except Exception as exc:
            raise StoreError(f"could not delete chunks of {doc_id} from Chroma: {exc}") from exc

    def delete_ids(self, ids: list[str]) -> None:
        """Remove chunks by id."""
        for start in range(0, len(ids), _PAGE):
            self._collection.delete(ids=ids[start : start + _PAGE])

    def query(
        self, embedding: list[float], k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """Ids of the `k` nearest chunks (among those matching the Chroma `where` filter)
        with their cosine similarity, best first."""
        if k <= 0:
            return []
        # Ids and distances only: fusion needs no text, and the few winners are fetched
        # afterwards. Going through ChromaVectorStore.query would decode ~100 nodes of
        # metadata per question, which doubled retrieval time at 100k chunks.
        for attempt in (1, 2):
            try:
                result = self._collection.query(
                    query_embeddings=[embedding], n_results=k, where=where, include=["distances"]
                )
                break
            except Exception as exc:
                # An embedded store loaded while another process deleted chunks can hold
                # ids it no longer finds; loaded afresh, it answers.
                if attempt == 2 or not self.reopen():
                    raise StoreError(f"Chroma query failed: {exc}") from exc
        ids, distances = result["ids"][0], result["distances"][0]
        return [(i, 1.0 - float(d)) for i, d in zip(ids, distances, strict=True)]  # cosine space

    def get(self, ids: list[str]) -> dict[str, StoredChunk]:
        """Chunks by id (missing ids are absent)."""
        if not ids:
            return {}
        got = self._collection.get(ids=ids, include=["documents", "metadatas"])
        return {
            i: StoredChunk(i, doc or "", _meta(meta or {}))
            for i, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        }

    def iter_all(self) -> Iterator[StoredChunk]:
        """Every stored chunk, page by page."""
        offset = 0
        while True:
            got = self._collection.get(
                include=["documents", "metadatas"], limit=_PAGE, offset=offset
            )
            if not got["ids"]:
                return
            for i, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                yield StoredChunk(i, doc or "", _meta(meta or {}))
            offset += len(got["ids"])

    def all_ids(self) -> list[str]:
        """Every stored chunk id."""
        ids: list[str] = []
        offset = 0
        while True:
            got = self._collection.get(include=[], limit=_PAGE, offset=offset)
            if not got["ids"]:
                return ids
            ids.extend(got["ids"])
            offset += len(got["ids"])

    def count(self) -> int:
        """How many chunks are stored."""
        return int(self._collection.count())
