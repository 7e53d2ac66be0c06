"""Turn a file's bytes into Blocks (typed text with page and depth) using `unstructured`."""

from __future__ import annotations

import io
import logging
import os
import re
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from kb import nlp
from kb.errors import EmptyDocumentError, IngestError
from kb.sniff import decode_text
from kb.tables import html_table_rows

os.environ.setdefault("UNSTRUCTURED_DISABLE_NOTICE", "1")
log = logging.getLogger(__name__)

PAGED_KINDS = {"pdf", "pptx"}
_setup_lock = threading.Lock()
_ready = False


@dataclass(frozen=True)
class Block:
    """One element of a parsed document: a title, paragraph, list item or table."""

    kind: str  # unstructured's category: Title, NarrativeText, ListItem, Table, ...
    text: str
    page: int | None = None
    depth: int = 0
    rows: tuple[tuple[str, ...], ...] | None = None  # tables only; the first row is the header


def _setup_unstructured() -> None:
    """Give unstructured kb's lazy language helpers (kb.nlp): bundled model, no download."""
    global _ready
    with _setup_lock:
        if not _ready:
            nlp.install()
            _ready = True


# unstructured's partitioners, imported on first use: the PDF one alone takes ~4 s.
_PARTITIONERS = ("pdf", "docx", "pptx", "xlsx", "csv", "email", "html", "md", "text")
_preloading: threading.Thread | None = None


def preload(background: bool = True) -> threading.Thread | None:
    """Import the parsers and load the language model ahead of the first file, in a daemon
    thread by default (the app and `kb ingest` start it while the embedding model loads)."""
    global _preloading

    def work() -> None:
        import importlib

        _setup_unstructured()
        for name in _PARTITIONERS:
            importlib.import_module(f"unstructured.partition.{name}")
        nlp.pos_tag("Warm up the tagger.")

    if not background:
        work()
        return None
    with _setup_lock:
        if _preloading is None:
            _preloading = threading.Thread(target=work, name="kb-preload-parsers", daemon=True)
            _preloading.start()
        return _preloading


def _partition(kind: str, data: bytes) -> list[Any]:
    _setup_unstructured()
    langs = ["eng"]
    if kind == "pdf":
        from unstructured.partition.pdf import partition_pdf

        return partition_pdf(file=io.BytesIO(data), strategy="fast", languages=langs)
    if kind == "docx":
        from unstructured.partition.docx import partition_docx

        return partition_docx(file=io.BytesIO(data))
    if kind == "pptx":
        from unstructured.partition.pptx import partition_pptx

        return partition_pptx(file=io.BytesIO(data))
    if kind == "xlsx":
        from unstructured.partition.xlsx import partition_xlsx

        return partition_xlsx(file=io.BytesIO(data))
    if kind == "csv":
        from unstructured.partition.csv import partition_csv

        return partition_csv(file=io.BytesIO(data))
    if kind == "eml":
        from unstructured.partition.email import partition_email

        return partition_email(file=io.BytesIO(data), languages=langs)
    text = decode_text(data)
    if kind == "html":
        from unstructured.partition.html import partition_html

        return partition_html(text=text)
    if kind == "md":
        from unstructured.partition.md import partition_md

        return partition_md(text=text)
    from unstructured.partition.text import partition_text

    return partition_text(text=text, languages=langs)


def _email_preamble(elements: list[Any]) -> list[Block]:
    meta = elements[0].metadata if elements else None
    subject = getattr(meta, "subject", None) or ""
    sender = ", ".join(getattr(meta, "sent_from", None) or [])
    recipients = ", ".join(getattr(meta, "sent_to", None) or [])
    sent = getattr(meta, "last_modified", None) or ""
    header = "\n".join(
        f"{label}: {value}"
        for label, value in (("From", sender), ("To", recipients), ("Date", sent))
        if value
    )
    blocks = [Block("Title", subject)] if subject else []
    return blocks + ([Block("EmailHeader", header)] if header else [])


_NUMBERED_HEADING = re.compile(r"^\d{1,2}(\.\d{1,2})*\.?\s+[A-Z]")


def pdf_heading(category: str, text: str) -> tuple[str, int]:
    """Re-classify a PDF line: `fast` parsing guesses headings from text alone, so wrapped
    line tails ("days.") become titles and short headings ("Annual leave") paragraphs.
    Returns (category, depth): numbered headings ("4. Expenses") are depth 0, others 1."""
    words = text.split()
    sentence_like = text[-1] in ".,;:!?" or text[0].islower()
    if len(words) <= 8 and _NUMBERED_HEADING.match(text) and not text.endswith("."):
        return "Title", 0
    if category == "Title":
        return ("NarrativeText", 0) if sentence_like else ("Title", 1)
    short_label = len(words) <= 6 and not sentence_like and text[0].isupper()
    no_digits = not any(c.isdigit() for c in text)
    if category in ("NarrativeText", "UncategorizedText") and short_label and no_digits:
        return "Title", 1
    return category, 0


def _to_blocks(kind: str, elements: list[Any]) -> list[Block]:
    texts_by_page = Counter(
        e.text.strip() for e in elements if e.category in ("Header", "Footer", "PageNumber")
    )
    blocks: list[Block] = _email_preamble(elements) if kind == "eml" else []
    for el in elements:
        text = (el.text or "").strip()
        category = el.category
        meta = el.metadata
        page = meta.page_number if kind in PAGED_KINDS else None
        if category in ("PageBreak", "PageNumber", "Image", "Footer") or not text:
            continue
        if category == "Header":
            # Running headers repeat on every page; a one-off header is the page's heading.
            if texts_by_page[text] > 1:
                continue
            category = "Title"
        if kind == "eml" and category == "Title":
            category = "NarrativeText"  # e-mail bodies have no headings; the subject is one
        if category == "Table":
            rows = html_table_rows(meta.text_as_html or "") or ((text,),)
            if kind == "xlsx" and meta.page_name:
                blocks.append(Block("Title", f"Sheet: {meta.page_name}", page, 0))
            blocks.append(Block("Table", text, page, 0, rows))
            continue
        depth = meta.category_depth or 0
        if kind == "pdf":
            category, depth = pdf_heading(category, text)
        blocks.append(Block(category, text, page, depth))
    return blocks


def parse(kind: str, data: bytes, name: str) -> list[Block]:
    """Parse `data` of format `kind`; raise IngestError when it fails or yields no text."""
    try:
        elements = _partition(kind, data)
    except IngestError:
        raise
    except Exception as exc:  # unstructured raises anything from zipfile to pdfminer errors
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise IngestError(
            f"could not read {name} as {kind.upper()} ({reason}); check the file opens "
            "in its usual program, then upload it again"
        ) from exc
    blocks = _to_blocks(kind, elements)
    if not any(b.text.strip() for b in blocks):
        if kind == "pdf":
            from kb.guards import explain_empty_pdf

            raise EmptyDocumentError(explain_empty_pdf(data, name))
        raise EmptyDocumentError(f"{name} yielded no text: the file has no readable text")
    return blocks
