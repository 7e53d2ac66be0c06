"""Tell a file's format from its bytes (magic numbers first, the name only to refine text)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import PurePath

from kb.errors import UnsupportedFileError

SUPPORTED = ("pdf", "docx", "pptx", "xlsx", "html", "md", "txt", "eml", "csv")
EXTENSIONS = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".pptx": "pptx",
    ".xlsx": "xlsx",
    ".html": "html",
    ".htm": "html",
    ".md": "md",
    ".markdown": "md",
    ".txt": "txt",
    ".text": "txt",
    ".eml": "eml",
    ".csv": "csv",
}
TEXT_KINDS = {"html", "md", "txt", "eml", "csv"}

# Well-known binary signatures we refuse, named so the message says what the file really is.
_FOREIGN = [
    (b"MZ", "a Windows executable"),
    (b"\x7fELF", "a Linux executable"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"\xd0\xcf\x11\xe0", "a legacy Office file (.doc/.xls/.ppt); save it as .docx/.xlsx/.pptx"),
]
_ZIP_MARKERS = {
    "word/document.xml": "docx",
    "ppt/presentation.xml": "pptx",
    "xl/workbook.xml": "xlsx",
}
_EMAIL_HEADER = re.compile(
    r"^(From|To|Subject|Date|Received|Return-Path|MIME-Version|Message-ID):", re.M | re.I
)
_HTML_TAG = re.compile(r"<(!doctype html|html|head|body|div|p|h[1-6]|table)\b", re.I)


def decode_text(data: bytes) -> str:
    """Decode text bytes: UTF-8 (with or without BOM), else Windows-1252, which never fails."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _zip_kind(data: bytes) -> str:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except zipfile.BadZipFile as exc:
        raise UnsupportedFileError(
            "the file looks like an Office document but the archive is damaged; "
            "re-save it and upload it again"
        ) from exc
    for marker, kind in _ZIP_MARKERS.items():
        if marker in names:
            return kind
    raise UnsupportedFileError("a zip archive that is not a DOCX, PPTX or XLSX document")


def _looks_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return controls > len(head) * 0.02


def _text_kind(text: str, ext_kind: str | None) -> str:
    head = text[:4096]
    if ext_kind in TEXT_KINDS:
        if ext_kind == "eml" and not _EMAIL_HEADER.search(head):
            raise UnsupportedFileError("named .eml but it has no e-mail headers (From:, Subject:)")
        return ext_kind
    if len(_EMAIL_HEADER.findall(head[:2000])) >= 2:
        return "eml"
    if _HTML_TAG.search(head):
        return "html"
    if re.search(r"^#{1,6} \S", head, re.M):
        return "md"
    return "txt"


def sniff(data: bytes, name: str) -> str:
    """Return the kb format of `data` (one of SUPPORTED) or raise UnsupportedFileError."""
    ext = PurePath(name).suffix.lower()
    ext_kind = EXTENSIONS.get(ext)
    if not data:
        raise UnsupportedFileError("the file is empty")
    head = data[:8192]
    if b"%PDF-" in data[:1024]:
        kind = "pdf"
    elif data.startswith(b"PK\x03\x04"):
        kind = _zip_kind(data)
    else:
        for magic, what in _FOREIGN:
            if data.startswith(magic):
                raise UnsupportedFileError(f"the content is {what}, not a document kb reads")
        if _looks_binary(head):
            raise UnsupportedFileError("the content is binary data in no format kb reads")
        kind = _text_kind(decode_text(head), ext_kind)
    if ext_kind and ext_kind not in TEXT_KINDS and ext_kind != kind:
        raise UnsupportedFileError(
            f"named {ext} but its content is {kind.upper()}; fix the extension or the file"
        )
    if ext_kind in TEXT_KINDS and kind not in TEXT_KINDS:
        raise UnsupportedFileError(
            f"named {ext} but its content is {kind.upper()}; fix the extension or the file"
        )
    return kind
