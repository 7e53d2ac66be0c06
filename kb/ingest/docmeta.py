"""What a document says about itself: its owner and review date, where the format has a
place for them. Markdown front matter (`owner:`, `review_by:`), DOCX/PPTX/XLSX custom
properties (`Owner`, `Review By`), PDF info (`/Owner`, `/ReviewBy`). A document that says
nothing, or something unreadable, gives {}.

An author is not an owner: real filings name their converter as /Author ("Kaleidoscope -
kscope.io" on FinanceBench's PDFs) and Office files name whoever made the template
("Windows User"), so only a field that says owner counts.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from datetime import date
from typing import Any
from xml.etree import ElementTree

import yaml

from kb.ingest.sniff import decode_text

log = logging.getLogger(__name__)

_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(\r?\n|\Z)", re.S)
_NS = {
    "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
    "dc": "http://purl.org/dc/elements/1.1/",
    "op": "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
}
# Property names people use for the two fields, compared without case, spaces or _ and -.
_OWNER = {"owner", "documentowner", "contentowner"}
_REVIEW = {"reviewby", "reviewdate", "nextreview", "nextreviewdate", "reviewdue"}
MAX_OWNER = 200  # an owner is a name or an address, never a paragraph


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).lower()


def review_date(value: Any) -> str | None:
    """A review date as YYYY-MM-DD, from a date or text starting with one (else None)."""
    if isinstance(value, date):
        return value.isoformat()[:10]
    match = re.match(r"\s*(\d{4})-(\d{2})-(\d{2})", str(value or ""))
    if not match:
        return None
    try:
        return date(*map(int, match.groups())).isoformat()
    except ValueError:
        return None


def _pick(values: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in values.items():
        key = _key(name)
        if key in _OWNER and str(value or "").strip():
            out["owner"] = str(value).strip()[:MAX_OWNER]
        elif key in _REVIEW and review_date(value):
            out["review_by"] = str(review_date(value))
    return out


def front_matter(text: str) -> dict[str, str]:
    """Owner and review date from a Markdown file's YAML front matter."""
    match = _FRONT.match(text)
    if not match:
        return {}
    try:
        values = yaml.safe_load(match.group(1))
    except (yaml.YAMLError, ValueError):  # ValueError: a date like 2026-02-30
        return {}
    return _pick(values) if isinstance(values, dict) else {}


def office_properties(data: bytes) -> dict[str, str]:
    """Owner and review date from a DOCX/PPTX/XLSX's custom properties."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            custom: dict[str, Any] = {}
            if "docProps/custom.xml" in names:
                root = ElementTree.fromstring(archive.read("docProps/custom.xml"))
                for prop in root.findall("op:property", _NS):
                    value = next(iter(prop), None)
                    custom[prop.get("name", "")] = value.text if value is not None else None
    except (zipfile.BadZipFile, ElementTree.ParseError, KeyError, OSError):
        return {}
    return _pick(custom)


def pdf_info(data: bytes) -> dict[str, str]:
    """Owner and review date from a PDF's document information."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        info: dict[Any, Any] = dict(PdfReader(io.BytesIO(data)).metadata or {})
        values = {str(k).lstrip("/"): str(v) for k, v in info.items()}
    except (PyPdfError, ValueError, KeyError, OSError):
        return {}
    return _pick(values)


def read_metadata(kind: str, data: bytes, text: str | None = None) -> dict[str, str]:
    """The owner and review date a document states about itself ({} when it says none)."""
    if kind == "md" and text is not None:
        return front_matter(text)
    if kind in ("docx", "pptx", "xlsx"):
        return office_properties(data)
    if kind == "pdf":
        return pdf_info(data)
    return {}


def stated_metadata(kind: str, data: bytes) -> dict[str, str]:
    """read_metadata, never a reason to refuse a file: a surprise costs only the metadata."""
    try:
        return read_metadata(kind, data, decode_text(data) if kind == "md" else None)
    except Exception as exc:  # any parser error of a nicety is logged, the file goes on
        log.info("could not read the document's own metadata: %s", exc)
        return {}
