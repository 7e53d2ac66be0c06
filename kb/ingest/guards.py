"""Guards against hostile or broken files, run before any parser touches the bytes."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from pathlib import PurePath

from kb.config import Settings
from kb.errors import IngestError, UnsupportedFileError
from kb.ingest import ocr, pdf

MAX_NAME_CHARS = 200  # longer names are cut (keeping the extension): they are labels, not paths
# Format and control characters that make a name lie about itself: bidi overrides
# ("invoice\u202efdp.exe" shows as "invoiceexe.pdf"), zero-width joiners, NULs, newlines.
_HIDDEN = {"Cc", "Cf", "Co", "Cs", "Zl", "Zp"}
_PDF_EOF_TAIL = 2048  # %%EOF must sit in the last few bytes; generators pad a little at most


def display_name(raw: str, keep_folders: bool = False) -> str:
    """A file name made safe to show and store: the last path part (or, with
    `keep_folders`, each part of a path inside a folder kb read itself), NFC, no control or
    bidi characters, single spaces, at most MAX_NAME_CHARS. Never used as a path."""
    if keep_folders:
        parts = [p for p in (raw or "").replace("\\", "/").split("/") if p not in ("", ".", "..")]
        if len(parts) > 1:
            shown = "/".join(display_name(p) for p in parts)
            return shown if len(shown) <= MAX_NAME_CHARS else display_name(parts[-1])
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]  # "../../etc/passwd" -> "passwd"
    name = "".join(" " if unicodedata.category(c) in _HIDDEN else c for c in name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    if not name:
        return "unnamed"
    if len(name) > MAX_NAME_CHARS:
        suffix = PurePath(name).suffix
        suffix = suffix if 1 < len(suffix) <= 10 else ""
        name = name[: MAX_NAME_CHARS - len(suffix) - 1].rstrip() + "…" + suffix
    return name


def check_zip(data: bytes, settings: Settings) -> None:
    """Refuse decompression bombs among DOCX, PPTX and XLSX files: too many members, too
    much uncompressed data, or a compression ratio no real office document reaches."""
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsupportedFileError(
            "the file looks like an Office document but the archive is damaged; "
            "re-save it and upload it again"
        ) from exc
    if len(infos) > settings.zip_max_members:
        raise UnsupportedFileError(
            f"the archive holds {len(infos)} files, over the limit of "
            f"{settings.zip_max_members} (KB_ZIP_MAX_MEMBERS): refused as a possible zip bomb"
        )
    total = sum(i.file_size for i in infos)
    if total > settings.zip_max_uncompressed_mb * 1024 * 1024:
        raise UnsupportedFileError(
            f"the document unpacks to {total / 1e6:.0f} MB, over the "
            f"{settings.zip_max_uncompressed_mb:.0f} MB limit (KB_ZIP_MAX_UNCOMPRESSED_MB): "
            "refused as a possible zip bomb; split the document"
        )
    packed = max(1, sum(i.compress_size for i in infos))
    # Whole-archive ratio with a floor: a tiny file with a few repetitive parts may
    # legitimately compress 100:1, so small totals are never called bombs.
    if total > 10 * 1024 * 1024 and total / packed > settings.zip_max_ratio:
        raise UnsupportedFileError(
            f"the document compresses {total / packed:.0f}:1, over the {settings.zip_max_ratio:.0f}"
            ":1 limit (KB_ZIP_MAX_RATIO): refused as a possible zip bomb"
        )


def check_pdf(data: bytes, max_pages: int) -> None:
    """Refuse PDFs that cannot be read whole (truncated, password-protected, pageless) or
    that are longer than KB_MAX_PAGES."""
    if b"%%EOF" not in data.rstrip(b"\x00\r\n\t ")[-_PDF_EOF_TAIL:]:
        # Viewers open many PDFs without the marker; kb only refuses what no parser opens.
        try:
            pages = pdf.check_pdf(data)
        except IngestError as exc:
            raise UnsupportedFileError(
                "the PDF is truncated or damaged (no end-of-file marker); download or export "
                "it again and upload the complete file"
            ) from exc
    else:
        pages = pdf.check_pdf(data)
    if pages > max_pages:
        raise IngestError(
            f"the PDF has {pages:,} pages, over the limit of {max_pages:,} (KB_MAX_PAGES); "
            "split it into smaller documents"
        )


def explain_empty_pdf(data: bytes, name: str, ocr_on: bool) -> str:
    """Why a PDF yielded no text: its pages are images (OCR off or found nothing) or blank."""
    try:
        import pypdfium2 as pdfium

        with pdf.pdfium_lock():
            doc = pdfium.PdfDocument(data)
            images = sum(pdf.has_images(doc[i]) for i in range(len(doc)))
            doc.close()
    except Exception:  # only the message depends on it; parsing already failed cleanly
        images = 1
    if images and not ocr_on:
        return f"{name} yielded no text: its pages are images (a scan?); {ocr.OCR_OFF}"
    if images:
        return (
            f"{name} yielded no text: its pages are images in which OCR found no text "
            "(a photo or drawing?)"
        )
    return f"{name} yielded no text: its pages are blank"


def check_text(chars: int, settings: Settings) -> None:
    """Refuse documents whose text alone would swamp the index."""
    if chars > settings.max_text_chars:
        raise IngestError(
            f"the document holds {chars / 1e6:.1f} million characters of text, over the "
            f"limit of {settings.max_text_chars / 1e6:.1f} million (KB_MAX_TEXT_CHARS); "
            "split it into smaller documents"
        )
