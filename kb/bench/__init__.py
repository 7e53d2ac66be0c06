"""Bench: speed and memory benchmarks (`kb bench ...`), each with its same-run baseline and ratio.

┌ kb/bench ──────────────────────────────────────────────────────────────────┐
│ ingest and query speed and memory, each beside a baseline measured in the  │
│ same run (naive LlamaIndex, bare Chroma); corpus builds the test corpus    │
└────────────────────────────────────────────────────────────────────────────┘
"""
