"""Tell a file's format from its bytes (magic numbers first, the name only to refine text)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import PurePath

from kb.errors import UnsupportedFileError

SUPPORTED = ("pdf", "docx", "pptx", "xlsx", "html", "md", "txt", "eml", "csv", "image")
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
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".tif": "image",
    ".tiff": "image",
}
TEXT_KINDS = {"html", "md", "txt", "eml", "csv"}

# Images kb reads with OCR (kb.ingest.ocr).
_IMAGES = (b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")
# Byte-order marks, longest first: UTF-32 LE starts with the UTF-16 LE mark.
_BOMS = [
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
]
_OLE = b"\xd0\xcf\x11\xe0"
# An encrypted DOCX/XLSX/PPTX is an OLE container holding this stream (its name in UTF-16).
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
# Well-known binary signatures we refuse, named so the message says what the file really is.
_FOREIGN = [
    (b"MZ", "a Windows executable"),
    (b"\x7fELF", "a Linux executable"),
    (b"GIF8", "a GIF image (convert it to PNG to have its text read)"),
    (b"ID3\x03", "an MP3 audio file"),  # the version byte: text may start with "ID3"
    (b"ID3\x04", "an MP3 audio file"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
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


def text_encoding(data: bytes) -> str | None:
    """The Unicode encoding of text bytes, from a byte-order mark or, without one, from the
    pattern of zero bytes that UTF-16 and UTF-32 leave in ASCII text; None if neither."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec
    head = data[:4096]
    head = head[: len(head) - len(head) % 4]
    if len(head) < 4 or b"\x00" not in head:
        return None
    guess = _zero_pattern(head)
    if guess is None:
        return None
    text = head.decode(guess, errors="replace")
    # Binary data can show the pattern (runs of zero bytes): real text decodes to letters.
    odd = sum(1 for c in text if (c < " " and c not in "\t\n\r") or c == "\ufffd")
    return guess if odd <= len(text) * 0.02 else None


def _zero_pattern(head: bytes) -> str | None:
    quads = [head[i : i + 4] for i in range(0, len(head), 4)]
    # ASCII in UTF-32 LE is "X\0\0\0", BE "\0\0\0X"; in UTF-16 LE "X\0Y\0", BE "\0X\0Y".
    share = 0.9 * len(quads)
    if sum(q[1:] == b"\x00\x00\x00" for q in quads) >= share:
        return "utf-32-le"
    if sum(q[:3] == b"\x00\x00\x00" for q in quads) >= share:
        return "utf-32-be"
    odd, even = head[1::2], head[0::2]
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) >= 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def decode_text(data: bytes) -> str:
    """Decode text bytes: a UTF-8/16/32 with or without a byte-order mark, else Windows-1252
    (a superset of Latin-1 for letters; it never fails)."""
    codec = text_encoding(data)
    if codec and codec != "utf-8-sig":
        return data.decode(codec, errors="replace").lstrip("\ufeff")
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


def _describe(kind: str, data: bytes) -> str:
    if kind != "image":
        return kind.upper()
    if data.startswith(b"\x89PNG"):
        return "a PNG image"
    return "a JPEG image" if data.startswith(b"\xff\xd8") else "a TIFF image"


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
    elif data.startswith(_IMAGES):
        kind = "image"
    elif data.startswith(_OLE):
        if _ENCRYPTED_PACKAGE in data:
            raise UnsupportedFileError(
                "the Office document is password-protected (encrypted); open it, remove the "
                "password (File > Info > Protect > Encrypt) and upload it again"
            )
        raise UnsupportedFileError(
            "the content is a legacy Office file (.doc/.xls/.ppt); save it as .docx/.xlsx/.pptx"
        )
    else:
        for magic, what in _FOREIGN:
            if data.startswith(magic):
                raise UnsupportedFileError(f"the content is {what}, not a document kb reads")
        if text_encoding(head) is None and _looks_binary(head):
            raise UnsupportedFileError("the content is binary data in no format kb reads")
        kind = _text_kind(decode_text(head), ext_kind)
    if (ext_kind and ext_kind not in TEXT_KINDS and ext_kind != kind) or (
        ext_kind in TEXT_KINDS and kind not in TEXT_KINDS
    ):
        raise UnsupportedFileError(
            f"named {ext} but its content is {_describe(kind, data)}; fix the extension or the file"
        )
    return kind
