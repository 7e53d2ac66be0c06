"""Answer quality on golden questions: the fact in the answer, the right file cited, and speed."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kb.answer.extractive import Quote
from kb.answer.verify import numbers, split_answer, verify_citations
from kb.eval.golden import GoldenQuestion
from kb.index.keyword import tokenize

if TYPE_CHECKING:
    from kb.knowledge_base import KnowledgeBase


def _norm(text: str) -> str:
    return " ".join(re.sub(r"(?<=\d),(?=\d{3}\b)", "", text.lower()).split())


def has_fact(answer: str, fact: str) -> bool:
    """Whether the expected fact occurs in the answer (case, spacing, thousands commas aside)."""
    return _norm(fact) in _norm(answer)


def _pct(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def evaluate_answers(base: KnowledgeBase, questions: Sequence[GoldenQuestion]) -> dict[str, Any]:
    """Ask every question; count facts, right first citations, fallbacks; time the answers."""
    rows: list[dict[str, Any]] = []
    for q in questions:
        started = time.perf_counter()
        stream = base.ask_stream(q.question)
        first = first_model = None
        for piece in stream:  # with a model, the quotes come first, then its words
            now = time.perf_counter() - started
            first = now if first is None else first
            if first_model is None and not isinstance(piece, Quote):
                first_model = now
        answer = stream.answer
        total = time.perf_counter() - started
        cited = answer.citations[0].name if answer.citations else None
        rows.append(
            {
                "question": q.question,
                "fact": bool(q.answer) and has_fact(answer.text, str(q.answer)),
                "model_fact": bool(q.answer) and has_fact(answer.raw or answer.text, str(q.answer)),
                "right_file": cited == q.file,
                "found": answer.found,
                "fallback": bool(answer.error),
                "unsupported": len(answer.unsupported),
                "first_piece_s": first if first is not None else total,
                "first_model_piece_s": first_model,
                "first_token_s": answer.timings.get("first token"),
                "total_s": total,
                "tokens": answer.tokens,
                "method": answer.method,
                "answer": answer.text,
                "error": answer.error,
            }
        )
    n = len(rows) or 1
    firsts = [r["first_piece_s"] for r in rows]
    model_firsts = [r["first_model_piece_s"] for r in rows if r["first_model_piece_s"] is not None]
    totals = [r["total_s"] for r in rows]
    completion = [r["tokens"].get("completion", 0) for r in rows if r["tokens"]]
    return {
        "questions": len(rows),
        "fact_rate": sum(r["fact"] for r in rows) / n,
        "model_fact_rate": sum(r["model_fact"] for r in rows) / n,
        "right_first_citation": sum(r["right_file"] for r in rows) / n,
        "not_found": sum(not r["found"] for r in rows),
        "fallbacks": sum(r["fallback"] for r in rows),
        "unsupported_sentences": sum(r["unsupported"] for r in rows),
        "first_piece_p50_s": _pct(firsts, 0.5),
        "first_piece_p95_s": _pct(firsts, 0.95),
        "first_model_piece_p50_s": _pct(model_firsts, 0.5),
        "first_model_piece_p95_s": _pct(model_firsts, 0.95),
        "total_p50_s": _pct(totals, 0.5),
        "total_p95_s": _pct(totals, 0.95),
        "completion_tokens_mean": statistics.mean(completion) if completion else 0,
        "rows": rows,
    }


def support_samples(
    base: KnowledgeBase, questions: Sequence[GoldenQuestion]
) -> list[tuple[float, bool]]:
    """(support score, should be supported) pairs for choosing KB_VERIFY_THRESHOLD.

    For each question with an expected fact, the claim is what a model typically writes: the
    question's content words and the fact. It is scored against the passage holding the fact
    (should pass) and against the best passage of another document (should fail)."""
    out = []
    for q in questions:
        if not q.answer:
            continue
        hits = base.search(q.question, 10)
        right = next((h for h in hits if has_fact(h.text, str(q.answer))), None)
        wrong = next((h for h in hits if h.name != q.file), None)
        words = " ".join(w for w in re.findall(r"\w+", q.question) if tokenize([w])[0])
        claim = f"{words} {q.answer} [1]."
        for hit, label in ((right, True), (wrong, False)):
            if hit is None:
                continue
            check = verify_citations(claim, {1: hit.text}, 0.0).sentences[0]
            ok_numbers = numbers(split_answer(claim)[0][0]) <= numbers(hit.text)
            out.append((check.support if ok_numbers else 0.0, label))
    return out


def best_threshold(samples: Sequence[tuple[float, bool]]) -> tuple[float, float]:
    """(threshold, accuracy) that best separates supported from unsupported samples."""
    best = (0.0, 0.0)
    for t in [i / 20 for i in range(1, 20)]:
        acc = sum((s >= t) == label for s, label in samples) / (len(samples) or 1)
        if acc > best[1]:
            best = (t, acc)
    return best


def declines(base: KnowledgeBase, questions: Sequence[str]) -> tuple[int, list[str]]:
    """How many of `questions` (none of which the documents answer) kb declines, and the
    ones it answered anyway."""
    answered = [q for q in questions if base.ask(q).found]
    return len(questions) - len(answered), answered
