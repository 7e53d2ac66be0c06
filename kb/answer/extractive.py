"""Grounded answers: the extractive default quotes the best sentences with [n] citations."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from kb.answer.verify import SentenceCheck
from kb.index.keyword import tokenize
from kb.ingest.chunking import split_sentences
from kb.search.retrieval import Hit, Trace

NOT_FOUND = (
    "I could not find this in the knowledge base. Try other words, or ask an admin to "
    "add a document that covers it."
)
# Rank discount: a sentence from the 2nd passage needs ~30% more overlap than one from the 1st.
_RANK_DECAY = 0.3
# An answer quotes a few sentences: enough for the fact and its condition, short enough to read.
MAX_SENTENCES = 3
MAX_CHARS = 700
# Words that say what kind of answer is wanted, not what it is about.
_QUESTION_STEMS = set(
    tokenize(["what which who whom whose when where why how do does did can could should would"])[0]
)
MAX_PASSAGES = 3  # sentences are drawn from the top passages only: lower ones are mostly noise
# Meaning beats word overlap for paraphrased questions ("trial period" vs "probation"),
# overlap keeps exact codes and names on top. On sample_docs/questions.yaml the answer held
# the expected fact for 41/52 questions at 0.4, 44 at 0.6, 45 at 0.8 (0 = overlap only: 35).
MEANING_WEIGHT = 0.7
KEEP_RATIO = 0.8  # a further sentence must score at least this share of the best one
MIN_WORDS = 5  # shorter lines are headings and labels: they match well and answer nothing


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
    # Why the cited document is stale, as sentences ("review overdue since 2026-03-01, ...").
    stale: list[str] = field(default_factory=list)
    # Why an old answer's passage is no longer shown ("deleted on 2026-12-06"); then text is "".
    gone: str = ""

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
    trace: Trace | None = None  # every retrieval step behind the answer (source inspector)
    query: str = ""  # what was retrieved for: the question, or a follow-up made standalone
    rewrite: str = ""  # how a follow-up was rewritten: "model", "heuristic" or "" (it wasn't)
    prompt: str = ""  # the messages sent to the model (source inspector)
    raw: str = ""  # the model's own text, before cleaning and the citation check
    checks: list[SentenceCheck] = field(default_factory=list)  # citation check per sentence
    tokens: dict[str, int] = field(default_factory=dict)  # prompt / completion token counts
    error: str = ""  # why the model's answer was not used (the extractive one is shown)
    answer_id: str = ""  # its id in the stored answers (kb.quality.records), once stored

    @property
    def unsupported(self) -> list[SentenceCheck]:
        """Sentences their cited passage does not back."""
        return [c for c in self.checks if not c.supported]

    def stream(self) -> Iterator[str]:
        """The text in small pieces, for a UI that shows it as it arrives."""
        yield from re.split(r"(?<=\s)", self.text)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (hits included)."""
        return {
            "answer_id": self.answer_id,
            "question": self.question,
            "answer": self.text,
            "found": self.found,
            "method": self.method,
            "citations": [c.to_dict() for c in self.citations],
            "hits": [h.to_dict() for h in self.hits],
            "timings": self.timings,
            "query": self.query or self.question,
            "rewrite": self.rewrite,
            "checks": [c.to_dict() for c in self.checks],
            "tokens": self.tokens,
            "error": self.error,
            "raw": self.raw,
        }


def _table_row(sentence: str, text: str) -> str:
    """A Markdown table row rendered as 'Header: value; ...' using the table's header line."""
    header = next((ln for ln in text.splitlines() if ln.startswith("|")), "")
    names = [c.strip().replace("_", " ") for c in header.strip("|").split("|")]
    cells = [c.strip() for c in sentence.strip("|").split("|")]
    if header == sentence or len(names) != len(cells):
        return sentence
    return "; ".join(f"{n}: {c}" for n, c in zip(names, cells, strict=True) if c)


Embed = Callable[[list[str]], list[list[float]]]


def _candidates(
    question: str, hits: list[Hit], embed: Embed | None
) -> list[tuple[float, int, int, str]]:
    """(score, hit index, sentence index, sentence) for the sentences of the top passages,
    scored by meaning (cosine to the question) and by shared query terms."""
    terms = set(tokenize([question])[0])
    # Table rows are read with their header ("City: Tokyo; Per diem: 11500"), so that a
    # question naming a column matches the row; questions in FAQs restate, they don't answer.
    sentences = [
        (hi, si, _table_row(sentence, hit.text) if sentence.startswith("|") else sentence)
        for hi, hit in enumerate(hits[:MAX_PASSAGES])
        for si, sentence in enumerate(split_sentences(hit.text))
        if not set(sentence) <= set("|-: ")  # table separator lines
        and (sentence.startswith("|") or len(sentence.split()) >= MIN_WORDS)
        and not sentence.endswith("?")
    ]
    if not sentences:
        return []
    overlaps = [
        len(terms & set(tokenize([s])[0])) / len(terms) if terms else 0.0 for _, _, s in sentences
    ]
    cosines = [0.0] * len(sentences)
    if embed is not None:
        vectors = embed([question] + [s for _, _, s in sentences])
        q = vectors[0]
        cosines = [sum(a * b for a, b in zip(q, v, strict=True)) for v in vectors[1:]]
    out = []
    for (hi, si, sentence), overlap, cosine in zip(sentences, overlaps, cosines, strict=True):
        score = (MEANING_WEIGHT * cosine + (1 - MEANING_WEIGHT) * overlap) / (1 + _RANK_DECAY * hi)
        if overlap > 0 or cosine > 0.3:
            out.append((score, hi, si, sentence))
    return sorted(out, key=lambda c: (-c[0], c[1], c[2]))


def extractive_answer(
    question: str, hits: list[Hit], embed: Embed | None = None
) -> tuple[str, list[Citation], str]:
    """Quote the sentences that best match the question, each followed by its [n] marker.

    Returns (answer text, citations, the extract: which sentences were picked and why)."""
    picked: list[tuple[float, int, int, str]] = []
    total = 0
    for cand in _candidates(question, hits, embed):
        if len(picked) == MAX_SENTENCES or total + len(cand[3]) > MAX_CHARS and picked:
            break
        if picked and cand[0] < picked[0][0] * KEEP_RATIO:
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
        parts.append(f"{sentence.lstrip('- ').strip()} [{numbers[hi]}]")
    citations = [
        Citation(n, h.doc_id, h.name, h.page, h.heading, h.text, h.chunk_id)
        for hi, n in numbers.items()
        for h in [hits[hi]]
    ]
    extract = "\n".join(f"[{numbers[hi]}] score={sc:.2f} {s}" for sc, hi, _, s in picked)
    return " ".join(parts), sorted(citations, key=lambda c: c.n), extract


# A passage holding every content word of the question is on topic even when its embedding
# is far (table rows embed poorly: the sample's Tokyo row scores cosine 0.27 for "the hotel
# cap in Tokyo?"). One word alone matches too much by chance ("photosynthesis", "light").
MIN_COVERED_WORDS = 2


def covers(query: str, hit: Hit) -> bool:
    """Whether `hit` holds every content word of `query` (stemmed; question words aside)."""
    words = set(tokenize([query])[0]) - _QUESTION_STEMS
    if len(words) < MIN_COVERED_WORDS:
        return False
    return words <= set(tokenize([f"{hit.name} {hit.heading} {hit.text}"])[0])


def is_relevant(hits: list[Hit], min_relevance: float, query: str = "") -> bool:
    """Whether the passages are close enough to the question to answer from: the best one's
    cosine reaches `min_relevance`, or one of them holds every content word of `query`."""
    dense = [h.scores.get("dense") for h in hits]
    best = max((d for d in dense if d is not None), default=None)
    if best is not None and best >= min_relevance:
        return True
    return bool(query) and any(covers(query, h) for h in hits)
