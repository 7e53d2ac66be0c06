"""CLI: the `kb` command.

┌ kb/cli ────────────────────────────────────────────────────────────────────┐
│ main (ingest, docs, reindex, search, ask, check)  users  progress          │
│ eval (kb eval ...)  bench (kb bench ...)                                   │
│ sync (kb sync)  docs (kb docs ...)  db (kb db ...)                         │
└────────────────────────────────────────────────────────────────────────────┘
"""
