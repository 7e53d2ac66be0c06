"""Source sync: keep the documents read from a folder in step with it (`kb sync DIR`).

New files are indexed, changed ones replaced, unchanged ones skipped by their hash; files gone
from the folder are reported `missing` (their documents turn stale: `source missing`) or, with
prune, deleted. A folder that is gone or holds no file while documents came from it (an
unmounted share) is reported and nothing is touched. Each file commits on its own, journaled
like any ingest, so an interrupted sync loses nothing and the next run picks up the rest.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from kb.errors import UsageError
from kb.index.ids import sha256_hex
from kb.index.registry import Document, Registry
from kb.ingest.commit import IngestOutcome
from kb.ingest.sources import Source, expand_paths, identify

# What a file's ingest outcome means for its folder.
_STATUS = {"indexed": "new", "replaced": "changed", "reindexed": "changed"}
_KEPT_LINES = 500  # per run in the database: the summary counts them all


@dataclass
class SyncLine:
    """One file of a sync: new, changed, unchanged, missing, removed or failed."""

    name: str
    status: str
    reason: str = ""
    chunks: int = 0
    doc_id: str | None = None

    def message(self) -> str:
        """One line for people."""
        extra = f" ({self.chunks} chunks)" if self.status in ("new", "changed") else ""
        why = f": {self.reason}" if self.reason else ""
        return f"{self.name}: {self.status}{extra}{why}"


@dataclass
class SyncReport:
    """A sync run: the folder, each file's line, and why nothing was done when it wasn't."""

    folder: str
    dry_run: bool = False
    prune: bool = False
    lines: list[SyncLine] = field(default_factory=list)
    error: str = ""  # the folder could not be synced at all (nothing was changed)
    started_at: str = ""
    finished_at: str = ""
    embedded: int = 0  # chunks embedded afresh (0 when nothing changed)

    def counts(self) -> dict[str, int]:
        """How many files ended in each status."""
        return dict(Counter(line.status for line in self.lines))

    def summary(self) -> str:
        """'2 new, 1 changed, 40 unchanged, 1 missing' (or the error)."""
        if self.error:
            return f"not synced: {self.error}"
        order = ("new", "changed", "unchanged", "missing", "removed", "failed")
        counts = self.counts()
        parts = [f"{counts[s]} {s}" for s in order if counts.get(s)]
        prefix = "dry run, nothing changed: " if self.dry_run else ""
        return prefix + (", ".join(parts) or "no files")

    @property
    def ok(self) -> bool:
        """Whether the folder was synced and no file failed."""
        return not self.error and all(line.status != "failed" for line in self.lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {**asdict(self), "counts": self.counts(), "summary": self.summary()}


@dataclass(frozen=True)
class SyncedFolder:
    """A folder kb keeps in sync, with its last run."""

    folder: str
    added_at: str
    last_run: str | None
    summary: dict[str, Any]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def folder_key(folder: str | Path) -> str:
    """A folder's identity: its absolute path, as documents record their sources."""
    return str(Path(folder).expanduser().resolve())


def under(doc: Document, folder: str) -> bool:
    """Whether `doc` was read from a file inside `folder`."""
    return bool(doc.source) and str(doc.source).startswith(folder.rstrip("/") + "/")


class Syncer:
    """Plans and runs syncs, and remembers synced folders in the database."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def _scan(self, folder: str) -> tuple[list[Source], list[Document], str]:
        """(the folder's files, documents read from it, why it cannot be synced or '')."""
        from_here = [d for d in self.registry.list() if under(d, folder)]
        path = Path(folder)
        if not path.is_dir():
            gone = "it is missing or not a folder"
            if from_here:
                gone += f" ({len(from_here)} documents came from it: is the share mounted?)"
            return [], from_here, f"the folder {gone}; nothing was changed"
        sources = expand_paths([path])
        if not sources and from_here:
            return (
                [],
                from_here,
                (
                    f"the folder holds no supported file, but {len(from_here)} documents came from "
                    "it: is the share mounted? Nothing was changed (delete them on the Admin page "
                    "if the folder really is empty now)"
                ),
            )
        return sources, from_here, ""

    def plan(self, folder: str | Path) -> SyncReport:
        """What a sync would do, changing nothing (`--dry-run`)."""
        key = folder_key(folder)
        report = SyncReport(key, dry_run=True, started_at=_now())
        sources, from_here, report.error = self._scan(key)
        if report.error:
            return report
        seen = set()
        for s in sources:
            doc = self.registry.get(identify(s, self.registry))
            seen.add(s.origin)
            try:
                sha = sha256_hex(s.read())
            except Exception as exc:  # an unreadable file fails alone, in the plan too
                report.lines.append(SyncLine(s.name, "failed", str(exc)))
                continue
            status = "new" if doc is None else "unchanged" if doc.sha256 == sha else "changed"
            report.lines.append(SyncLine(s.name, status, doc_id=doc.doc_id if doc else None))
        report.lines += [
            SyncLine(d.name, "missing", "gone from the folder", doc_id=d.doc_id)
            for d in from_here
            if d.source not in seen
        ]
        report.finished_at = _now()
        return report

    def run(
        self,
        folder: str | Path,
        ingest: Callable[[list[Source]], list[IngestOutcome]],
        remove: Callable[[Document], object],
        prune: bool = False,
    ) -> SyncReport:
        """Sync `folder` (write lock held): `ingest` the files, `remove` (with prune) the
        documents whose file is gone; the run is recorded for the Admin page."""
        key = folder_key(folder)
        report = SyncReport(key, prune=prune, started_at=_now())
        sources, from_here, report.error = self._scan(key)
        if report.error:
            self._record(report)
            return report
        for o in ingest(sources):
            status = _STATUS.get(o.status, o.status)
            report.lines.append(SyncLine(o.name, status, o.reason, o.chunks, o.doc_id))
            report.embedded += o.embedded
        present = {s.origin for s in sources}
        for d in from_here:
            if d.source in present:
                continue
            line = SyncLine(d.name, "missing", "gone from the folder", 0, d.doc_id)
            if prune:
                try:
                    remove(d)
                    line.status = "removed"
                except Exception as exc:  # one failed removal fails that document only
                    line.status, line.reason = "failed", f"not removed: {exc}"
            report.lines.append(line)
        report.finished_at = _now()
        self._record(report)
        return report

    def _record(self, report: SyncReport) -> None:
        data = report.to_dict()
        data["lines"] = [asdict(line) for line in report.lines if line.status != "unchanged"][
            :_KEPT_LINES
        ]
        with self.registry.db.write() as conn:
            known = conn.execute(
                text("SELECT 1 FROM sync_folders WHERE folder=:f"), {"f": report.folder}
            ).first()
            if known is None:
                conn.execute(
                    text("INSERT INTO sync_folders (folder, added_at) VALUES (:f, :at)"),
                    {"f": report.folder, "at": report.started_at},
                )
            conn.execute(
                text("UPDATE sync_folders SET last_run=:at, summary=:s WHERE folder=:f"),
                {
                    "at": report.finished_at or report.started_at,
                    "s": json.dumps(data),
                    "f": report.folder,
                },
            )

    def folders(self) -> list[SyncedFolder]:
        """The folders synced so far, by path."""
        with self.registry.db.read() as conn:
            rows = conn.execute(text("SELECT * FROM sync_folders ORDER BY folder")).all()
        return [SyncedFolder(r.folder, r.added_at, r.last_run, json.loads(r.summary)) for r in rows]


def parse_interval(value: str) -> float:
    """Seconds in '90s', '15m', '2h' or '1d' (`kb sync --every`)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    raw = value.strip().lower()
    try:
        seconds = float(raw[:-1]) * units[raw[-1]] if raw and raw[-1] in units else float(raw)
    except ValueError:
        seconds = -1
    if seconds < 10:
        raise UsageError(f"{value!r} is not an interval of 10 s or more: write e.g. 15m, 1h or 1d")
    return seconds
