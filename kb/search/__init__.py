"""Search: a question -> ranked hits, every score kept.

┌ search ─────────────────────────────────────────────────┐
│ retrieval: dense top-N (Chroma) + keyword top-N (BM25)   │
│   ─► fusion (RRF or z-score) ─► top-k Hits with scores   │
└─────────────────────────────────────────────────────────┘
"""
