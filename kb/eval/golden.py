"""Golden questions: does search find the expected file (and page) in its top k?"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from kb.errors import DatasetError
from kb.search.retrieval import Hit


@dataclass
class GoldenQuestion:
    """A question with the file (and page) that answers it."""

    question: str
    file: str
    page: int | None = None
    answer: str | None = None
    type: str | None = None  # a question set's own category (FinanceBench: metrics-generated, ...)


@dataclass
class GoldenResult:
    """hit@k and MRR by file and by page over a question set, with the misses."""

    k: int
    n: int
    file_hits: int
    file_mrr: float
    paged: int
    page_hits: int
    page_mrr: float
    misses: list[dict[str, Any]] = field(default_factory=list)
    outcomes: dict[str, bool] = field(default_factory=dict)  # question -> file (and page) found
    file_first: int = 0  # questions whose file ranked first
    page_first: int = 0
    by_type: dict[str, dict[str, int]] = field(default_factory=dict)  # type -> n, hits

    @property
    def file_hit_rate(self) -> float:
        """Share of questions whose file is in the top k."""
        return self.file_hits / self.n if self.n else 0.0

    @property
    def page_hit_rate(self) -> float:
        """Share of paged questions whose file and page are in the top k."""
        return self.page_hits / self.paged if self.paged else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "k": self.k,
            "questions": self.n,
            "file_hit_rate": self.file_hit_rate,
            "file_mrr": self.file_mrr,
            "paged_questions": self.paged,
            "page_hit_rate": self.page_hit_rate,
            "page_mrr": self.page_mrr,
            "file_hit@1": self.file_first / self.n if self.n else 0.0,
            "page_hit@1": self.page_first / self.paged if self.paged else 0.0,
            "by_type": self.by_type,
            "misses": self.misses,
            "outcomes": self.outcomes,
        }


def load_questions(path: Path) -> list[GoldenQuestion]:
    """Read a questions file: a YAML list of {question, file, page?, answer?}."""
    try:
        raw = yaml.safe_load(path.read_text())
        return [
            GoldenQuestion(
                str(q["question"]), str(q["file"]), q.get("page"), q.get("answer"), q.get("type")
            )
            for q in raw
        ]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise DatasetError(
            f"cannot read questions from {path}: {exc}; expected a YAML list of "
            "{question, file, page} entries"
        ) from exc


def _first_rank(hits: list[Hit], ok: Callable[[Hit], bool]) -> int | None:
    return next((r for r, h in enumerate(hits, 1) if ok(h)), None)


def _same_file(q: GoldenQuestion, h: Hit) -> bool:
    return h.name == q.file


def _same_page(q: GoldenQuestion, h: Hit) -> bool:
    return h.name == q.file and h.page == q.page


def evaluate_golden(
    questions: list[GoldenQuestion], search: Callable[[str, int], list[Hit]], k: int = 5
) -> GoldenResult:
    """Run every question through `search` and score file and page hits."""
    file_hits = page_hits = paged = 0
    file_rr = page_rr = 0.0
    misses = []
    outcomes: dict[str, bool] = {}
    file_first = page_first = 0
    by_type: dict[str, dict[str, int]] = {}
    for q in questions:
        hits = search(q.question, k)[:k]
        fr = _first_rank(hits, partial(_same_file, q))
        file_hits += fr is not None
        file_first += fr == 1
        file_rr += 1 / fr if fr else 0.0
        pr = None
        if q.page is not None:
            paged += 1
            pr = _first_rank(hits, partial(_same_page, q))
            page_hits += pr is not None
            page_first += pr == 1
            page_rr += 1 / pr if pr else 0.0
        passed = fr is not None and (q.page is None or pr is not None)
        outcomes[q.question] = passed
        row = by_type.setdefault(q.type or "all", {"n": 0, "file_hits": 0, "page_hits": 0})
        row["n"] += 1
        row["file_hits"] += fr is not None
        row["page_hits"] += pr is not None
        if not passed:
            misses.append(
                {
                    "question": q.question,
                    "expected": f"{q.file}" + (f" p.{q.page}" if q.page else ""),
                    "got": [f"{h.name}" + (f" p.{h.page}" if h.page else "") for h in hits],
                }
            )
    n = len(questions)
    return GoldenResult(
        k,
        n,
        file_hits,
        file_rr / n if n else 0.0,
        paged,
        page_hits,
        page_rr / paged if paged else 0.0,
        misses,
        outcomes,
        file_first,
        page_first,
        by_type,
    )


MODES = ("hybrid", "keyword", "dense")  # kb's default pipeline first, then each leg alone


def evaluate_modes(
    search: Callable[..., list[Hit]], questions: list[GoldenQuestion], k: int
) -> dict[str, GoldenResult]:
    """`evaluate_golden` for kb's hybrid pipeline and each of its legs alone, by mode name;
    `search(query, k, mode)` is the knowledge base's."""
    return {m: evaluate_golden(questions, partial(_in_mode, search, m), k) for m in MODES}


def _in_mode(
    search: Callable[[str, int, str], list[Hit]], mode: str, query: str, k: int
) -> list[Hit]:
    return search(query, k, mode)
