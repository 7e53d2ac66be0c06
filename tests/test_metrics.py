"""Ranking metrics against hand-computed values."""

from __future__ import annotations

import math

import pytest

from kb.eval.metrics import best_chunk_per_doc, mean, mrr_at_k, ndcg_at_k, recall_at_k


def test_ndcg_by_hand() -> None:
    # Relevant a (grade 1) at rank 2, b (grade 2) at rank 3; ideal order b, a.
    ranked = ["x", "a", "b", "y"]
    rel = {"a": 1, "b": 2}
    dcg = 1 / math.log2(3) + 2 / math.log2(4)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at_k(ranked, rel, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(["a", "b"], {"a": 1, "b": 1}, 10) == pytest.approx(1.0)
    assert ndcg_at_k(["x", "a"], {"a": 1}, 1) == 0.0  # cut-off respected
    assert ndcg_at_k(["x"], {}, 10) == 0.0


def test_recall_by_hand() -> None:
    assert recall_at_k(["a", "x", "b"], {"a": 1, "b": 1, "c": 1}, 100) == pytest.approx(2 / 3)
    assert recall_at_k(["a", "x", "b"], {"a": 1, "b": 1}, 2) == pytest.approx(1 / 2)
    assert recall_at_k(["a"], {"a": 0}, 10) == 0.0  # grade 0 is not relevant


def test_mrr_by_hand() -> None:
    assert mrr_at_k(["x", "y", "a"], {"a": 1}, 10) == pytest.approx(1 / 3)
    assert mrr_at_k(["x", "y", "a"], {"a": 1}, 2) == 0.0
    assert mrr_at_k(["a", "b"], {"a": 1, "b": 1}, 10) == 1.0


def test_documents_score_by_their_best_chunk() -> None:
    doc_of = {"c1": "A", "c2": "B", "c3": "A", "c4": "C"}
    assert best_chunk_per_doc(["c1", "c2", "c3", "c4"], doc_of) == ["A", "B", "C"]
    assert mean([1.0, 0.0, 0.5]) == pytest.approx(0.5) and mean([]) == 0.0
