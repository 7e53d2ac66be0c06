"""Pure formatting of stored answers for the Source inspector (no streamlit here)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from kb.quality import Case, Record


def _score(value: object) -> float | None:
    return round(float(value), 4) if isinstance(value, int | float) else None


def given_rows(record: Record) -> list[dict[str, Any]]:
    """The passages the stored answer was given, best first, with every score."""
    rows = []
    for n, h in enumerate(record.given, 1):
        scores = h.get("scores") or {}
        rows.append(
            {
                "rank": n,
                "document": h.get("name", ""),
                "page": h.get("page"),
                "fused": _score(scores.get("fused", h.get("score"))),
                "dense": _score(scores.get("dense")),
                "keyword": _score(scores.get("keyword")),
                "passage": h.get("text", ""),
                "chunk": h.get("chunk_id", ""),
            }
        )
    return rows


def candidate_rows(record: Record, limit: int = 20) -> list[dict[str, Any]]:
    """The fused retrieval candidates as they were ranked then (ids and scores)."""
    given = {h.get("chunk_id") for h in record.given}
    return [
        {
            "rank": n,
            "fused": _score(c.get("score")),
            "dense": _score(c.get("dense")),
            "dense rank": c.get("dense_rank"),
            "keyword": _score(c.get("keyword")),
            "keyword rank": c.get("keyword_rank"),
            "top k": c.get("id") in given,
            "chunk": c.get("id", ""),
        }
        for n, c in enumerate(record.candidates[:limit], 1)
    ]


def record_header(record: Record) -> str:
    """'Asked by emma on 2026-12-06 09:30 UTC; answered (extractive)' for the panel."""
    how = record.data.get("method", "")
    verdict = "answered" if record.found else "declined"
    return (
        f"Asked by **{record.user}** on {record.at[:16].replace('T', ' ')} UTC; {verdict} ({how})."
    )


LABEL_HELP = {
    "missing knowledge": "no document holds the answer: add one (fixed in the knowledge base)",
    "retrieval miss": "a document holds it, retrieval did not bring it: chunking, retrieval "
    "(fixed in the knowledge base)",
    "behaviour gap": "the right passage was given and the answer was still wrong: prompt, "
    "model, fine-tuning (fixed in the model)",
    "unclear": "not enough to tell: ask the user what was right",
}


def case_rows(cases: Sequence[Case]) -> list[dict[str, Any]]:
    """The case queue: one row per case, newest first."""
    return [
        {
            "when": c.at[:16].replace("T", " "),
            "label": c.label + (" (set)" if c.overridden else ""),
            "question": c.question,
            "kind": c.kind,
            "why": c.why,
            "evidence": "; ".join(e.sentence() for e in c.evidence[:3]),
            "correction": c.correct,
            "resolved": c.resolved,
            "asked by": c.user,
            "id": c.answer_id,
        }
        for c in cases
    ]


def counts_by_day(cases: Sequence[Case]) -> dict[str, list[Any]]:
    """{"day": [...], label: [count per day], ...} for a bar chart of cases over time."""
    days = sorted({c.at[:10] for c in cases})
    out: dict[str, list[Any]] = {"day": days}
    for label in LABEL_HELP:
        out[label] = [sum(1 for c in cases if c.at[:10] == d and c.label == label) for d in days]
    return out


def jsonl(lines: Sequence[dict[str, Any]]) -> str:
    """Fine-tuning lines as JSON Lines, one example per line."""
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
