"""The `kb` command.

┌ cli ────────────────────────────────────────────────────────────┐
│ main (ingest, docs, reindex, search, ask, check)  users  progress│
│ eval (kb eval beir|golden|answers)  bench (kb bench ...)         │
└─────────────────────────────────────────────────────────────────┘
"""
