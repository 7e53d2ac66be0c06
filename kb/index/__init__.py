"""Index: what is stored and kept in agreement.

┌ index ─────────────────────────────────────────────────────────────┐
│ registry (SQLite: documents, live versions, journal)  ids, text     │
│ store (Chroma chunks)   keyword (BM25)   snapshot (what readers see)│
│ locking (one writer)    integrity (check, sweep)                    │
└────────────────────────────────────────────────────────────────────┘
"""
