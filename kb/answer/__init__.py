"""Answer: hits -> a grounded answer with [n] citations, or "not in the knowledge base".

┌ kb/answer ─────────────────────────────────────────────────────────────────┐
│ answerer: followup (a standalone question) ─► search ─► relevance gate     │
│ ─► extractive (quoted sentences), or prompt ─► generation (a model,        │
│ streamed) ─► verify (each sentence against the passage it cites)           │
└────────────────────────────────────────────────────────────────────────────┘
"""

from __future__ import annotations

from kb.answer.answerer import Answerer
from kb.answer.extractive import Answer, Citation
from kb.answer.generation import AnswerStream

__all__ = ["Answer", "AnswerStream", "Answerer", "Citation"]
