"""Index: what is stored, and kept in agreement.

┌ kb/index ──────────────────────────────────────────────────────────────────┐
│ registry (SQLite: documents, live versions, journal)  store (Chroma)       │
│ keyword (BM25, rebuilt per change)  snapshot (what readers see)            │
│ locking (one writer)  integrity (check, sweep)  ids, text (chunk ids and   │
│ what each chunk is indexed as)                                             │
└────────────────────────────────────────────────────────────────────────────┘
"""
