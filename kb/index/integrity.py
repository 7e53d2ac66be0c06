"""Consistency of registry, Chroma, keyword index and originals: check, sweep and recover."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb.index.ids import sha256_hex
from kb.index.store import is_live, parse_chunk_id
from kb.ingest.commit import IngestOutcome, original_file
from kb.ingest.pipeline import Source

if TYPE_CHECKING:
    from kb.knowledge_base import KnowledgeBase

log = logging.getLogger(__name__)
BUSY = "a write (ingest, re-index or delete) is in progress; check again when it finishes"


def check(base: KnowledgeBase) -> list[str]:
    """Disagreements between registry, Chroma, keyword index and originals (empty: all
    agree). Run only when no writer holds the lock: a writer's half-done work is not a fault."""
    with base.lock.try_hold() as free:
        if not free:
            return [BUSY]
        return _check(base)


def _check(base: KnowledgeBase) -> list[str]:
    problems = [
        f"interrupted {p.op} of {p.name} (started {p.started_at} UTC): the next write or "
        "`repair()` finishes it"
        for p in base.registry.pending()
    ]
    active = base.registry.active_versions()
    stored: dict[str, int] = {}
    live: set[str] = set()
    for cid in base.store.all_ids():
        if not is_live(cid, active):
            problems.append(f"orphan chunk {cid} in Chroma")
            continue
        live.add(cid)
        doc_id = parse_chunk_id(cid)[0]
        stored[doc_id] = stored.get(doc_id, 0) + 1
    for doc in base.registry.list():
        if stored.get(doc.doc_id, 0) != doc.chunks:
            problems.append(
                f"{doc.name}: registry says {doc.chunks} chunks, Chroma has "
                f"{stored.get(doc.doc_id, 0)}"
            )
        if not base.ingestor.original_path(doc).is_file():
            problems.append(f"{doc.name}: the stored original is missing; upload it again")
    problems += [f"stray file {p} among the originals" for p in _stray_originals(base)]
    keyword = set(base.view().keyword.ids)
    if keyword != live:
        problems.append(
            f"keyword index has {len(keyword - live)} extra and "
            f"{len(live - keyword)} missing chunks"
        )
    return problems


def _stray_originals(base: KnowledgeBase) -> list[Path]:
    """Files under originals/ that belong to no live version."""
    if not base.originals.is_dir():
        return []
    keep = {base.ingestor.original_path(d) for d in base.registry.list()}
    return [p for p in sorted(base.originals.rglob("*")) if p.is_file() and p not in keep]


def sweep(base: KnowledgeBase) -> int:
    """Delete chunks of no live version and originals of none (lock held); returns how many
    chunks went. Safe only under the write lock: an ingest in flight owns such chunks."""
    active = base.registry.active_versions()
    orphans = [cid for cid in base.store.all_ids() if not is_live(cid, active)]
    if orphans:
        base.store.delete_ids(orphans)
    for path in _stray_originals(base):
        path.unlink(missing_ok=True)
    if base.originals.is_dir():
        for folder in base.originals.iterdir():
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
    for tmp in base.keyword_dir.parent.glob(f"{base.keyword_dir.name}.*-*"):
        shutil.rmtree(tmp, ignore_errors=True)  # a save cut short; the index itself is whole
    return len(orphans)


def recover(base: KnowledgeBase) -> list[str]:
    """Finish or report writes a crash interrupted (lock held): an upload whose original was
    saved whole is ingested again from it; anything else is undone and reported."""
    reports: list[str] = []
    for p in base.registry.pending():
        live = base.registry.get(p.doc_id)
        if p.op == "ingest" and not (live and live.version == p.version):
            kind = live.kind if live else "bin"
            path = original_file(base.originals, p.doc_id, p.version, p.name, kind)
            if _intact(path, p.version):
                outcomes = _resume(base, p.name, path, p.groups)
                reports += [f"resumed an interrupted upload: {o.message()}" for o in outcomes]
            else:
                reports.append(
                    f"an upload of {p.name} was interrupted before its file was saved; "
                    "nothing of it is kept: upload it again"
                )
        elif p.op == "delete":
            done = live is None
            reports.append(
                f"finished an interrupted delete of {p.name}"
                if done
                else f"a delete of {p.name} was interrupted before it took effect; delete it again"
            )
        base.registry.end(p.doc_id, p.version)
    swept = sweep(base)
    if swept:
        log.info("recovery removed %d orphan chunks", swept)
    return reports


def _intact(path: Path, version: str) -> bool:
    """Whether a saved original has exactly the bytes the version tag was made from."""
    matches = list(path.parent.glob(f"{version}.*")) if path.parent.is_dir() else []
    # The version tag starts with the sha256 of the bytes; its tail names the chunking
    # settings, which may differ in the process that recovers.
    return any(version.startswith(sha256_hex(c.read_bytes())[:12]) for c in matches)


def _resume(
    base: KnowledgeBase, name: str, path: Path, groups: tuple[str, ...]
) -> list[IngestOutcome]:
    matches = sorted(path.parent.glob(f"{path.name.split('.')[0]}.*"))
    data = matches[0].read_bytes()  # read now: ingesting rewrites the same file
    return base.ingestor.run([Source(name, data=data)], groups=groups or None)


def stats(base: KnowledgeBase) -> dict[str, Any]:
    """Counts for the admin page and `kb docs list`: documents, chunks in each store, bytes."""
    docs = base.registry.list()
    view = base.view()
    by_kind: dict[str, int] = {}
    for d in docs:
        by_kind[d.kind] = by_kind.get(d.kind, 0) + 1
    return {
        "documents": len(docs),
        "chunks": sum(d.chunks for d in docs),
        "stored_chunks": base.store.count(),
        "keyword_entries": len(view.keyword),
        "bytes": sum(d.size for d in docs),
        "by_kind": by_kind,
        "generation": view.keyword.generation,
    }
