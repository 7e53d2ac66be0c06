"""A document's lifecycle as admins manage it: owner, review date, superseded, reviewed; and
the stale report built from it (kb.index.staleness)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from kb.errors import UsageError
from kb.index.registry import Document, Registry
from kb.index.staleness import SourceChecker, Stale, stale_reasons, today_utc


@dataclass(frozen=True)
class Change:
    """What an admin sets on documents; None leaves a field as it is."""

    FIELDS: ClassVar[tuple[str, ...]] = ("owner", "review_by", "superseded_by", "reviewed_at")

    owner: str | None = None
    review_by: str | None = None
    superseded_by: str | None = None  # an id or name; "" clears it
    reviewed: bool = False  # marks it reviewed today (an `old` document is current again)


class Lifecycle:
    """Sets lifecycle fields and says why documents are stale."""

    def __init__(self, registry: Registry, stale_days: int) -> None:
        self.registry, self.stale_days = registry, stale_days
        self.sources = SourceChecker()

    def apply(self, doc: Document, change: Change, today: date | None = None) -> Document:
        """Apply `change` to `doc` (UsageError on a bad date, owner or document)."""
        fields: dict[str, str | None] = {}
        if change.owner is not None:
            owner = change.owner.strip()
            if len(owner) > 200:
                raise UsageError("the owner is too long: give a user name or an e-mail address")
            fields["owner"] = owner or None
        if change.review_by is not None:
            fields["review_by"] = _date(change.review_by) if change.review_by else None
        if change.superseded_by is not None:
            by = self.registry.find(change.superseded_by) if change.superseded_by else None
            if by is not None and by.doc_id == doc.doc_id:
                raise UsageError("a document cannot supersede itself")
            fields["superseded_by"] = by.doc_id if by else None
        if change.reviewed:
            fields["reviewed_at"] = (today or today_utc()).isoformat()
        if not fields:
            raise UsageError(
                "nothing to change: give an owner, a review date, --superseded-by or --reviewed"
            )
        self.registry.set_meta(doc.doc_id, **fields)
        return self.registry.find(doc.doc_id)

    def marks(self, doc_ids: set[str]) -> dict[str, list[str]]:
        """doc id -> why it is stale, in sentences, for the documents an answer cites."""
        docs = [d for d in map(self.registry.get, sorted(doc_ids)) if d is not None]
        return {d: [s.detail for s in reasons] for d, reasons in self.stale(docs).items()}

    def stale(self, docs: list[Document], today: date | None = None) -> dict[str, list[Stale]]:
        """doc id -> why it is stale, for each stale document among `docs`."""
        day = today or today_utc()
        names = {d.doc_id: d.name for d in self.registry.list()}
        out = {}
        for doc in docs:
            reasons = stale_reasons(
                doc,
                day,
                self.stale_days,
                self.sources.state(doc),
                names.get(doc.superseded_by or ""),
            )
            if reasons:
                out[doc.doc_id] = reasons
        return out


def _date(text: str) -> str:
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise UsageError(f"{text!r} is not a date: write it as YYYY-MM-DD") from None
