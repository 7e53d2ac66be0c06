"""The `kb` command as users run it: a real process, real files, exit codes and JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLE_DOCS


def kb(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KB_DATA_DIR": str(data / "unused")}
    return subprocess.run(
        [sys.executable, "-m", "kb.cli", *args, "--data-dir", str(data)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
    )


@pytest.fixture(scope="module")
def cli_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("cli") / "data"
    docs = [SAMPLE_DOCS / n for n in ("employee-handbook.pdf", "travel-per-diem-rates.csv")]
    result = kb("ingest", *map(str, docs), "--json", data=data)
    assert result.returncode == 0, result.stderr
    assert [o["status"] for o in json.loads(result.stdout)] == ["indexed", "indexed"]
    return data


def test_data_dir_flag_wins_over_the_environment(cli_data: Path) -> None:
    assert (cli_data / "registry.sqlite").is_file()
    assert not (cli_data / "unused").exists()


def test_ingest_reports_each_file_and_exits_1_when_any_fails(
    cli_data: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "scan.pdf"
    bad.write_bytes(b"not a pdf at all")
    good = tmp_path / "note.txt"
    good.write_text("The loading dock opens at 06:15 on weekdays.")
    result = kb(
        "ingest", str(bad), str(good), str(SAMPLE_DOCS / "employee-handbook.pdf"), data=cli_data
    )
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(ln.startswith("scan.pdf: failed: named .pdf but its content is TXT") for ln in lines)
    assert "note.txt: indexed (1 chunks)" in lines
    assert "employee-handbook.pdf: unchanged (already indexed)" in lines
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("ingest", "/no/such/file.pdf"), "no such file or folder"),
        (("docs", "delete", "nope.pdf"), "no document with id or name 'nope.pdf'"),
        (("reindex",), "pass --all"),
        (("search",), "give a query"),
    ],
)
def test_user_errors_are_one_clear_line(cli_data: Path, args: tuple[str, ...], needle: str) -> None:
    result = kb(*args, data=cli_data)
    assert result.returncode != 0
    assert needle in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_search_json_has_the_documented_fields(cli_data: Path) -> None:
    result = kb("search", "per diem rate in Tokyo", "-k", "3", "--json", data=cli_data)
    hits = json.loads(result.stdout)
    assert len(hits) == 3
    for h in hits:
        assert {"doc_id", "name", "page", "heading", "text", "score", "scores"} <= set(h)
        assert set(h["scores"]) == {"dense", "keyword", "fused"}
    assert hits[0]["name"] == "travel-per-diem-rates.csv"


def test_search_batch_prints_one_line_per_query_in_order(cli_data: Path, tmp_path: Path) -> None:
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        json.dumps({"query": "Tokyo hotel cap"}) + "\n" + json.dumps({"query": "core hours"}) + "\n"
    )
    result = kb("search", "--queries", str(queries), "-k", "2", data=cli_data)
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(ln) for ln in lines)
    assert first[0]["name"] == "travel-per-diem-rates.csv"
    assert second[0]["name"] == "employee-handbook.pdf" and second[0]["page"] == 2


def test_ask_json_answers_with_citations(cli_data: Path) -> None:
    result = kb("ask", "Between which times are the core hours?", "--json", data=cli_data)
    answer = json.loads(result.stdout)
    assert "09:30 to 14:30" in answer["answer"]
    cited = answer["citations"][0]
    assert {"n", "doc_id", "name", "page", "text"} <= set(cited)
    assert (cited["name"], cited["page"]) == ("employee-handbook.pdf", 2)


def test_ask_with_a_down_model_notes_it_and_answers_from_the_sources(
    cli_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_generation import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"
    monkeypatch.setenv("KB_LLM", "openai")
    monkeypatch.setenv("KB_LLM_BASE_URL", url)
    result = kb("ask", "Between which times are the core hours?", data=cli_data)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        f"note: the language model's answer is not shown: the language model at {url} is "
        "unreachable; check that it runs (KB_LLM_*)"
    )
    assert "09:30 to 14:30" in result.stdout and "[1] employee-handbook.pdf" in result.stdout


def test_docs_list_delete_and_reindex(cli_data: Path, tmp_path: Path) -> None:
    note = tmp_path / "temp-note.md"
    note.write_text("# Temp\n\nThe temporary fact is kiwi-lantern.\n")
    assert kb("ingest", str(note), data=cli_data).returncode == 0
    listed = json.loads(kb("docs", "list", "--json", data=cli_data).stdout)
    assert "temp-note.md" in {d["name"] for d in listed}
    assert {
        "doc_id",
        "name",
        "kind",
        "size",
        "sha256",
        "pages",
        "chunks",
        "ingested_at",
        "status",
    } <= set(listed[0])
    reindexed = kb("reindex", "temp-note.md", data=cli_data)
    assert reindexed.returncode == 0 and "temp-note.md: reindexed" in reindexed.stdout
    deleted = kb("docs", "delete", "temp-note.md", data=cli_data)
    assert deleted.returncode == 0 and "deleted temp-note.md" in deleted.stdout
    hits = json.loads(kb("search", "kiwi-lantern", "--json", data=cli_data).stdout)
    assert "temp-note.md" not in {h["name"] for h in hits}
    assert kb("check", data=cli_data).stdout.strip().endswith("consistent")
