"""The parse report: how one document was read, so an admin sees a bad parse before users do."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from kb.ingest.blocks import Block

# A table longer than this is split into several chunks (each repeating the header row):
# worth knowing, as a question about row 80 finds only its piece.
LONG_TABLE_ROWS = 50


@dataclass
class ParseReport:
    """Parser and strategy, pages (with text, by OCR), tables, characters, chunks, warnings
    and the seconds spent parsing and embedding."""

    kind: str
    parser: str
    pages: int | None = None
    pages_with_text: int | None = None
    ocr_pages: int = 0
    tables: int = 0
    characters: int = 0
    chunks: int = 0
    warnings: list[str] = field(default_factory=list)
    parse_seconds: float = 0.0
    embed_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def table_warnings(blocks: list[Block]) -> list[str]:
    """Warnings about tables a reader should know of."""
    long = sum(1 for b in blocks if b.kind == "Table" and len(b.rows or ()) > LONG_TABLE_ROWS)
    if not long:
        return []
    return [f"{long} table{'s' if long > 1 else ''} over {LONG_TABLE_ROWS} rows split"]


def summary(report: dict[str, Any]) -> str:
    """One line for people: '80 pages (66 with text, 14 by OCR), 3 tables, 412 chunks'."""
    if not report:
        return "no parse report (indexed before kb kept them; re-index to get one)"
    parts = []
    pages = report.get("pages")
    if pages:
        inner = [f"{report.get('pages_with_text') or 0} with text"]
        if report.get("ocr_pages"):
            inner.append(f"{report['ocr_pages']} by OCR")
        parts.append(f"{pages} pages ({', '.join(inner)})")
    parts.append(f"{report.get('tables', 0)} tables")
    parts.append(f"{report.get('characters', 0):,} characters")
    parts.append(f"{report.get('chunks', 0)} chunks")
    parts.append(f"read by {report.get('parser', '?')}")
    parse_s, embed_s = report.get("parse_seconds", 0), report.get("embed_seconds", 0)
    parts.append(f"parse {parse_s:.1f} s, embed {embed_s:.1f} s")
    text = ", ".join(parts)
    warnings = report.get("warnings") or []
    return text + ("; warnings: " + "; ".join(warnings) if warnings else "")
