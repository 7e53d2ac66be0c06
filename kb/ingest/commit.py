"""Committing embedded files: chunks to Chroma, the original to disk, the version to the
registry, so that readers see either the old version whole or the new one whole."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from sqlalchemy import Connection

from kb.backends.blobs import BlobStore
from kb.errors import KBError
from kb.index.ids import chunk_id
from kb.index.registry import Document, Registry
from kb.index.store import ChunkStore, StoredChunk
from kb.index.versions import Versions, forget, keep
from kb.ingest.chunking import Chunk
from kb.ingest.report import ParseReport
from kb.layout import original_key

log = logging.getLogger(__name__)


@dataclass
class IngestOutcome:
    """What happened to one file: indexed, unchanged, replaced, reindexed or failed."""

    name: str
    status: str
    doc_id: str | None = None
    chunks: int = 0
    embedded: int = 0
    reason: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the file is in the index as it should be."""
        return self.status != "failed"

    def message(self) -> str:
        """One line for people."""
        if self.status == "failed":
            return f"{self.name}: failed: {self.reason}"
        if self.status == "unchanged":
            return f"{self.name}: unchanged (already indexed)"
        extra = " (old version out of search)" if self.status == "replaced" else ""
        return f"{self.name}: {self.status} ({self.chunks} chunks){extra}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass
class Prepared:
    """A parsed and chunked file, ready to embed and commit."""

    name: str
    data: bytes
    doc_id: str
    sha: str
    version: str
    kind: str
    chunks: list[Chunk]
    pages: int | None
    old: Document | None
    report: ParseReport | None = None
    source: str | None = None  # the absolute path it was read from (None: an upload)
    meta: dict[str, str] = field(default_factory=dict)  # owner, review_by the file states

    @property
    def same_version(self) -> bool:
        """A forced re-index of the version already live (same bytes, same recipe)."""
        return self.old is not None and self.old.version == self.version


def to_nodes(p: Prepared, vectors: list[list[float]]) -> list[TextNode]:
    """LlamaIndex nodes for a file's chunks, with their vectors and kb's metadata."""
    nodes = []
    for i, (c, vec) in enumerate(zip(p.chunks, vectors, strict=True)):
        meta: dict[str, Any] = {
            "doc_id": p.doc_id,
            "name": p.name,
            "version": p.version,
            "kind": p.kind,
            "heading": c.heading,
            "element_types": ",".join(c.element_types),
            "chunk_index": i,
        }
        if c.page:
            meta["page"] = c.page  # Chroma metadata cannot hold None
        nodes.append(
            TextNode(
                id_=chunk_id(p.doc_id, p.version, i),
                text=c.text,
                embedding=vec,
                metadata=meta,
                # LlamaIndex writes the source's id as Chroma's `doc_id` field (and would
                # write "None" over ours without it): deletes and hits rely on it.
                relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=p.doc_id)},
                excluded_embed_metadata_keys=list(meta),
                excluded_llm_metadata_keys=list(meta),
            )
        )
    return nodes


class Committer:
    """Writes embedded files into the store, the originals folder and the registry."""

    def __init__(
        self,
        registry: Registry,
        store: ChunkStore,
        originals: BlobStore,
        review_days: int | None = None,
        keep_versions: tuple[int, int | None] = (0, None),
    ) -> None:
        self.registry, self.store, self.originals = registry, store, originals
        self.review_days = review_days  # KB_REVIEW_DAYS: a new document's default review date
        # (KB_KEEP_VERSIONS, KB_KEEP_VERSION_DAYS): replaced versions kept openable
        self.keep_count, self.keep_days = keep_versions
        self.versions = Versions(registry.db)

    def original_key(self, doc: Document) -> str:
        """The blob key of a version's original bytes: by id and version only, so the
        uploaded file name (display data) never becomes part of a path."""
        return original_key(doc.doc_id, doc.version, doc.name, doc.kind)

    def _lifecycle(self, p: Prepared) -> dict[str, Any]:
        """Owner and dates carried over from the version before, updated by what the file
        states about itself except where an admin set them."""
        old = p.old
        kept = ("owner", "review_by", "reviewed_at", "superseded_by", "admin_set")
        out: dict[str, Any] = {f: getattr(old, f) for f in kept} if old else {}
        for name in ("owner", "review_by"):
            if p.meta.get(name) and name not in out.get("admin_set", ()):
                out[name] = p.meta[name]
        if old is None and not out.get("review_by") and self.review_days:
            due = datetime.now(UTC).date() + timedelta(days=self.review_days)
            out["review_by"] = due.isoformat()
        return out

    def _document(self, p: Prepared, groups: tuple[str, ...]) -> Document:
        return Document(
            doc_id=p.doc_id,
            name=p.name,
            kind=p.kind,
            size=len(p.data),
            sha256=p.sha,
            version=p.version,
            pages=p.pages,
            chunks=len(p.chunks),
            ingested_at=datetime.now(UTC).isoformat(timespec="seconds"),
            groups=groups,
            report=p.report.to_dict() if p.report else {},
            source=p.source,
            **self._lifecycle(p),
        )

    def _stage(self, p: Prepared, doc: Document) -> None:
        # The journal row names the work until it is whole: a crash anywhere after it leaves
        # it, and recovery (kb.index.integrity) resumes from the saved original or reports it.
        self.registry.begin(p.doc_id, p.version, "ingest", p.name, doc.groups, p.source)
        try:
            self.originals.put(self.original_key(doc), p.data)
        except BaseException:
            self.registry.end(p.doc_id, p.version)
            raise

    def _unstage(self, p: Prepared, doc: Document) -> None:
        if not p.same_version:
            self.store.delete_version(p.doc_id, p.version)
            self.originals.delete(self.original_key(doc))
        self.registry.end(p.doc_id, p.version)

    def _unstage_all(self, staged: list[tuple[Prepared, Document]]) -> None:
        for p, doc in staged:
            try:
                self._unstage(p, doc)
            except Exception as exc:
                # Left for recovery: the journal row or the invisible chunks are finished or
                # swept by the next write (kb.index.integrity).
                log.warning("undoing the staged write of %s failed: %s", p.name, exc)

    def _keeping(self, p: Prepared) -> Callable[[Connection], object]:
        """The statements that go with the switch: the version going live is no longer a
        kept one, and a replaced version (new bytes) is kept with its passages' texts."""
        old = p.old
        kept: list[StoredChunk] = []
        if old and old.sha256 != p.sha and self.keep_count > 0:
            ids = [chunk_id(old.doc_id, old.version, i) for i in range(old.chunks)]
            kept = list(self.store.get(ids).values())
        at = datetime.now(UTC).isoformat(timespec="seconds")

        def statements(conn: Connection) -> None:
            forget(conn, p.doc_id, p.version)
            if old and old.sha256 != p.sha and self.keep_count > 0:
                forget(conn, old.doc_id, old.version)
                keep(conn, old, p.version, at, kept)

        return statements

    def _publish(self, p: Prepared, doc: Document) -> IngestOutcome:
        try:
            self.registry.upsert(doc, also=self._keeping(p))  # the switch: readers see it now
        except BaseException:
            self._unstage(p, doc)
            raise
        status = "indexed"
        if p.old and not p.same_version:
            status = "replaced" if p.old.sha256 != p.sha else "reindexed"
            # The new version is live; a failed clean-up leaves only invisible chunks,
            # which KnowledgeBase.repair() removes after the batch.
            try:
                self.store.delete_version(p.old.doc_id, p.old.version)
                if status == "reindexed" or self.keep_count == 0:
                    self.originals.delete(self.original_key(p.old))
                self._retire(p.doc_id)
            except (KBError, OSError) as exc:
                log.warning("clean-up of the old version of %s failed: %s", p.name, exc)
        elif p.same_version:
            status = "reindexed"
        self.registry.end(p.doc_id, p.version)
        return IngestOutcome(p.name, status, p.doc_id, len(p.chunks))

    def _retire(self, doc_id: str) -> None:
        """Drop kept versions past KB_KEEP_VERSIONS / KB_KEEP_VERSION_DAYS, and their files."""
        today = datetime.now(UTC).date()
        for v in self.versions.retire(doc_id, self.keep_count, self.keep_days, today):
            self.originals.delete(original_key(v.doc_id, v.version, v.name, v.kind))

    def commit(
        self, p: Prepared, vectors: list[list[float]], groups: tuple[str, ...]
    ) -> IngestOutcome:
        """Make one file's new version live, or leave everything as it was and raise."""
        nodes, doc = to_nodes(p, vectors), self._document(p, groups)
        self._stage(p, doc)
        try:
            if p.same_version:
                # Identical chunks: rewrite them in place, ids unchanged, so readers never
                # see the document missing.
                self.store.upsert(nodes)
            else:
                self.store.add(nodes)
        except BaseException:
            self._unstage(p, doc)
            raise
        return self._publish(p, doc)

    def commit_many(
        self, items: list[tuple[Prepared, list[list[float]], tuple[str, ...]]]
    ) -> list[IngestOutcome | Exception]:
        """Commit several new files with one Chroma write (a write per small file cost ~2.5x
        the CPU); if that write fails, each file is committed on its own, so one bad file
        fails alone. Returns each file's outcome or error (any type), in order."""
        together = [(p, v, g) for p, v, g in items if not p.same_version]
        done: dict[int, IngestOutcome | Exception] = {}
        if len(together) > 1:
            staged: list[tuple[Prepared, Document]] = []
            try:
                nodes = []
                for p, vectors, groups in together:
                    doc = self._document(p, groups)
                    self._stage(p, doc)
                    staged.append((p, doc))
                    nodes += to_nodes(p, vectors)
                self.store.add(nodes)
            except Exception as exc:
                log.info("a group write failed (%s); committing its files one by one", exc)
                self._unstage_all(staged)
            except BaseException:
                self._unstage_all(staged)
                raise
            else:
                for p, doc in staged:
                    try:
                        done[id(p)] = self._publish(p, doc)
                    except Exception as exc:
                        done[id(p)] = exc
        results: list[IngestOutcome | Exception] = []
        for p, vectors, groups in items:
            if id(p) not in done:
                try:
                    done[id(p)] = self.commit(p, vectors, groups)
                except Exception as exc:  # this file fails; the others of the group go on
                    done[id(p)] = exc
            results.append(done[id(p)])
        return results
