"""Index: what is stored, and kept in agreement.

┌ kb/index ──────────────────────────────────────────────────────────────────┐
│ registry (SQLite: documents, live versions, journal)  store (Chroma)       │
│ keyword (BM25, rebuilt per change)  snapshot (what readers see)            │
│ locking (one writer)  integrity (check, sweep)  ownership (one registry    │
│ per collection)  ids, text (chunk ids, what each chunk is indexed as)      │
└────────────────────────────────────────────────────────────────────────────┘
"""

from __future__ import annotations

from kb.index.integrity import Checker, Sweeper
from kb.index.keyword import tokenize
from kb.index.locking import WriteLock
from kb.index.registry import Document, Registry
from kb.index.snapshot import Snapshot, Snapshots
from kb.index.store import ChunkStore, StoredChunk, parse_chunk_id

__all__ = [
    "Checker",
    "ChunkStore",
    "Document",
    "Registry",
    "Snapshot",
    "Snapshots",
    "StoredChunk",
    "Sweeper",
    "WriteLock",
    "parse_chunk_id",
    "tokenize",
]
