"""The facade's document side: stored chunks and originals, owners and review dates, the
stale report, kept versions, passages of earlier answers, and folder sync (issue 15)."""

from __future__ import annotations

import mimetypes
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from kb.backends.blobs import BlobStore
from kb.config import Settings
from kb.errors import NotFoundError, PermissionDeniedError
from kb.index import (
    Change,
    ChunkStore,
    Document,
    KeptVersion,
    Lifecycle,
    Registry,
    Snapshot,
    Stale,
    StoredChunk,
    Versions,
    WriteLock,
    parse_chunk_id,
)
from kb.ingest import Ingestor, IngestOutcome, Progress, Source, stored_sources
from kb.ingest.sync import SyncedFolder, Syncer, SyncReport, folder_key
from kb.layout import original_key
from kb.security import SYSTEM, AuditLog, Principal

CITED_DAYS = 30  # the stale report's "cited in the last 30 days": a month of questions


@dataclass(frozen=True)
class Passage:
    """A passage an answer quoted, opened later: from the live version, or a kept one."""

    chunk_id: str
    doc_id: str
    name: str
    version: str
    text: str
    page: int | None
    heading: str
    state: str  # "current" or "superseded"
    superseded_at: str | None = None  # when a newer version replaced it
    current_version: str | None = None  # the live version now

    def note(self) -> str:
        """'' for the live version, else 'superseded on DATE by the current version'."""
        if self.state == "current":
            return ""
        return f"superseded on {str(self.superseded_at)[:10]} by the current version"


class DocumentLifecycle:
    """Mixed into KnowledgeBase: the parts of it that manage what documents are and were."""

    settings: Settings
    registry: Registry
    store: ChunkStore
    originals: BlobStore
    audit: AuditLog
    lock: WriteLock
    lifecycle: Lifecycle
    versions_store: Versions
    syncer: Syncer
    ingestor: Ingestor
    _require_admin: Callable[[Principal, str], None]
    _writing: Callable[[], AbstractContextManager[None]]
    document: Callable[..., Document]
    documents: Callable[..., list[Document]]
    snapshot: Callable[[], Snapshot]

    def set_lifecycle(self, id_or_name: str, change: Change, *, actor: Principal) -> Document:
        """Set a document's owner, review date or superseded mark, or mark it reviewed
        (admins only); an admin's value wins over what the file says about itself."""
        self._require_admin(actor, "change document metadata")
        with self.lock.hold():  # an ingest in flight would carry the old values over
            doc = self.lifecycle.apply(self.registry.find(id_or_name), change)
        after = {f: getattr(doc, f) for f in Change.FIELDS}
        self.audit.record(actor.name, "set_meta", name=doc.name, doc_id=doc.doc_id, **after)
        return doc

    def stale(self, *, user: Principal = SYSTEM) -> dict[str, list[Stale]]:
        """doc id -> why it is stale, for the stale documents `user` may read."""
        return self.lifecycle.stale(self.documents(user=user))

    def cited(self, days: int = CITED_DAYS) -> dict[str, int]:
        """doc id -> how many answers of the last `days` days cited it."""
        return self.audit.cited(time.time() - days * 86400)

    def chunks(self, ids: Sequence[str], *, user: Principal = SYSTEM) -> dict[str, StoredChunk]:
        """Stored chunks (text and metadata) by id, for showing retrieval steps; chunks of
        documents `user` may not read are left out as if missing."""
        wanted = list(dict.fromkeys(ids))
        if not user.is_admin:
            groups = self.snapshot().groups
            wanted = [
                cid
                for cid in wanted
                if cid.count(":") >= 2 and user.can_see(groups.get(parse_chunk_id(cid)[0], ()))
            ]
        return self.store.get(wanted)

    def original(self, id_or_name: str, *, user: Principal = SYSTEM) -> tuple[str, bytes, str]:
        """(file name, bytes, MIME type) of a document's stored original."""
        doc = self.document(id_or_name, user=user)
        try:
            data = self.originals.read(self.ingestor.original_key(doc))
        except OSError as exc:
            raise NotFoundError(f"the stored original of {doc.name} is missing") from exc
        mime = mimetypes.guess_type(doc.name)[0] or "application/octet-stream"
        return doc.name, data, mime

    # -- kept versions -------------------------------------------------------------------
    def versions(self, id_or_name: str, *, user: Principal = SYSTEM) -> list[KeptVersion]:
        """A document's replaced versions still kept, newest first."""
        return self.versions_store.of(self.document(id_or_name, user=user).doc_id)

    def passage(self, chunk_id: str, *, user: Principal = SYSTEM) -> Passage:
        """The passage an answer quoted, from the version it quoted: the live one, or a kept
        one marked superseded (NotFoundError once its document or version is gone)."""
        gone = NotFoundError(
            f"the passage {chunk_id} is gone: its document was deleted or that version retired"
        )
        try:
            doc_id, version = parse_chunk_id(chunk_id)
        except ValueError:
            raise gone from None
        doc = self.registry.get(doc_id)
        if doc is None or not user.can_see(doc.groups):
            raise gone
        kept = None if doc.version == version else self.versions_store.get(doc_id, version)
        found = (
            self.store.get([chunk_id])
            if doc.version == version
            else self.versions_store.chunks([chunk_id])
        ).get(chunk_id)
        if found is None or (doc.version != version and kept is None):
            raise gone
        page = found.meta.get("page")
        return Passage(
            chunk_id,
            doc_id,
            str(found.meta.get("name", doc.name)),
            version,
            found.text,
            int(page) if isinstance(page, int | float) and page > 0 else None,
            str(found.meta.get("heading", "")),
            "current" if kept is None else "superseded",
            kept.superseded_at if kept else None,
            doc.version,
        )

    def original_of_version(
        self, doc_id: str, version: str, *, user: Principal = SYSTEM
    ) -> tuple[str, bytes]:
        """(file name, bytes) of a kept version's original."""
        self.document(doc_id, user=user)  # the same refusal as for the live version
        kept = self.versions_store.get(doc_id, version)
        if kept is None:
            raise NotFoundError(f"version {version} of {doc_id} is not kept")
        key = original_key(doc_id, version, kept.name, kept.kind)
        try:
            return kept.name, self.originals.read(key)
        except OSError as exc:
            raise NotFoundError(f"the stored original of {kept.name} is missing") from exc

    def _remove(self, doc: Document) -> int:
        """Delete a document and every kept version of it (lock held); returns how many
        kept versions went with it."""
        from kb.index.versions import forget

        counted: list[int] = []
        self.registry.begin(doc.doc_id, doc.version, "delete", doc.name, doc.groups)
        self.registry.remove(doc.doc_id, also=lambda conn: counted.append(forget(conn, doc.doc_id)))
        self.store.delete_version(doc.doc_id, doc.version)
        self.originals.delete_prefix(doc.doc_id)  # the live and every kept original
        self.registry.end(doc.doc_id, doc.version)
        return counted[0] if counted else 0

    # -- folder sync ---------------------------------------------------------------------
    def sync(
        self,
        folder: str | Path,
        progress: Progress | None = None,
        *,
        prune: bool = False,
        dry_run: bool = False,
        actor: Principal = SYSTEM,
    ) -> SyncReport:
        """Bring the documents read from `folder` in step with it (admins only): new files
        indexed, changed ones replaced, unchanged ones skipped, gone ones reported missing
        (deleted with `prune`). `dry_run` says what would happen and changes nothing."""
        self._require_admin(actor, "sync folders")
        if actor is not SYSTEM:  # a web admin: only folders the operator allowed
            self._check_syncable(folder)
        if dry_run:
            return self.syncer.plan(folder)
        with self._writing():
            report = self.syncer.run(
                folder,
                lambda sources: self.ingestor.run(sources, progress),
                self._remove,
                prune,
            )
        self.audit.record(
            actor.name, "sync", folder=report.folder, summary=report.summary(), prune=prune
        )
        return report

    def _check_syncable(self, folder: str | Path) -> None:
        key = folder_key(folder)
        known = {f.folder for f in self.syncer.folders()}
        roots = [folder_key(r) for r in self.settings.sync_roots.split(",") if r.strip()]
        if key in known or any(key == r or key.startswith(r.rstrip("/") + "/") for r in roots):
            return
        allowed = ", ".join(roots) or "none"
        raise PermissionDeniedError(
            f"{key} is not a synced folder nor inside KB_SYNC_ROOTS ({allowed}); sync it once "
            "with `kb sync` on the server, or add its parent to KB_SYNC_ROOTS"
        )

    def refresh(
        self, ids_or_names: Sequence[str], progress: Progress | None = None, *, actor: Principal
    ) -> list[IngestOutcome]:
        """Re-index documents from their source files where those still exist (a changed
        file is replaced), from the stored originals otherwise (admins only)."""
        self._require_admin(actor, "re-index documents")
        with self._writing():
            docs = [self.registry.find(x) for x in ids_or_names]
            at_source = [d for d in docs if d.source and Path(d.source).is_file()]
            sources = [
                Source(d.name, path=Path(str(d.source)), origin=d.source, doc_id=d.doc_id)
                for d in at_source
            ]
            rest = [d for d in docs if d not in at_source]
            sources += stored_sources(rest, self.originals, self.ingestor.original_key)
            outcomes = self.ingestor.run(sources, progress, reindex=True)
        self.audit.outcomes(actor.name, outcomes, "reindex")
        return outcomes

    def synced_folders(self) -> list[SyncedFolder]:
        """The folders synced so far, with their last run."""
        return self.syncer.folders()
