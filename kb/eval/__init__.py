"""Eval: measurements of retrieval and answer quality, each beside a same-run baseline.

┌ kb/eval ───────────────────────────────────────────────────────────────────┐
│ beir (nDCG@10, Recall@100 beside BM25 and dense alone), golden (hit@k by   │
│ file and page), answers (facts stated, citations checked), sweep, metrics  │
└────────────────────────────────────────────────────────────────────────────┘
"""
