"""Pure formatting for the Admin page's lifecycle panels: the stale report, synced folders,
a document's history, a sync's lines (no streamlit here: unit-tested in tests/test_ui.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from kb.index import Document, KeptVersion, Stale
from kb.ingest.sync import SyncedFolder, SyncLine

# The icon each sync status gets in the per-file lines: new and changed are work done.
_SYNC_ICONS = {
    "new": ":green[:material/add_circle:]",
    "changed": ":blue[:material/sync:]",
    "unchanged": ":gray[:material/check:]",
    "missing": ":orange[:material/help:]",
    "removed": ":red[:material/delete:]",
    "failed": ":red[:material/error:]",
}


def stale_rows(
    docs: Sequence[Document], stale: Mapping[str, Sequence[Stale]], cited: Mapping[str, int]
) -> list[dict[str, Any]]:
    """The stale report: one row per stale document, its reasons, owner, since when (the
    earliest dated reason), and how many answers cited it lately; most cited first."""
    rows = []
    for d in docs:
        reasons = stale.get(d.doc_id)
        if not reasons:
            continue
        dates = sorted(s.since for s in reasons if s.since)
        rows.append(
            {
                "name": d.name,
                "reasons": ", ".join(s.reason for s in reasons),
                "owner": d.owner or "",
                "since": dates[0] if dates else "",
                "cited": cited.get(d.doc_id, 0),
                "details": "; ".join(s.detail for s in reasons),
                "id": d.doc_id,
            }
        )
    return sorted(rows, key=lambda r: (-r["cited"], r["name"].lower()))


def folder_rows(folders: Sequence[SyncedFolder]) -> list[dict[str, Any]]:
    """Synced folders: path, last sync, and what it changed."""
    return [
        {
            "folder": f.folder,
            "last_sync": (f.last_run or "").replace("T", " ")[:16],
            "outcome": f.summary.get("summary", ""),
            "changed": ", ".join(
                f"{line['name']} ({line['status']})" for line in f.summary.get("lines", [])[:20]
            ),
        }
        for f in folders
    ]


def sync_line_markdown(line: SyncLine) -> str:
    """One file of a sync, with an icon for its status."""
    from pages.shared.format.ui import escape_markdown

    icon = _SYNC_ICONS.get(line.status, "")
    return f"{icon} {escape_markdown(line.message())}"


def history_rows(doc: Document, kept: Sequence[KeptVersion]) -> list[dict[str, Any]]:
    """A document's versions, the live one first, then the kept ones newest first."""
    live = {
        "version": doc.version,
        "state": "current",
        "indexed": doc.ingested_at[:16].replace("T", " "),
        "replaced": "",
        "chunks": doc.chunks,
        "size_kb": round(doc.size / 1024, 1),
    }
    return [live] + [
        {
            "version": v.version,
            "state": "superseded",
            "indexed": v.ingested_at[:16].replace("T", " "),
            "replaced": v.superseded_at[:16].replace("T", " "),
            "chunks": v.chunks,
            "size_kb": round(v.size / 1024, 1),
        }
        for v in kept
    ]


def today() -> date:
    """Today's date (the earliest next review date)."""
    return date.today()


def next_review_default(review_days: int | None) -> date:
    """The next review date a 'Mark reviewed' proposes: KB_REVIEW_DAYS ahead, else a year."""
    return date.today() + timedelta(days=review_days or 365)


def review_date_of(docs: Sequence[Document]) -> date | None:
    """The review date to show in the editor: the document's own, when exactly one is chosen."""
    if len(docs) == 1 and docs[0].review_by:
        return date.fromisoformat(docs[0].review_by)
    return None
