"""Ingest: bytes -> blocks -> chunks -> vectors -> one committed version.

    ┌ ingest ───────────────────────────────────────────────────────────────┐
    │ sources ─► sniff ─► guards ─► parsing (pdf, ocr, formats, tables, nlp) │
    │   ─► chunking ─► embed_cache ─► commit        pipeline runs them all;  │
    │                                               recovery replays a crash │
    └───────────────────────────────────────────────────────────────────────┘

Modules import their parsers lazily: importing this package loads no parser or model.
"""
