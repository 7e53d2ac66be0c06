"""Ingest: bytes -> blocks -> chunks -> vectors -> one committed version.

    ┌ kb/ingest ─────────────────────────────────────────────────────────────────┐
    │ sources ─► sniff (magic bytes, encoding) ─► guards ─► parsing: PDFs by     │
    │ PDFium (pdf), scans and images by Tesseract (ocr), the rest by             │
    │ unstructured (formats: ragged CSV, digests, attachments, chart text)       │
    │ ─► chunking (titles, pages, paragraphs, rows) ─► embed_cache (by text      │
    │ hash) ─► commit.  pipeline overlaps them; recovery replays a crashed write │
    │ sync keeps a folder in step; rebuild builds a full re-index beside the     │
    │ live one                                                                   │
    └────────────────────────────────────────────────────────────────────────────┘

Modules import their parsers lazily: importing this package loads no parser or model.
"""

from __future__ import annotations

from kb.ingest.embed_cache import EmbeddingCache
from kb.ingest.pipeline import Ingestor, IngestOutcome, Progress
from kb.ingest.recovery import Recovery
from kb.ingest.report import summary
from kb.ingest.sniff import EXTENSIONS
from kb.ingest.sources import Source, expand_paths, stored_sources

__all__ = [
    "EXTENSIONS",
    "EmbeddingCache",
    "IngestOutcome",
    "Ingestor",
    "Progress",
    "Recovery",
    "Source",
    "expand_paths",
    "stored_sources",
    "summary",
]
