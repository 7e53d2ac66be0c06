"""Answer: hits -> a grounded answer with [n] citations, or "not in the knowledge base".

┌ answer ───────────────────────────────────────────────────────────┐
│ answerer: followup (standalone question) ─► search ─► relevance gate│
│   ─► extractive (quoted sentences)                                 │
│      or prompt ─► generation (a model, streamed) ─► verify (cites) │
└───────────────────────────────────────────────────────────────────┘
"""
