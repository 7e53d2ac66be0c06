"""Combine the dense and keyword rankings into one (pure functions, unit-tested)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

Ranking = Sequence[tuple[str, float]]  # (id, score), best first
# "How often is Orion released?" named orion-4-release-notes.txt, whose passages then filled
# the top 5 and pushed out the onboarding guide that answers it; two keep it in view.
# Paged documents are not limited: on FinanceBench the right page is often the 4th or 5th.
UNPAGED_BOOSTS = 2


@dataclass(frozen=True)
class Fused:
    """One fused result with the evidence behind it (None where a leg did not find it)."""

    id: str
    score: float
    dense: float | None
    keyword: float | None
    dense_rank: int | None
    keyword_rank: int | None
    named: float | None = None  # how well the question names its document (kb.index.identity)


def minmax(ranking: Ranking) -> dict[str, float]:
    """Scores scaled to [0, 1] within the list; a list of equal scores scales to 1."""
    if not ranking:
        return {}
    values = [s for _, s in ranking]
    lo, hi = min(values), max(values)
    span = hi - lo
    return {i: (s - lo) / span if span > 0 else 1.0 for i, s in ranking}


def spread(ranking: Ranking) -> dict[str, float]:
    """Scores minus the list's lowest, in standard deviations; equal scores scale to 1.

    Like min-max, the last candidate gets 0 (what a leg that missed an id contributes), but
    one runaway top score does not squash every other candidate towards 0. On SciFact train
    (BM25 0.9 / 0.5) it matched or beat min-max at every dense weight from 0.3 to 0.6, by
    0.0003 to 0.0034 nDCG@10."""
    if not ranking:
        return {}
    values = [s for _, s in ranking]
    lo, avg = min(values), sum(values) / len(values)
    std = (sum((s - avg) ** 2 for s in values) / len(values)) ** 0.5
    return {i: (s - lo) / std if std > 0 else 1.0 for i, s in ranking}


def weighted(
    dense: Ranking,
    keyword: Ranking,
    dense_weight: float = 0.5,
    keyword_weight: float = 0.5,
    scale: Callable[[Ranking], dict[str, float]] = minmax,
) -> dict[str, float]:
    """Weighted sum of each leg's scaled scores (min-max by default); a leg that missed an
    id contributes 0."""
    nd, nk = scale(dense), scale(keyword)
    return {
        i: dense_weight * nd.get(i, 0.0) + keyword_weight * nk.get(i, 0.0)
        for i in nd.keys() | nk.keys()
    }


def rrf(
    dense: Ranking,
    keyword: Ranking,
    k: int = 60,
    dense_weight: float = 1.0,
    keyword_weight: float = 1.0,
) -> dict[str, float]:
    """Reciprocal-rank fusion: sum of weight / (k + rank), ranks 1-based."""
    out: dict[str, float] = {}
    for weight, ranking in ((dense_weight, dense), (keyword_weight, keyword)):
        for rank, (i, _) in enumerate(ranking, start=1):
            out[i] = out.get(i, 0.0) + weight / (k + rank)
    return out


def fuse(
    dense: Ranking,
    keyword: Ranking,
    method: str = "weighted",
    dense_weight: float = 0.5,
    keyword_weight: float = 0.5,
    rrf_k: int = 60,
) -> list[Fused]:
    """Fused ranking, best first; ties keep the dense order, then the keyword order."""
    if method == "rrf":
        scores = rrf(dense, keyword, rrf_k, dense_weight, keyword_weight)
    elif method == "zscore":
        scores = weighted(dense, keyword, dense_weight, keyword_weight, spread)
    else:
        scores = weighted(dense, keyword, dense_weight, keyword_weight)
    d = {i: (r, s) for r, (i, s) in enumerate(dense, start=1)}
    kw = {i: (r, s) for r, (i, s) in enumerate(keyword, start=1)}
    order: dict[str, int] = {}
    for i, _ in [*dense, *keyword]:
        order.setdefault(i, len(order))
    ids = sorted(scores, key=lambda i: (-scores[i], order[i]))
    return [
        Fused(
            id=i,
            score=scores[i],
            dense=d[i][1] if i in d else None,
            keyword=kw[i][1] if i in kw else None,
            dense_rank=d[i][0] if i in d else None,
            keyword_rank=kw[i][0] if i in kw else None,
        )
        for i in ids
    ]


def merge(ranking: Ranking, more: Ranking) -> list[tuple[str, float]]:
    """One leg's candidates and more of the same leg's (same scale), each id once, best first."""
    scores = dict(ranking)
    scores.update(more)
    return sorted(scores.items(), key=lambda x: -x[1])


def boost_named(
    fused: Sequence[Fused],
    named: dict[str, float],
    doc_of: Callable[[str], str],
    weight: float,
    paged: Callable[[str], bool] = lambda d: True,
) -> list[Fused]:
    """The fused ranking with `weight` x its document's name score added to each passage's
    score scaled to the best one's (so the boost means the same whatever the fusion).

    A document without pages gets it for its best UNPAGED_BOOSTS passages only: the name
    says which document, not which passage, and one text file must not fill the top k."""
    if not fused or not named or weight <= 0:
        return list(fused)
    top = max(f.score for f in fused) or 1.0
    out = []
    boosts: dict[str, int] = {}
    for f in fused:
        doc = doc_of(f.id)
        n = named.get(doc)
        if n is not None and not paged(doc):
            boosts[doc] = boosts.get(doc, 0) + 1
            n = n if boosts[doc] <= UNPAGED_BOOSTS else None
        score = f.score / top + weight * (n or 0.0)
        out.append(Fused(f.id, score, f.dense, f.keyword, f.dense_rank, f.keyword_rank, n))
    # sorted() is stable: ties keep the fused order
    return sorted(out, key=lambda f: -f.score)


def spread_pages(fused: Sequence[Fused], page_of: Callable[[str], object], k: int) -> list[Fused]:
    """The ranking with at most one passage per page in its first `k` (the others move just
    below them, in order): five passages of one page would show one page five times.
    `page_of` is None for a passage without pages, which is never held back."""
    first: list[Fused] = []
    held: list[Fused] = []
    seen: set[object] = set()
    for f in fused:
        if len(first) == k:
            break
        page = page_of(f.id)
        if page is not None and page in seen:
            held.append(f)
            continue
        seen.add(page)
        first.append(f)
    return [*first, *held, *fused[len(first) + len(held) :]]


def keep_in_top(
    fused: Sequence[Fused], i: str, k: int, key: Callable[[str], object]
) -> list[Fused]:
    """The ranking with `i` moved up to place `k` when neither it nor another passage of the
    same `key` (its page) is in the first `k`: a question naming a document ("How often is
    Orion released?" beside orion-release-notes.txt) may promote it, never hide the
    passage that matched the question best."""
    ids = [f.id for f in fused]
    if i not in ids or ids.index(i) < k or k < 1:
        return list(fused)
    mark = key(i)
    if mark is not None and any(key(j) == mark for j in ids[:k]):
        return list(fused)
    at = ids.index(i)
    return [*fused[: k - 1], fused[at], *fused[k - 1 : at], *fused[at + 1 :]]


def describe_fusion(
    method: str,
    dense_weight: float = 0.5,
    keyword_weight: float = 0.5,
    rrf_k: int = 60,
    name_weight: float = 0.0,
) -> str:
    """How `fuse` combines the legs with these settings, in words for the Source inspector."""
    weights = f"dense {dense_weight:g}, keyword {keyword_weight:g}"
    if method == "rrf":
        how = f"reciprocal-rank fusion (k={rrf_k}; {weights})"
    elif method == "zscore":
        how = f"weighted sum of scores scaled by their standard deviation ({weights})"
    else:
        how = f"weighted sum of min-max normalised scores ({weights})"
    if name_weight > 0:
        how += (
            f"; when the question names a file, its passages add {name_weight:g} x the name "
            "match to their fused score scaled to the best"
        )
    return how
