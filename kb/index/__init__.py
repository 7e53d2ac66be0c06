"""Index: what is stored, and kept in agreement.

┌ kb/index ──────────────────────────────────────────────────────────────────┐
│ registry (documents, live versions, journal)  store (Chroma)               │
│ keyword (BM25, rebuilt per change; published to replicas)  snapshot        │
│ (what readers see)  locking (one writer)  integrity (check, sweep)         │
│ ownership (one registry per collection)  lifecycle, staleness (owners,     │
│ review dates, why stale)  versions (replaced versions kept openable)       │
│ builds (the active collection, a full re-index built beside it)            │
│ ids, text (chunk ids, what chunks index), identity (what file names name)  │
└────────────────────────────────────────────────────────────────────────────┘
"""

from __future__ import annotations

from kb.index.builds import Indexes, IndexInfo
from kb.index.integrity import Checker, Sweeper
from kb.index.keyword import tokenize
from kb.index.lifecycle import Change, Lifecycle
from kb.index.locking import WriteLock
from kb.index.registry import Document, Registry
from kb.index.snapshot import Snapshot, Snapshots
from kb.index.staleness import REASONS, Stale
from kb.index.store import ChunkStore, StoredChunk, is_live, parse_chunk_id
from kb.index.versions import KeptVersion, Versions

__all__ = [
    "REASONS",
    "Change",
    "Checker",
    "ChunkStore",
    "Document",
    "IndexInfo",
    "Indexes",
    "KeptVersion",
    "Lifecycle",
    "Registry",
    "Snapshot",
    "Snapshots",
    "Stale",
    "StoredChunk",
    "Sweeper",
    "Versions",
    "WriteLock",
    "is_live",
    "parse_chunk_id",
    "tokenize",
]
