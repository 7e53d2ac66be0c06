"""Turn a file's bytes into Blocks (typed text with page and depth) using `unstructured`."""

from __future__ import annotations

import io
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kb.errors import EmptyDocumentError, IngestError
from kb.ingest import formats, nlp, ocr
from kb.ingest.blocks import Block
from kb.ingest.guards import explain_empty_pdf
from kb.ingest.pdf import pdf_heading, read_pdf
from kb.ingest.sniff import decode_text, sniff, text_encoding
from kb.ingest.tables import html_table_rows
from kb.logs import first_line

os.environ.setdefault("UNSTRUCTURED_DISABLE_NOTICE", "1")
log = logging.getLogger(__name__)

PAGED_KINDS = {"pdf", "pptx", "image"}
_setup_lock = threading.Lock()
_ready = False


__all__ = ["Block", "ParseOptions", "Parsed", "parse", "parse_document", "pdf_heading"]


@dataclass(frozen=True)
class ParseOptions:
    """Bounds on one file's parsing: OCR pages, and the time it may take."""

    ocr_max_pages: int = 50
    timeout: float = 300.0
    tesseract: str | None = None  # the OCR binary's path; None: OCR is off
    status: Callable[[str], None] | None = None  # hears of slow steps (OCR pages)


@dataclass
class Parsed:
    """A parsed file: its blocks and how they were read (the parse report's first half)."""

    blocks: list[Block]
    parser: str
    pages: int | None = None
    pages_with_text: int | None = None
    ocr_pages: int = 0
    warnings: list[str] = field(default_factory=list)


def _setup_unstructured() -> None:
    """Give unstructured kb's lazy language helpers (kb.ingest.nlp): bundled model, no download."""
    global _ready
    with _setup_lock:
        if not _ready:
            nlp.install()
            _ready = True


# unstructured's partitioners, imported on first use (PDFs are read by kb.ingest.pdf).
_PARTITIONERS = ("docx", "pptx", "xlsx", "csv", "email", "html", "md", "text")
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
    if kind == "docx":
        from unstructured.partition.docx import partition_docx

        return partition_docx(file=io.BytesIO(data))
    if kind == "pptx":
        from unstructured.partition.pptx import partition_pptx

        return partition_pptx(file=io.BytesIO(data), include_slide_notes=True)
    if kind == "xlsx":
        from unstructured.partition.xlsx import partition_xlsx

        return partition_xlsx(file=io.BytesIO(data))
    text = decode_text(data)  # any Unicode encoding; the parsers below assume UTF-8
    if kind == "csv":
        from unstructured.partition.csv import partition_csv

        return partition_csv(file=io.BytesIO(text.encode("utf-8")))
    if kind == "eml":
        from unstructured.partition.email import partition_email

        # Attachments are kb's to read (kb.ingest.formats): unstructured would transcribe audio.
        return partition_email(
            file=io.BytesIO(_utf8_email(data)), languages=langs, process_attachments=False
        )
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
        blocks.append(Block(category, text, page, depth))
    return blocks


def _utf8_email(data: bytes) -> bytes:
    # A UTF-16 export of a message: the parser reads headers as bytes.
    codec = text_encoding(data[:4096])
    return decode_text(data).encode("utf-8") if codec and codec != "utf-8-sig" else data


def _unstructured(kind: str, data: bytes, name: str, options: ParseOptions | None = None) -> Parsed:
    """Parse with unstructured; some formats fall back to kb's own readers (kb.ingest.formats) when
    it trips on a valid file (ragged CSV, MIME digests)."""
    warnings: list[str] = []
    try:
        blocks = _to_blocks(kind, _partition(kind, data))
        parser = "unstructured"
    except IngestError:
        raise
    except Exception as exc:  # unstructured raises anything from zipfile to pandas errors
        if kind == "csv":
            blocks, parser = formats.csv_blocks(decode_text(data)), "csv module"
        elif kind == "eml":
            blocks = formats.email_body_blocks(formats.parse_message(_utf8_email(data)))
            parser = "email module"
        else:
            raise IngestError(
                f"could not read {name} as {kind.upper()} ({first_line(exc)}); check the file "
                "opens in its usual program, then upload it again"
            ) from exc
        log.info("unstructured could not read %s (%s); read by the %s", name, exc, parser)
        warnings.append(f"read by the {parser}: unstructured failed ({first_line(exc, 80)})")
    if kind == "eml":
        msg = formats.parse_message(_utf8_email(data))
        if not any(b.text.strip() for b in blocks if b.kind != "EmailHeader"):
            # unstructured found no body (a MIME digest: messages inside the message)
            blocks, parser = blocks + formats.email_body_blocks(msg), "email module"
        extra, notes = formats.attachment_blocks(
            msg, lambda k, d: _unstructured(k, d, name).blocks, sniff
        )
        blocks, warnings = blocks + extra, warnings + notes
    if kind == "pptx":
        try:
            charts = formats.chart_texts(data)
            blocks = _merge_slides(
                blocks, [Block("NarrativeText", t, n) for n, ts in charts.items() for t in ts]
            )
        except Exception as exc:  # the slides' own text stands; the charts are extra
            warnings.append(f"chart text not read ({first_line(exc, 80)})")
    ocr_pages = 0
    if kind in ("pptx", "docx") and options is not None:
        blocks, ocr_pages = _pictures_read(kind, data, name, blocks, options, warnings)
    pages = {b.page for b in blocks if b.page} if kind in PAGED_KINDS else set()
    return Parsed(blocks, parser, max(pages, default=None), len(pages) or None, ocr_pages, warnings)


def _pictures_read(
    kind: str,
    data: bytes,
    name: str,
    blocks: list[Block],
    options: ParseOptions,
    warnings: list[str],
) -> tuple[list[Block], int]:
    """OCR of the pictures on slides without text (a deck of scans or photographed tables),
    or of a Word file's pictures when it has no text at all."""
    texts = {b.page for b in blocks if b.text.strip()}
    todo: dict[int | None, list[bytes]]
    try:
        if kind == "pptx":
            found = formats.slide_pictures(data).items()
            todo = {s: p for s, p in found if s not in texts}
        else:
            todo = {None: formats.document_pictures(data)} if not texts else {}
    except Exception as exc:  # the text already read stands
        warnings.append(f"pictures not read ({first_line(exc, 80)})")
        return blocks, 0
    todo = {s: p for s, p in todo.items() if p}
    if not todo:
        return blocks, 0
    if options.tesseract is None:
        warnings.append(f"{len(todo)} slides or pages of only pictures not read: {ocr.OCR_OFF}")
        return blocks, 0
    deadline = time.monotonic() + options.timeout
    read, extra = 0, list[Block]()
    for slide, pictures in sorted(todo.items(), key=lambda kv: kv[0] or 0):
        for blob in pictures:
            if read >= options.ocr_max_pages:
                warnings.append(
                    f"pictures over KB_OCR_MAX_PAGES ({options.ocr_max_pages}) not read"
                )
                return _merge_slides(blocks, extra), read
            if options.status:
                options.status(f"{name}: OCR of picture {read + 1}")
            text = ocr.image_text(blob, deadline - time.monotonic(), options.tesseract)
            read += 1
            extra += [
                Block("NarrativeText", " ".join(p.split()), slide) for p in text.split("\n\n")
            ]
    return _merge_slides(blocks, [b for b in extra if b.text]), read


def _merge_slides(blocks: list[Block], extra: list[Block]) -> list[Block]:
    # Slide order; the sort is stable, so extra text (charts, pictures) follows its slide's own.
    return sorted(blocks + extra, key=lambda b: b.page or 0)


def _image(data: bytes, name: str, options: ParseOptions) -> Parsed:
    if options.tesseract is None:
        raise EmptyDocumentError(f"{name} is an image and needs OCR: {ocr.OCR_OFF}")
    frames = ocr.images_of(data)
    deadline = time.monotonic() + options.timeout
    blocks: list[Block] = []
    read = frames[: options.ocr_max_pages]
    for n, frame in enumerate(read, 1):
        if options.status:
            options.status(f"{name}: OCR of image page {n} of {len(read)}")
        text = ocr.image_text(frame, deadline - time.monotonic(), options.tesseract)
        blocks += [Block("NarrativeText", p, n) for p in ocr.paragraphs(text)]
    warnings = []
    if len(frames) > len(read):
        warnings.append(f"{len(frames) - len(read)} image pages over KB_OCR_MAX_PAGES not read")
    with_text = len({b.page for b in blocks})
    return Parsed(blocks, "tesseract", len(frames), with_text, len(read), warnings)


def parse_document(
    kind: str, data: bytes, name: str, options: ParseOptions | None = None
) -> Parsed:
    """Parse `data` of format `kind`; raise IngestError when it fails or yields no text."""
    options = options or ParseOptions()
    if kind == "pdf":
        deadline = time.monotonic() + options.timeout
        read = read_pdf(
            data,
            name,
            ocr_max_pages=options.ocr_max_pages,
            deadline=deadline,
            tesseract=options.tesseract,
            status=options.status,
        )
        parsed = Parsed(
            read.blocks,
            read.parser,
            read.pages,
            read.pages_with_text,
            read.ocr_pages,
            read.warnings,
        )
    elif kind == "image":
        parsed = _image(data, name, options)
    else:
        parsed = _unstructured(kind, data, name, options)
    if not any(b.text.strip() for b in parsed.blocks):
        if kind == "pdf":
            raise EmptyDocumentError(explain_empty_pdf(data, name, options.tesseract is not None))
        raise EmptyDocumentError(f"{name} yielded no text: the file has no readable text")
    return parsed


def parse(kind: str, data: bytes, name: str, options: ParseOptions | None = None) -> list[Block]:
    """The blocks of `data` (see parse_document)."""
    return parse_document(kind, data, name, options).blocks
