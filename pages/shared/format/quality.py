"""Pure formatting of stored answers for the Source inspector (no streamlit here)."""

from __future__ import annotations

from typing import Any

from kb.quality import Record


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
