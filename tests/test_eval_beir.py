"""`kb eval beir` end to end on a small BEIR-format set written here: real ingest, real model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb.eval.sweep import BM25_PARAMS, DENSE_WEIGHTS, METHODS
from tests.test_cli import kb

pytestmark = pytest.mark.slow  # real model, AppTest, subprocesses or servers

# Each query shares its words (or, for q4, only its meaning) with one document; d5-d8 are
# distractors that share a word or two.
CORPUS = {
    "d1": ("Travel expenses", "Hotel costs abroad are refunded up to the city cap per night."),
    "d2": ("Parental leave", "New parents receive sixteen weeks of paid leave after a birth."),
    "d3": ("Password rules", "Passwords must be fourteen characters and rotated every year."),
    "d4": ("Office pets", "Dogs may come to the office on Fridays if the team agrees."),
    "d5": ("Hotel loyalty", "Points from hotel programmes stay with the employee."),
    "d6": ("Leave calendar", "Public holidays are listed in the calendar each January."),
    "d7": ("Security training", "Every employee completes security training in March."),
    "d8": ("Canteen", "The canteen serves lunch from noon until two."),
}
QUERIES = {
    "q1": "how much of a hotel night abroad is refunded",
    "q2": "weeks of paid leave for new parents",
    "q3": "how many characters must a password have",
    "q4": "can I bring my puppy to work",
}
QRELS = {"q1": "d1", "q2": "d2", "q3": "d3", "q4": "d4"}


def write_beir(folder: Path) -> Path:
    (folder / "qrels").mkdir(parents=True)
    with open(folder / "corpus.jsonl", "w") as f:
        for cid, (title, text) in CORPUS.items():
            f.write(json.dumps({"_id": cid, "title": title, "text": text}) + "\n")
    with open(folder / "queries.jsonl", "w") as f:
        for qid, text in QUERIES.items():
            f.write(json.dumps({"_id": qid, "text": text}) + "\n")
    rows = "".join(f"{q}\t{d}\t1\n" for q, d in QRELS.items())
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + rows)
    return folder


def test_eval_beir_scores_every_leg_and_sweeps_fusion_on_the_same_legs(tmp_path: Path) -> None:
    beir = write_beir(tmp_path / "mini")
    data = tmp_path / "data"
    run = kb("eval", "beir", str(beir), "--split", "test", "--sweep", "--json", data=data)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    for leg in ("hybrid", "keyword", "dense"):
        assert set(out[leg]) >= {"ndcg@10", "recall@100", "mrr@10"}
        assert all(0 <= out[leg][m] <= 1 for m in ("ndcg@10", "recall@100", "mrr@10"))
    # Every relevant document is among 8: recall is complete; the wording makes most hits first.
    assert out["hybrid"]["recall@100"] == 1.0
    assert out["hybrid"]["ndcg@10"] > 0.8
    # q4 shares no word with d4: only the dense leg can rank it, so BM25 alone scores lower.
    assert out["keyword"]["recall@100"] < 1.0
    sweep = out["sweep"]
    assert len(sweep) == len(BM25_PARAMS) * ((len(METHODS) - 1) * len(DENSE_WEIGHTS) + 1)
    ndcgs = [row["ndcg@10"] for row in sweep]
    assert ndcgs == sorted(ndcgs, reverse=True)
    assert any(row["variant"].startswith("zscore") for row in sweep)
    # The embeddings went to the data dir's cache; a re-run reads them and scores the same.
    assert (data / "embeddings.sqlite").is_file()
    again = kb("eval", "beir", str(beir), "--split", "test", "--json", data=data)
    assert again.returncode == 0, again.stderr
    metrics = ("ndcg@10", "recall@100", "mrr@10")
    for leg in ("hybrid", "keyword", "dense"):
        assert {m: json.loads(again.stdout)[leg][m] for m in metrics} == {
            m: out[leg][m] for m in metrics
        }


def test_eval_beir_on_a_folder_without_the_dataset_says_what_it_expects(tmp_path: Path) -> None:
    run = kb("eval", "beir", str(tmp_path), data=tmp_path / "data")
    assert run.returncode != 0
    assert "expected corpus.jsonl, queries.jsonl and qrels/test.tsv" in run.stderr
    assert "Traceback" not in run.stderr
