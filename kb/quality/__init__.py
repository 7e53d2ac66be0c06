"""Quality: answers kept with their trace, feedback, triage of failures, fine-tuning data.

┌ kb/quality ────────────────────────────────────────────────────────────────┐
│ records (every answer by id, with its whole trace; feedback)  triage (a    │
│ case's label from its trace and correction: missing knowledge, retrieval   │
│ miss, behaviour gap, unclear)  export (approved answers to fine-tune on)   │
│ golden (the golden set grown from cases; what changed since the last run)  │
└────────────────────────────────────────────────────────────────────────────┘
"""

from __future__ import annotations

from kb.quality.records import AnswerLog, Feedback, Record
from kb.quality.triage import Case, Evidence, label_case

__all__ = ["AnswerLog", "Case", "Evidence", "Feedback", "Record", "label_case"]
