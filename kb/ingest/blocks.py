"""Block: one element of a parsed document, the unit between parsing and chunking."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Block:
    """One element of a parsed document: a title, paragraph, list item or table."""

    kind: str  # unstructured's category: Title, NarrativeText, ListItem, Table, ...
    text: str
    page: int | None = None
    depth: int = 0
    rows: tuple[tuple[str, ...], ...] | None = None  # tables only; the first row is the header
