"""Answer: hits -> a grounded answer with [n] citations, or "not in the knowledge base".

┌ kb/answer ─────────────────────────────────────────────────────────────────┐
│ answerer: followup (a standalone question) ─► search ─► relevance gate     │
│ ─► extractive (quoted sentences), or prompt ─► generation (a model,        │
│ streamed) ─► verify (each sentence against the passage it cites)           │
└────────────────────────────────────────────────────────────────────────────┘
"""
