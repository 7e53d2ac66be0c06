"""Ingest: bytes -> blocks -> chunks -> vectors -> one committed version.

    ┌ kb/ingest ─────────────────────────────────────────────────────────────────┐
    │ sources ─► sniff (magic bytes, encoding) ─► guards ─► parsing: PDFs by     │
    │ PDFium (pdf), scans and images by Tesseract (ocr), the rest by             │
    │ unstructured (formats: ragged CSV, digests, attachments, chart text)       │
    │ ─► chunking (titles, pages, paragraphs, rows) ─► embed_cache (by text      │
    │ hash) ─► commit.  pipeline overlaps them; recovery replays a crashed write │
    └────────────────────────────────────────────────────────────────────────────┘

Modules import their parsers lazily: importing this package loads no parser or model.
"""
