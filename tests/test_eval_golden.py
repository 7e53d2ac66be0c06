"""`kb eval golden --baseline naive`: kb and the naive LlamaIndex pipeline over the same real
files, indexed in the same run, scored side by side (issue 17)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb.errors import DatasetError
from kb.eval.baseline import find_files
from kb.eval.golden import GoldenQuestion, evaluate_golden
from kb.search.retrieval import Hit
from tests.conftest import SAMPLE_DOCS
from tests.test_cli import kb

QUESTIONS = """\
- {question: "How many days do I have to submit an expense claim?",
   file: employee-handbook.pdf, page: 4, type: policy}
- {question: "What is the daily allowance in Tokyo?", file: travel-per-diem-rates.csv,
   type: table}
- {question: "How quickly must the security team respond to a critical (SEV1) incident?",
   file: security-incident-runbook.pdf, page: 1, type: policy}
"""


def test_hit_at_1_mrr_and_the_breakdown_by_type() -> None:
    qs = [GoldenQuestion("a?", "x.pdf", 2, type="t1"), GoldenQuestion("b?", "y.pdf", type="t2")]
    ranked = {"a?": [("y.pdf", 1), ("x.pdf", 2)], "b?": [("y.pdf", None)]}

    def search(q: str, k: int) -> list[Hit]:
        return [Hit(f"{n}:{p}", n, n, p, "", "", 1.0) for n, p in ranked[q]]

    d = evaluate_golden(qs, search, 5).to_dict()
    assert (d["file_hit@1"], d["file_hit_rate"], d["file_mrr"]) == (0.5, 1.0, 0.75)
    assert (d["page_hit@1"], d["page_hit_rate"], d["page_mrr"]) == (0.0, 1.0, 0.5)
    assert d["by_type"] == {"t1": {"n": 1, "file_hits": 1, "page_hits": 1},
                            "t2": {"n": 1, "file_hits": 1, "page_hits": 0}}  # fmt: skip


def test_the_files_are_found_under_the_docs_folder_or_named(tmp_path: Path) -> None:
    qs = [GoldenQuestion("q?", "employee-handbook.pdf"), GoldenQuestion("r?", "nowhere.pdf")]
    assert find_files(qs[:1], SAMPLE_DOCS) == [SAMPLE_DOCS / "employee-handbook.pdf"]
    with pytest.raises(DatasetError, match=r"2 files .* nowhere.pdf\): point --docs"):
        find_files(qs, tmp_path)


@pytest.mark.slow  # the real model, real files, a subprocess
def test_kb_and_the_naive_pipeline_side_by_side(tmp_path: Path) -> None:
    questions = tmp_path / "questions.yaml"
    questions.write_text(QUESTIONS)
    run = kb("eval", "golden", str(questions), "--baseline", "naive", "--docs", str(SAMPLE_DOCS),
             "--json", data=tmp_path / "data")  # fmt: skip
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert set(out) >= {"hybrid", "keyword", "dense", "naive", "index"}
    assert out["files"] == 3 and out["hybrid"]["questions"] == 3
    assert out["hybrid"]["file_hit_rate"] == 1.0  # kb finds each file
    assert "3 indexed" in out["index"]["kb"] and "pages" in out["index"]["naive"]
    assert 0.0 <= out["naive"]["file_hit@1"] <= out["naive"]["file_hit_rate"] <= 1.0
    assert set(out["naive"]["by_type"]) == {"policy", "table"}
    table = kb("eval", "golden", str(questions), "--baseline", "naive", "--docs",
               str(SAMPLE_DOCS), data=tmp_path / "data").stdout  # fmt: skip
    assert "naive" in table and "kb hybrid" in table and "0 indexed, 3 already" in table
