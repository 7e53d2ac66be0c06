"""Grounded answers: the extractive default quotes the best sentences with [n] citations."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from kb.chunking import split_sentences
from kb.keyword import tokenize
from kb.retrieval import Hit

NOT_FOUND = (
    "I could not find this in the knowledge base. Try other words, or ask an admin to "
    "add a document that covers it."
)
_CITATION = re.compile(r"\[(\d{1,3})\]")
# Rank discount: a sentence from the 2nd passage needs ~30% more overlap than one from the 1st.
_RANK_DECAY = 0.3
# An answer quotes a few sentences: enough for the fact and its condition, short enough to read.
MAX_SENTENCES = 3
MAX_CHARS = 700


@dataclass
class Citation:
    """What an [n] marker in the answer points to."""

    n: int
    doc_id: str
    name: str
    page: int | None
    heading: str
    text: str
    chunk_id: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass
class Answer:
    """An answer, its citations, the hits behind it and how it was produced."""

    question: str
    text: str
    citations: list[Citation]
    hits: list[Hit]
    found: bool
    method: str = "extractive"
    extract: str = ""  # the sentences or prompt that produced the text (source inspector)
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (hits included)."""
        return {
            "question": self.question,
            "answer": self.text,
            "found": self.found,
            "method": self.method,
            "citations": [c.to_dict() for c in self.citations],
            "hits": [h.to_dict() for h in self.hits],
            "timings": self.timings,
        }


def citation_numbers(text: str) -> list[int]:
    """The distinct [n] markers in `text`, in order of first appearance."""
    seen: dict[int, None] = {}
    for m in _CITATION.finditer(text):
        seen.setdefault(int(m.group(1)), None)
    return list(seen)


def _table_row(sentence: str, text: str) -> str:
    """A Markdown table row rendered as 'Header: value; ...' using the table's header line."""
    header = next((ln for ln in text.splitlines() if ln.startswith("|")), "")
    names = [c.strip() for c in header.strip("|").split("|")]
    cells = [c.strip() for c in sentence.strip("|").split("|")]
    if header == sentence or len(names) != len(cells):
        return sentence
    return "; ".join(f"{n}: {c}" for n, c in zip(names, cells, strict=True) if c)


def _candidates(question: str, hits: list[Hit]) -> list[tuple[float, int, int, str]]:
    """(score, hit index, sentence index, sentence) for every sentence sharing a query term."""
    terms = set(tokenize([question])[0])
    if not terms:
        return []
    out = []
    for hi, hit in enumerate(hits):
        for si, sentence in enumerate(split_sentences(hit.text)):
            if set(sentence) <= set("|-: "):
                continue  # table separator lines
            words = set(tokenize([sentence])[0])
            overlap = len(terms & words) / len(terms)
            if overlap > 0:
                out.append((overlap / (1 + _RANK_DECAY * hi), hi, si, sentence))
    return sorted(out, key=lambda c: (-c[0], c[1], c[2]))


def extractive_answer(question: str, hits: list[Hit]) -> tuple[str, list[Citation], str]:
    """Quote the sentences that best match the question, each followed by its [n] marker.

    Returns (answer text, citations, the extract: which sentences were picked and why)."""
    picked: list[tuple[float, int, int, str]] = []
    total = 0
    for cand in _candidates(question, hits):
        if len(picked) == MAX_SENTENCES or total + len(cand[3]) > MAX_CHARS and picked:
            break
        if picked and cand[0] < picked[0][0] * 0.5:
            break  # much weaker than the best sentence: more noise than help
        picked.append(cand)
        total += len(cand[3])
    if not picked and hits:
        first = split_sentences(hits[0].text)[:2]
        picked = [(0.0, 0, i, s) for i, s in enumerate(first)]
    numbers: dict[int, int] = {}
    for _, hi, _, _ in picked:
        numbers.setdefault(hi, len(numbers) + 1)
    # Read in document order within a passage, passages in citation order.
    picked.sort(key=lambda c: (numbers[c[1]], c[2]))
    parts = []
    for _, hi, _, sentence in picked:
        shown = _table_row(sentence, hits[hi].text) if sentence.startswith("|") else sentence
        parts.append(f"{shown.lstrip('- ').strip()} [{numbers[hi]}]")
    citations = [
        Citation(n, h.doc_id, h.name, h.page, h.heading, h.text, h.chunk_id)
        for hi, n in numbers.items()
        for h in [hits[hi]]
    ]
    extract = "\n".join(f"[{numbers[hi]}] score={sc:.2f} {s}" for sc, hi, _, s in picked)
    return " ".join(parts), sorted(citations, key=lambda c: c.n), extract


def is_relevant(hits: list[Hit], min_relevance: float) -> bool:
    """Whether the best passage is close enough to the question to answer from."""
    dense = [h.scores.get("dense") for h in hits]
    best = max((d for d in dense if d is not None), default=None)
    return best is not None and best >= min_relevance
