"""Triage: why an answer failed, decided from its stored trace and the user's correction.

`missing knowledge`: no live document holds the answer (the correction occurs in no live
passage and no indexed document was named, or the question was declined). Fixed in the
knowledge base: add the document. `retrieval miss`: a live document holds it (the named one, or
the passage where the correction occurs), but none of its passages reached the answer. Fixed in
the knowledge base too: chunking, retrieval. `behaviour gap`: the passage holding the answer
was given to the answer, and it was still wrong. Fixed in the model: prompting, a better
model, fine-tuning. `unclear`: not enough to tell.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from kb.quality.records import Feedback, Record

LABELS = ("missing knowledge", "retrieval miss", "behaviour gap", "unclear")


@dataclass(frozen=True)
class Evidence:
    """A passage (or document) that bears on a case, and where retrieval ranked it."""

    chunk_id: str | None
    document: str
    rank: int | None  # 1-based among the fused candidates; None: not retrieved at all
    given: bool  # among the passages the answer was given

    def sentence(self) -> str:
        """'hr.md (chunk …:00002) was given to the answer at rank 2' and the like."""
        what = f"{self.document} ({self.chunk_id})" if self.chunk_id else self.document
        if self.given:
            return f"{what} was given to the answer (rank {self.rank})"
        if self.rank is not None:
            return f"{what} was retrieved at rank {self.rank} but not given to the answer"
        return f"{what} was not retrieved"


@dataclass
class Case:
    """A thumbs down or a declined question, labelled with its evidence."""

    answer_id: str
    question: str
    user: str
    at: str
    kind: str  # "thumbs down" or "declined"
    label: str
    why: str
    evidence: list[Evidence] = field(default_factory=list)
    correct: str = ""
    doc: str = ""
    overridden: bool = False  # an admin set the label
    resolved: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (evidence with its sentence)."""
        out = asdict(self)
        out["evidence"] = [{**asdict(e), "sentence": e.sentence()} for e in self.evidence]
        return out


def normalize(text: str) -> str:
    """Lower case, one space between words, no punctuation at the ends: how a correction is
    looked for in passages."""
    return re.sub(r"\s+", " ", text.lower()).strip(" .,;:!?\"'")


def holds(passage: str, correct: str) -> bool:
    """Whether a passage states the correction (as words, ignoring case and spacing)."""
    wanted = normalize(correct)
    return bool(wanted) and wanted in normalize(passage)


def label_case(
    record: Record,
    feedback: Feedback | None,
    holders: list[tuple[str, str]],
    named: tuple[str, str] | None,
) -> tuple[str, str, list[Evidence]]:
    """(label, why, evidence) of a case. `holders`: (chunk id, document name) of the live
    passages where the correction occurs; `named`: (doc id, name) of the document the user
    named, when it is indexed."""
    given = {h["chunk_id"]: h for h in record.given}
    ranks = {c["id"]: n for n, c in enumerate(record.candidates, 1)}

    def evidence(chunk_id: str, document: str) -> Evidence:
        return Evidence(chunk_id, document, ranks.get(chunk_id), chunk_id in given)

    if feedback is None:  # a declined question nobody corrected
        cosines = [h.get("scores", {}).get("dense") for h in record.given]
        best = max((c for c in cosines if c is not None), default=None)
        why = "declined: no passage was relevant enough" + (
            f" (best dense cosine {best:.2f})" if best is not None else " (nothing retrieved)"
        )
        return "missing knowledge", why, []
    if holders:
        found = [evidence(c, d) for c, d in holders]
        if any(e.given for e in found):
            return "behaviour gap", "the passage holding the correction was given", found
        return "retrieval miss", "a live passage holds the correction; none reached it", found
    if named is not None:
        doc_id, name = named
        own = [
            evidence(c["id"], name) for c in record.candidates if c["id"].startswith(doc_id + ":")
        ]
        if any(e.given for e in own):
            return "behaviour gap", f"passages of {name} were given to the answer", own[:3]
        if own:
            return "retrieval miss", f"{name} was retrieved, but too low", own[:3]
        return (
            "retrieval miss",
            f"{name} holds the answer, but was not retrieved",
            [Evidence(None, name, None, False)],
        )
    if feedback.correct or feedback.doc:
        why = "the correction occurs in no live passage" + (
            f", and {feedback.doc!r} is not an indexed document" if feedback.doc else ""
        )
        return "missing knowledge", why, []
    return "unclear", "no correction or document was given: say what was right", []
