"""The `kb` command as users run it: a real process, real files, exit codes and JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLE_DOCS

pytestmark = pytest.mark.slow  # real model, AppTest, subprocesses or servers


def kb(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KB_DATA_DIR": str(data / "unused")}
    return subprocess.run(
        [sys.executable, "-m", "kb.cli.main", *args, "--data-dir", str(data)],
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
    assert (cli_data / "kb.sqlite").is_file()
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
        assert set(h["scores"]) == {"dense", "keyword", "fused", "named"}
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


# -- kb users ----------------------------------------------------------------------------------
def users_cmd(*args: str, data: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """`kb users ...` in a real process, the password (if any) piped on stdin."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    return subprocess.run(
        [sys.executable, "-m", "kb.cli.main", "users", *args, "--data-dir", str(data)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        input=stdin,
        timeout=120,
    )


def test_users_add_list_set_passwd_remove(tmp_path: Path) -> None:
    from kb.config import load_settings
    from kb.security.auth import Authenticator

    data = tmp_path / "data"
    pw = "a long enough passphrase\n"
    added = users_cmd("add", "Ann@Example.com", "--role", "admin", data=data, stdin=pw)
    assert added.returncode == 0, added.stderr
    assert "added ann@example.com (admin; groups: -; signs in with a password)" in added.stdout
    assert pw.strip().encode() not in (data / "kb.sqlite").read_bytes()
    assert users_cmd("add", "bob", "--group", "hr,lab", data=data, stdin=pw).returncode == 0
    listed = json.loads(users_cmd("list", "--json", data=data).stdout)
    assert [(u["name"], u["role"], u["groups"]) for u in listed] == [
        ("ann@example.com", "admin", []),
        ("bob", "employee", ["hr", "lab"]),
    ]
    changed = users_cmd("set", "bob", "--add-group", "finance", "--remove-group", "lab", data=data)
    assert changed.stdout.strip() == "bob: employee; groups: finance, hr"
    assert users_cmd("passwd", "bob", data=data, stdin="the new passphrase\n").returncode == 0

    auth = Authenticator(load_settings(data_dir=data))
    principal, _ = auth.sign_in("bob", "the new passphrase")
    assert principal.groups == frozenset({"finance", "hr"}) and not principal.is_admin

    last = users_cmd("remove", "ann@example.com", data=data)
    assert last.returncode == 1 and "last admin" in last.stderr
    assert users_cmd("remove", "bob", data=data).returncode == 0
    assert [u["name"] for u in json.loads(users_cmd("list", "--json", data=data).stdout)] == [
        "ann@example.com"
    ]
    from kb.security.audit import AuditLog
    from kb.security.auth import open_users

    log = AuditLog(open_users(load_settings(data_dir=data)).db)
    events = [(e.action, e.detail["name"]) for e in reversed(log.events(50))]
    assert events == [
        ("user_add", "ann@example.com"),
        ("user_add", "bob"),
        ("user_set", "bob"),
        ("user_passwd", "bob"),
        ("user_remove", "bob"),
    ]
    assert all(e.actor.startswith("cli:") for e in log.events(50)) and log.verify() == []
    assert "passphrase" not in log.csv()


@pytest.mark.parametrize(
    ("args", "stdin", "needle"),
    [
        (("add", "ann"), "", "no password on stdin"),
        (("add", "ann"), "short\n", "too short"),
        (("add", "ann", "--role", "boss"), "a long enough passphrase\n", "invalid choice"),
        (("add", "../../etc"), "a long enough passphrase\n", "invalid user name"),
        (("passwd", "nobody"), "a long enough passphrase\n", "no user named 'nobody'"),
        (("set", "nobody", "--role", "admin"), "", "no user named 'nobody'"),
    ],
)
def test_users_errors_are_one_clear_line_and_change_nothing(
    tmp_path: Path, args: tuple[str, ...], stdin: str, needle: str
) -> None:
    result = users_cmd(*args, data=tmp_path, stdin=stdin)
    assert result.returncode != 0
    assert needle in result.stderr and "Traceback" not in result.stderr
    listed = users_cmd("list", "--json", data=tmp_path)
    assert listed.returncode == 0 and json.loads(listed.stdout) == []


def test_password_is_never_an_argument() -> None:
    from kb.cli.main import build_parser

    for command in ("add", "passwd"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["users", command, "ann", "--password", "secret"])


def test_users_init_creates_one_admin_once(tmp_path: Path) -> None:
    from kb.config import load_settings
    from kb.security.auth import Authenticator

    first = users_cmd("init", data=tmp_path)
    assert first.returncode == 0
    password = next(ln.strip() for ln in first.stderr.splitlines()[3:] if ln.startswith("      "))
    principal, _ = Authenticator(load_settings(data_dir=tmp_path)).sign_in("admin", password)
    assert principal.is_admin
    again = users_cmd("init", data=tmp_path)
    assert again.returncode == 0 and "1 user in" in again.stdout and not again.stderr.strip()


def test_docs_set_list_stale_and_versions(tmp_path: Path) -> None:
    data = tmp_path / "data"
    note = tmp_path / "canteen.md"
    note.write_text("# Canteen\n\nThe canteen serves soup on Thursdays.\n")
    assert kb("ingest", str(note), data=data).returncode == 0
    note.write_text("# Canteen\n\nThe canteen serves soup on Fridays since December.\n")
    assert kb("ingest", str(note), data=data).returncode == 0  # a new version; one kept
    out = kb("docs", "set", "canteen.md", "--owner", "ann@example.com", "--review-by",
             "2026-03-01", data=data)  # fmt: skip
    assert out.returncode == 0, out.stderr
    asked = json.loads(
        kb("ask", "Which day does the canteen serve soup?", "--json", data=data).stdout
    )
    assert asked["citations"][0]["stale"] == [
        "review overdue since 2026-03-01, owner ann@example.com"
    ]
    [row] = json.loads(kb("docs", "list", "--stale", "--json", data=data).stdout)
    assert [s["reason"] for s in row["stale"]] == ["review overdue"]
    assert row["owner"] == "ann@example.com" and row["cited_30_days"] == 1
    text = kb("docs", "list", "--stale", data=data).stdout
    assert "cited by 1 answer in the last 30 days" in text and "1 stale documents" in text
    versions = json.loads(kb("docs", "versions", "canteen.md", "--json", data=data).stdout)
    assert [v["state"] for v in versions] == ["current", "superseded"]
    gone = kb("docs", "delete", "canteen.md", data=data).stdout
    assert gone.strip().endswith("and 1 earlier version")
