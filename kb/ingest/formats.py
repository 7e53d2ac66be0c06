"""What unstructured leaves out or trips on, read with the standard library and python-pptx:
ragged CSV, e-mails it cannot take apart, attachments, and the charts of a deck."""

from __future__ import annotations

import csv
import email
import email.policy
import io
from collections.abc import Callable, Iterator
from email.message import Message

from kb.ingest.blocks import Block
from kb.ingest.tables import html_to_text

# A sniffed dialect is trusted only among these: a stray character in a short file must not
# become the delimiter.
_DELIMITERS = ",;\t|"
# Attachments kb reads as part of their e-mail; audio, video and archives are skipped.
_ATTACHMENT_KINDS = {"pdf", "docx", "pptx", "xlsx", "html", "md", "txt", "csv"}


def csv_rows(text: str) -> list[tuple[str, ...]]:
    """Rows of a CSV as people export it: any of , ; tab |, rows of any length, blank rows
    dropped (pandas refuses rows longer than the first)."""
    sample = text[:16384]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, _DELIMITERS)
    except csv.Error:
        dialect = csv.excel
    rows = csv.reader(io.StringIO(text), dialect)
    return [tuple(c.strip() for c in row) for row in rows if any(c.strip() for c in row)]


def csv_blocks(text: str) -> list[Block]:
    """A CSV as one table block (the first row is its header)."""
    rows = csv_rows(text)
    if not rows:
        return []
    flat = "\n".join(" ".join(r) for r in rows)
    return [Block("Table", flat, None, 0, tuple(rows))]


def _parts(msg: Message) -> Iterator[Message]:
    for part in msg.walk():
        if not part.is_multipart():
            yield part


def _payload_text(part: Message) -> str:
    raw = part.get_payload(decode=True)
    if not isinstance(raw, bytes):
        return str(part.get_payload() or "")
    charset = part.get_content_charset() or "utf-8"
    try:
        return raw.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name in the header
        return raw.decode("utf-8", errors="replace")


def parse_message(data: bytes) -> Message:
    """The e-mail as the standard library reads it (never raises on odd structure)."""
    return email.message_from_bytes(data, policy=email.policy.compat32)


def email_body_blocks(msg: Message) -> list[Block]:
    """Blocks from every text part of an e-mail (digests and odd nesting included): the
    fallback when unstructured cannot take the message apart."""
    blocks: list[Block] = []
    subjects = [m.get("Subject") for m in msg.walk() if m.get("Subject")]
    for part in _parts(msg):
        if part.get_filename():
            continue  # attachments are read on their own (email_attachments)
        ctype = part.get_content_type()
        if ctype == "text/plain":
            text = _payload_text(part)
        elif ctype == "text/html":
            text = html_to_text(_payload_text(part))
        else:
            continue
        for para in text.split("\n\n"):
            if para.strip():
                blocks.append(Block("NarrativeText", " ".join(para.split())))
    heads = [Block("Title", str(s)) for s in dict.fromkeys(subjects)][:20]
    return heads + blocks if blocks else heads


def email_attachments(msg: Message) -> list[tuple[str, bytes]]:
    """(file name, bytes) of each attachment."""
    out = []
    for part in _parts(msg):
        name = part.get_filename()
        payload = part.get_payload(decode=True)
        if name and isinstance(payload, bytes) and payload:
            out.append((name, payload))
    return out


def attachment_blocks(
    msg: Message, read: Callable[[str, bytes], list[Block]], sniff: Callable[[bytes, str], str]
) -> tuple[list[Block], list[str]]:
    """Blocks of the attachments that are documents, each under an 'Attachment: NAME' title;
    an attachment that cannot be read is a warning, never a failure of its e-mail."""
    blocks: list[Block] = []
    warnings: list[str] = []
    for name, data in email_attachments(msg):
        try:
            kind = sniff(data, name)
        except Exception:  # audio, images, archives: not documents
            warnings.append(f"attachment {name} skipped: not a document kb reads")
            continue
        if kind not in _ATTACHMENT_KINDS:
            warnings.append(f"attachment {name} skipped ({kind})")
            continue
        try:
            inner = read(kind, data)
        except Exception as exc:
            warnings.append(f"attachment {name} skipped: {str(exc)[:120]}")
            continue
        if inner:
            blocks.append(Block("Title", f"Attachment: {name}", None, 0))
            blocks.extend(Block(b.kind, b.text, None, b.depth + 1, b.rows) for b in inner)
    return blocks, warnings


def chart_texts(data: bytes) -> dict[int, list[str]]:
    """Slide number -> what its charts say: title, categories, series names and values.
    unstructured reads only text boxes and tables; a chart deck would read as empty."""
    from pptx import Presentation

    out: dict[int, list[str]] = {}
    prs = Presentation(io.BytesIO(data))
    for number, slide in enumerate(prs.slides, 1):
        for shape in _shapes(slide.shapes):
            if not getattr(shape, "has_chart", False):
                continue
            try:
                out.setdefault(number, []).append(_chart_text(shape.chart))  # type: ignore[attr-defined]
            except Exception:  # a chart part python-pptx cannot read: its slide text stays
                continue
    return out


def _shapes(shapes: object) -> Iterator[object]:
    for shape in shapes:  # type: ignore[attr-defined]
        yield shape
        if getattr(shape, "shape_type", None) == 6:  # MSO_SHAPE_TYPE.GROUP
            yield from _shapes(shape.shapes)  # type: ignore[attr-defined]


def _chart_text(chart: object) -> str:
    lines: list[str] = []
    if chart.has_title and chart.chart_title.has_text_frame:  # type: ignore[attr-defined]
        title = chart.chart_title.text_frame.text.strip()  # type: ignore[attr-defined]
        if title:
            lines.append(f"Chart: {title}")
    plot = chart.plots[0] if len(chart.plots) else None  # type: ignore[attr-defined]
    categories = [str(c) for c in plot.categories] if plot is not None else []
    if categories:
        lines.append("Categories: " + ", ".join(categories))
    for plot in chart.plots:  # type: ignore[attr-defined]
        for series in plot.series:
            values = []
            for v in series.values:
                values.append("" if v is None else f"{v:g}" if isinstance(v, float) else str(v))
            pairs = (
                ", ".join(f"{c}: {v}" for c, v in zip(categories, values, strict=False))
                if categories
                else ", ".join(values)
            )
            lines.append(f"{series.name}: {pairs}" if series.name else pairs)
    return "\n".join(ln for ln in lines if ln.strip())


# Pictures smaller than this (icons, bullets, logos) hold no text worth an OCR call.
MIN_PICTURE_PIXELS = 200 * 60


def slide_pictures(data: bytes) -> dict[int, list[bytes]]:
    """Slide number -> the pictures on it (a slide that is a photo of a table, a scan)."""
    from pptx import Presentation

    out: dict[int, list[bytes]] = {}
    prs = Presentation(io.BytesIO(data))
    for number, slide in enumerate(prs.slides, 1):
        for shape in _shapes(slide.shapes):
            if getattr(shape, "shape_type", None) == 13:  # MSO_SHAPE_TYPE.PICTURE
                try:
                    image = shape.image  # type: ignore[attr-defined]
                    w, h = image.size
                    if w * h >= MIN_PICTURE_PIXELS:
                        out.setdefault(number, []).append(image.blob)
                except Exception:  # a linked or broken picture: nothing to read
                    continue
    return out


def document_pictures(data: bytes) -> list[bytes]:
    """The pictures of a Word document, in the order of its parts."""
    from docx import Document

    doc = Document(io.BytesIO(data))
    blobs = []
    for rel in doc.part.rels.values():
        if "image" in rel.reltype and not rel.is_external:
            blobs.append(rel.target_part.blob)
    return blobs
