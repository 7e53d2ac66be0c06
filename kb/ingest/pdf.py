"""PDFs: opened and read with PDFium (pypdfium2), the parser that opens what viewers open;
pages without a text layer are read by OCR. pypdf is the second opinion for files PDFium
refuses, with its parsing limits raised (they guard against hostile files, and kb bounds the
work itself: pages, characters and time)."""

from __future__ import annotations

import io
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from kb.errors import EmptyDocumentError, IngestError, UnsupportedFileError
from kb.ingest import ocr
from kb.ingest.blocks import Block
from kb.logs import first_line

# A page with fewer characters than this has no real text layer (a scan with a stray
# page number, or an empty form): it is a candidate for OCR.
MIN_PAGE_CHARS = 20
# A line repeated on this share of pages (and on 3 or more) is a running header or footer.
RUNNING_SHARE = 0.5
_PAGE_NUMBER = re.compile(r"^(page\s+)?[-–]?\s*\d{1,4}\s*[-–]?(\s+of\s+\d{1,4})?$", re.I)
_DIGITS = re.compile(r"\d+")
_ENDS_SENTENCE = re.compile(r"[.:;!?)\"']$")
_PDFIUM = threading.RLock()
_NUMBERED_HEADING = re.compile(r"^\d{1,2}(\.\d{1,2})*\.?\s+[A-Z]")


def pdf_heading(category: str, text: str) -> tuple[str, int]:
    """Classify a PDF line from its text alone: wrapped line tails ("days.") are not titles,
    short labels ("Annual leave") are. Returns (category, depth): numbered headings
    ("4. Expenses") are depth 0, others 1."""
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


@dataclass
class PdfRead:
    """What reading a PDF gave: blocks and the figures of its parse report."""

    blocks: list[Block]
    pages: int
    pages_with_text: int
    ocr_pages: int
    parser: str
    warnings: list[str] = field(default_factory=list)


def _damaged(exc: BaseException) -> UnsupportedFileError:
    return UnsupportedFileError(
        f"the PDF is damaged ({first_line(exc, 120)}): neither PDFium nor pypdf can read it; "
        "export it again"
    )


def _encrypted() -> UnsupportedFileError:
    return UnsupportedFileError(
        "the PDF is password-protected (encrypted); remove the password (print to PDF or save "
        "without security) and upload it again"
    )


def _pdfium_open(data: bytes) -> Any:
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise _encrypted() from None  # a refusal, not a fault: nothing to log
        raise
    # PdfiumError covers every load failure (format, file, security); the caller falls back.


# pypdf's parsing limits guard against hostile files; real filings trip them (an 80-page
# 10-Q: "Reached maximum array element count"). kb bounds the work itself (KB_MAX_UPLOAD_MB,
# KB_MAX_TEXT_CHARS, KB_PARSE_TIMEOUT), so they are raised 100-fold for kb's reads.
_PYPDF_RAISED = (
    "maximum_declared_stream_length",
    "array_based_stream_maximum_output_length",
    "array_maximum_element_count",
    "dictionary_maximum_element_count",
    "zlib_maximum_output_length",
    "stream_decoding_work_maximum_length",
    "stream_parsing_work_maximum_count",
)


@contextmanager
def pypdf_limits_raised() -> Iterator[None]:
    """pypdf's DoS limits, 100 times their defaults, for the reads inside the block."""
    import pypdf

    current = pypdf.get_configuration()
    raised = {k: getattr(current, k) * 100 for k in _PYPDF_RAISED if hasattr(current, k)}
    with pypdf.apply_configuration(**raised):
        yield


def _pypdf_reader(data: bytes) -> Any:
    """A pypdf reader (call inside pypdf_limits_raised)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted and not reader.decrypt(""):
        raise _encrypted()
    return reader


@contextmanager
def pdfium_lock(deadline: float | None = None) -> Iterator[None]:
    """PDFium is not thread-safe: one call into it at a time in this process. A reader left
    running past its time-out holds it until its next page's deadline check."""
    wait = -1.0 if deadline is None else max(0.0, deadline - time.monotonic())
    if not _PDFIUM.acquire(timeout=wait):
        raise IngestError(
            "the PDF reader is still busy with a file that ran over KB_PARSE_TIMEOUT; "
            "upload this file again in a minute"
        )
    try:
        yield
    finally:
        _PDFIUM.release()


def check_pdf(data: bytes) -> int:
    """Refuse only PDFs no parser can open, password-protected ones, and pageless ones;
    returns the number of pages."""
    try:
        with pdfium_lock():
            pdf = _pdfium_open(data)
            pages = len(pdf)
            pdf.close()
    except UnsupportedFileError:
        raise
    except Exception as first:  # PDFium refused it: ask pypdf before calling it damaged
        try:
            with pypdf_limits_raised():
                pages = len(_pypdf_reader(data).pages)
        except UnsupportedFileError:
            raise
        except Exception as exc:
            raise _damaged(exc) from first
    if pages == 0:
        raise EmptyDocumentError("the PDF has no pages")
    return int(pages)


def page_lines(text: str) -> list[str]:
    """The non-empty lines of a page's text, whitespace tidied."""
    lines = (" ".join(ln.replace("\x00", " ").split()) for ln in text.splitlines())
    return [ln for ln in lines if ln]


def running_lines(pages: list[list[str]]) -> set[str]:
    """Lines that repeat on many pages (running headers and footers), digits ignored so that
    'Page 3 of 80' and 'Form 10-Q 12' count as one."""
    if len(pages) < 3:
        return set()
    seen: Counter[str] = Counter()
    for lines in pages:
        edge = lines[:3] + lines[-3:]  # headers and footers sit at a page's edges
        seen.update({_DIGITS.sub("#", ln) for ln in edge if len(ln) < 120})
    floor = max(3, int(len(pages) * RUNNING_SHARE))
    return {key for key, n in seen.items() if n >= floor}


def _kept(line: str, running: set[str]) -> bool:
    return not _PAGE_NUMBER.match(line) and _DIGITS.sub("#", line) not in running


def lines_to_blocks(pages: list[list[str]]) -> list[Block]:
    """Blocks from each page's lines: running headers, footers and page numbers dropped
    (unless they are all there is), headings told from body lines (pdf_heading)."""
    running = running_lines(pages)
    strip = any(_kept(ln, running) for lines in pages for ln in lines)
    blocks: list[Block] = []
    for number, lines in enumerate(pages, 1):
        starts = True  # whether the next line can start a heading or paragraph
        for line in lines:
            if strip and not _kept(line, running):
                continue
            # A line after an unfinished one continues its paragraph: never a heading.
            kind, depth = pdf_heading("NarrativeText", line) if starts else ("NarrativeText", 0)
            starts = kind == "Title" or bool(_ENDS_SENTENCE.search(line))
            blocks.append(Block(kind, line, number, depth))
    return blocks


def _ocr_page(page: Any, timeout: float, tesseract: str) -> str:
    image = page.render(scale=ocr.OCR_DPI / 72).to_pil()
    return ocr.image_text(image, timeout, tesseract)


def has_images(page: Any) -> bool:
    import pypdfium2.raw as raw

    return any(obj.type == raw.FPDF_PAGEOBJ_IMAGE for obj in page.get_objects(max_depth=2))


def read_pdf(
    data: bytes,
    name: str,
    *,
    ocr_max_pages: int,
    deadline: float,
    tesseract: str | None = None,
    status: Callable[[str], None] | None = None,
) -> PdfRead:
    """Text of every page (PDFium), OCR for pages without a text layer, as Blocks; `status`
    hears of each OCR page (seconds each: worth a line in the progress report); `tesseract`
    None means OCR is off."""
    try:
        with pdfium_lock(deadline):
            return _read_pdfium(data, name, ocr_max_pages, deadline, tesseract, status)
    except IngestError:
        raise
    except Exception as first:  # PDFium refused the file: pypdf may still read its text
        try:
            with pypdf_limits_raised():
                return _read_pypdf(data, deadline)
        except IngestError:
            raise
        except Exception as exc:
            raise _damaged(exc) from first


def _check_time(deadline: float, done: int, total: int) -> None:
    if time.monotonic() > deadline:
        raise IngestError(
            f"reading stopped after {done} of {total} pages: over the time limit "
            "(KB_PARSE_TIMEOUT); split the document or raise the limit"
        )


def _read_pdfium(
    data: bytes,
    name: str,
    ocr_max_pages: int,
    deadline: float,
    tesseract: str | None,
    status: Callable[[str], None] | None,
) -> PdfRead:
    pdf = _pdfium_open(data)
    try:
        pages: list[list[str]] = []
        scanned: list[int] = []
        for i in range(len(pdf)):
            _check_time(deadline, i, len(pdf))
            page = pdf[i]
            text = page.get_textpage().get_text_bounded()
            lines = page_lines(text)
            if sum(len(ln) for ln in lines) < MIN_PAGE_CHARS and has_images(page):
                scanned.append(i)
            pages.append(lines)
        with_text = sum(1 for lines in pages if sum(map(len, lines)) >= MIN_PAGE_CHARS)
        warnings: list[str] = []
        ocr_done = 0
        if scanned and tesseract is None:
            warnings.append(f"{len(scanned)} scanned pages not read: {ocr.OCR_OFF}")
        elif scanned and tesseract:
            todo = scanned[:ocr_max_pages]
            for n, i in enumerate(todo, 1):
                _check_time(deadline, i, len(pdf))
                if status:
                    status(f"{name}: OCR of scanned page {n} of {len(todo)}")
                remaining = deadline - time.monotonic()
                read = page_lines(_ocr_page(pdf[i], remaining, tesseract))
                if read:  # a logo's stray word in the text layer must not hide the scan
                    pages[i] = read
                ocr_done += 1
            if len(scanned) > ocr_max_pages:
                warnings.append(
                    f"{len(scanned) - ocr_max_pages} scanned pages not read: over the OCR "
                    f"limit of {ocr_max_pages} pages per file (KB_OCR_MAX_PAGES)"
                )
        blocks = lines_to_blocks(pages)
        empty = len(pdf) - with_text - ocr_done
        if empty and blocks:
            warnings.append(f"{empty} of {len(pdf)} pages yielded no text")
        if not blocks and scanned and tesseract is None:
            raise EmptyDocumentError(
                f"{name} yielded no text: its pages are scanned images; " + ocr.OCR_OFF
            )
        return PdfRead(blocks, len(pdf), with_text, ocr_done, "pdfium", warnings)
    finally:
        pdf.close()


def _read_pypdf(data: bytes, deadline: float) -> PdfRead:
    reader = _pypdf_reader(data)
    pages: list[list[str]] = []
    total = len(reader.pages)
    for i, page in enumerate(reader.pages):
        _check_time(deadline, i, total)
        try:
            pages.append(page_lines(page.extract_text() or ""))
        except Exception:  # one broken page content stream: the other pages still count
            pages.append([])
    with_text = sum(1 for lines in pages if sum(map(len, lines)) >= MIN_PAGE_CHARS)
    warnings = ["read by pypdf: PDFium could not open the file"]
    if total - with_text:
        warnings.append(f"{total - with_text} of {total} pages yielded no text")
    return PdfRead(lines_to_blocks(pages), total, with_text, 0, "pypdf", warnings)
