"""Search: a question -> ranked hits, every score kept.

┌ kb/search ─────────────────────────────────────────────────────────────────┐
│ retrieval: dense top-N (Chroma) + keyword top-N (BM25), both limited to    │
│ what the user may read, plus the same inside the documents the question    │
│ names (its names, codes, years against file names: kb/index/identity)      │
│ ─► fusion (weighted, z-score or RRF) + name boost ─► top-k Hits (one per   │
│ page of a named document)                                                  │
└────────────────────────────────────────────────────────────────────────────┘
"""

from __future__ import annotations

from kb.search.fusion import Fused, describe_fusion
from kb.search.retrieval import Hit, Mode, Searcher, Trace

__all__ = ["Fused", "Hit", "Mode", "Searcher", "Trace", "describe_fusion"]
