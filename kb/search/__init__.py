"""Search: a question -> ranked hits, every score kept.

┌ kb/search ─────────────────────────────────────────────────────────────────┐
│ retrieval: dense top-N (Chroma) + keyword top-N (BM25), both limited to    │
│ what the user may read ─► fusion (weighted, z-score or RRF) ─► top-k Hits  │
└────────────────────────────────────────────────────────────────────────────┘
"""
