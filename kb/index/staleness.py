"""Why a document is stale, each reason computed and dated (issue 15).

`review overdue`: its review-by date passed. `source changed`: the file at its source differs
from the indexed bytes. `source missing`: gone from its folder. `superseded`: an admin said
another document replaces it. `old`: no review date, and indexed longer ago than
KB_STALE_DAYS.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from kb.index.registry import Document

REASONS = ("review overdue", "source changed", "source missing", "superseded", "old")
_CHUNK = 1 << 20  # hash sources a megabyte at a time: a 500 MB scan never sits in memory


@dataclass(frozen=True)
class Stale:
    """One reason a document is stale, since when (YYYY-MM-DD, when known), and a sentence."""

    reason: str
    since: str | None
    detail: str

    def to_dict(self) -> dict[str, str | None]:
        """A JSON-ready dict."""
        return asdict(self)


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(str(text)[:10]) if text else None
    except ValueError:
        return None


def stale_reasons(
    doc: Document,
    today: date,
    stale_days: int,
    source: str | None = None,
    superseded_name: str | None = None,
) -> list[Stale]:
    """Every reason `doc` is stale on `today` (empty: it is current). `source` is what
    check_source found: None (no source, or not checked), "same", "changed" or "missing"."""
    owner = f", owner {doc.owner}" if doc.owner else ""
    out: list[Stale] = []
    due = _day(doc.review_by)
    if due is not None and due < today:
        out.append(Stale("review overdue", due.isoformat(), f"review overdue since {due}{owner}"))
    if source == "changed":
        out.append(Stale("source changed", None, f"its source file changed since indexing{owner}"))
    elif source == "missing":
        out.append(Stale("source missing", None, f"gone from its folder ({doc.source}){owner}"))
    if doc.superseded_by:
        by = superseded_name or doc.superseded_by
        out.append(Stale("superseded", None, f"superseded by {by}{owner}"))
    indexed = _day(doc.reviewed_at) or _day(doc.ingested_at)
    if due is None and indexed is not None and today - indexed > timedelta(days=stale_days):
        since = indexed + timedelta(days=stale_days)
        out.append(Stale("old", since.isoformat(), f"no review date, indexed {indexed}{owner}"))
    return out


class SourceChecker:
    """Compares documents with the files they came from; remembers each file's hash by
    (size, mtime), so a second look at an unchanged share reads nothing."""

    def __init__(self) -> None:
        self._hashes: dict[str, tuple[int, int, str]] = {}

    def state(self, doc: Document) -> str | None:
        """None (an upload), "missing", "changed" or "same"."""
        if not doc.source:
            return None
        path = Path(doc.source)
        try:
            stat = path.stat()
        except OSError:
            return "missing"
        seen = self._hashes.get(doc.source)
        if seen and seen[:2] == (stat.st_size, stat.st_mtime_ns):
            digest = seen[2]
        else:
            try:
                digest = _sha256(path)
            except OSError:
                return "missing"
            self._hashes[doc.source] = (stat.st_size, stat.st_mtime_ns, digest)
        return "same" if digest == doc.sha256 else "changed"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_CHUNK):
            h.update(block)
    return h.hexdigest()


def today_utc(now: datetime | None = None) -> date:
    """Today's date in UTC (review dates are calendar days)."""
    from datetime import UTC

    return (now or datetime.now(UTC)).date()
