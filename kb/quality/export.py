"""Fine-tuning data from approved answers (issue 16): behaviour, never knowledge.

Thumbs-up answers, and corrected answers whose correction is backed by a passage the answer was
given (behaviour gaps), in OpenAI's chat fine-tuning format: the system message is kb's
grounded prompt, the user message the question with the sources as the model sees them, the
assistant message the approved or corrected answer with its [n] citation. A correction for
missing knowledge is never an example: it would teach the model to answer without sources.
`dpo` writes preference pairs (the correction preferred, the thumbs-down answer not).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kb.answer.prompt import SYSTEM_PROMPT, user_message
from kb.quality.records import Feedback, Record
from kb.quality.triage import Case
from kb.search import Hit

FEW = 50  # fewer examples than this teach a model little: the summary says so


def _messages(record: Record) -> list[dict[str, str]]:
    hits = [Hit(**h) for h in record.given]
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": user_message(record.question, hits)},
    ]


def _corrected(record: Record, case: Case) -> str:
    """The correction with the [n] of the given passage that holds it."""
    order = [h["chunk_id"] for h in record.given]
    marks = sorted({order.index(e.chunk_id) + 1 for e in case.evidence if e.given and e.chunk_id})
    return f"{case.correct} " + "".join(f"[{n}]" for n in marks)


def examples(
    records: list[Record],
    feedback: dict[str, list[Feedback]],
    cases: dict[str, Case],
    live: Callable[[str], bool],
    fmt: str = "chat",
) -> list[dict[str, Any]]:
    """The lines of the export: one per approved answer (chat) or corrected one (both)."""
    out: list[dict[str, Any]] = []
    for record in records:
        votes = feedback.get(record.id, [])
        if not votes or not all(live(h["chunk_id"]) for h in record.given):
            continue  # no verdict, or a source since replaced or deleted
        case = cases.get(record.id)
        prompt = _messages(record)
        shown = str(record.data.get("text", ""))
        if case is not None and case.label == "behaviour gap" and case.correct:
            better = {"role": "assistant", "content": _corrected(record, case)}
            if fmt == "dpo":
                out.append(
                    {
                        "input": {"messages": prompt},
                        "preferred_output": [better],
                        "non_preferred_output": [{"role": "assistant", "content": shown}],
                        "answer_id": record.id,
                    }
                )
            else:
                out.append({"messages": [*prompt, better], "answer_id": record.id})
        elif fmt == "chat" and votes[-1].vote > 0 and record.found:
            answer = {"role": "assistant", "content": shown}
            out.append({"messages": [*prompt, answer], "answer_id": record.id})
    return out


def summary(lines: list[dict[str, Any]], fmt: str) -> str:
    """How many examples, and a warning when they are too few to be useful."""
    what = ("preference pair" if fmt == "dpo" else "example") + ("" if len(lines) == 1 else "s")
    note = (
        f"; under {FEW}: collect more approved and corrected answers before fine-tuning"
        if len(lines) < FEW
        else ""
    )
    return f"{len(lines)} {what}{note}"
