"""Every page through Streamlit's AppTest: real Chroma, the real model, real parsing."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

from kb.answer.extractive import NOT_FOUND
from kb.config import load_settings
from kb.knowledge_base import KnowledgeBase
from tests.app_helpers import (
    ADMIN,
    APP,
    PASSWORD,
    ROOT,
    SAMPLE_DOCS,
    TIMEOUT,
    ZEPHYR_NAME,
    ZEPHYR_PAGES,
    broken_docx,
    make_pdf,
    set_app_env,
)

UPLOAD, ADMIN_PAGE, INSPECTOR = (
    "pages/1_Upload.py",
    "pages/2_Admin.py",
    "pages/3_Source_inspector.py",
)

pytestmark = pytest.mark.slow  # real model, AppTest, subprocesses or servers


def start(user: str | None = ADMIN) -> AppTest:
    """The app, run once (the chat page), signed in as `user` (None: not signed in)."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    return sign_in(at, user, PASSWORD) if user else at


def plain(markdown: str) -> str:
    """What a reader sees of the app's markdown: no colour directives, bold or escapes."""
    text = re.sub(r":material/[a-z_]+: ?", "", markdown)
    text = re.sub(r":[a-z-]+\[((?:[^\]\\]|\\.)*)\]", r"\1", text).replace("**", "")
    return re.sub(r"\\(.)", r"\1", text)


def texts(node: AppTest | Block) -> str:
    """Every markdown, caption and alert under `node` as a reader sees it, joined."""
    kinds = ("markdown", "caption", "info", "error", "success", "warning")
    return "\n".join(plain(str(e.value)) for kind in kinds for e in getattr(node, kind))


def outcome_lines(at: AppTest) -> dict[str, str]:
    """The upload page's per-file lines ('<name>: <outcome>') by file name."""
    lines = [plain(m.value).strip() for m in at.markdown[1:]]
    return {line.split(":")[0]: line for line in lines}


def progress_bar(at: AppTest) -> Any:
    """The page's (first) progress bar: .value in percent, .proto.text its label."""
    return at.get("progress")[0]


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def query_box(at: AppTest) -> Any:
    """The Source inspector's query box (beside it: the box for a past answer's id)."""
    return next(t for t in at.text_input if t.label == "Query")


def sign_in(at: AppTest, name: str, password: str) -> AppTest:
    next(t for t in at.text_input if t.label == "User name").input(name)
    next(t for t in at.text_input if t.label == "Password").input(password)
    at.form_submit_button[0].click().run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppTest, Path]]:
    """The app started on an empty store: it indexes sample_docs/ itself."""
    data = tmp_path_factory.mktemp("samples-data")
    with pytest.MonkeyPatch.context() as mp:
        set_app_env(mp, data, samples=SAMPLE_DOCS)
        yield start(), data


@pytest.fixture
def samples_app(first_run: tuple[AppTest, Path], monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """A new session on the indexed sample documents."""
    set_app_env(monkeypatch, first_run[1], samples=SAMPLE_DOCS)
    return start()


def test_first_run_indexes_the_sample_documents_with_progress(
    first_run: tuple[AppTest, Path],
) -> None:
    at, data = first_run
    status = at.status[0]
    expected = len([p for p in SAMPLE_DOCS.iterdir() if p.suffix != ".yaml"])
    assert status.label == f"Sample documents indexed: {expected} files: {expected} new"
    assert status.state == "complete"
    assert progress_bar(at).value == 100
    assert "employee-handbook.pdf" in texts(status)
    assert f"{expected} documents you can ask about" in texts(at)
    assert len(at.chat_input) == 1
    assert len(KnowledgeBase(load_settings(data_dir=data)).documents()) == expected


def test_a_new_session_does_not_index_again(samples_app: AppTest) -> None:
    assert not samples_app.status


def test_chat_answers_with_a_sources_panel(samples_app: AppTest) -> None:
    at = ask(samples_app, "How many days do I have to submit an expense claim?")
    user, assistant = at.chat_message
    assert user.name == "user" and assistant.name == "assistant"
    answer = assistant.markdown[0].value
    assert "45 days" in answer and ":blue[**\\[1\\]**]" in answer
    assert re.search(r"Answered in \d+ (ms|\.\d+ s)", texts(assistant))
    sources = assistant.expander[0]
    assert sources.label == "Sources (1)"
    shown = texts(sources)
    assert "[1] employee-handbook.pdf · page 4" in shown
    assert re.search(r"fused \d\.\d{3} · dense cosine \d\.\d{3} \(#\d+\) · keyword BM25", shown)
    assert ":orange-background[Submit expense claims]" in sources.markdown[1].value
    assert [b.label for b in at.download_button] == ["Download the original"]


def test_a_question_about_a_name_no_passage_mentions_is_declined(samples_app: AppTest) -> None:
    at = ask(samples_app, "What is the Zephyr per-diem for Lisbon?")
    reply = at.chat_message[1]
    assert plain(reply.markdown[0].value) == NOT_FOUND and not reply.expander
    assert "no passage given mentions Zephyr, Lisbon" in plain(texts(reply))


def test_history_stays_and_new_chat_clears_it(samples_app: AppTest) -> None:
    at = ask(samples_app, "What is the minimum length for a password?")
    at = ask(at, "What is the capital of Peru?")
    assert len(at.chat_message) == 4
    assert plain(at.chat_message[3].markdown[0].value) == NOT_FOUND
    assert not at.chat_message[3].expander  # nothing found, no sources
    assert "14 characters" in texts(at.chat_message[1])
    next(b for b in at.sidebar.button if b.label == "New chat").click().run()
    assert len(at.chat_message) == 0


def test_an_empty_knowledge_base_says_how_to_add_documents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_app_env(monkeypatch, tmp_path)
    at = start()
    assert "The knowledge base has no documents for you yet" in texts(at)
    assert "kb ingest" in texts(at)
    assert not at.chat_input


def test_inspector_shows_every_step(samples_app: AppTest) -> None:
    at = samples_app.switch_page(INSPECTOR).run()
    assert "Type a query above" in texts(at)
    query_box(at).input("expense claim deadline").run()
    assert not at.exception, at.exception
    dense, keyword, fused = (d.value for d in at.dataframe)
    assert dense.iloc[0]["score"] > 0.3 and "page" in dense.columns
    assert keyword.iloc[0]["score"] > 0 and len(keyword) <= 10
    assert fused["top k"].sum() == 5 and {"dense rank", "keyword rank"} <= set(fused.columns)
    assert dense.iloc[0]["document"] == "employee-handbook.pdf"
    assert re.match(r"\[1\] score=\d\.\d\d ", at.code[0].value)
    assert "Passages given to the answer (5)" in texts(at)


def test_inspector_offers_the_questions_asked_in_chat(samples_app: AppTest) -> None:
    at = ask(samples_app, "How long is the probation period?")
    at.switch_page(INSPECTOR).run()
    at.selectbox[0].select("How long is the probation period?").run()
    assert query_box(at).value == "How long is the probation period?"
    assert len(at.dataframe) == 3


def test_upload_reports_each_file_and_a_broken_one_does_not_stop_the_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_app_env(monkeypatch, tmp_path / "data")
    at = start().switch_page(UPLOAD).run()
    assert "Accepted formats: PDF (.pdf), Word (DOCX) (.docx)" in texts(at)
    assert "Size limit: 50 MB per file" in texts(at)
    pdf = make_pdf(tmp_path / ZEPHYR_NAME, ZEPHYR_PAGES).read_bytes()
    batch = [
        ("broken.pdf", b"this is not a PDF at all", "application/pdf"),
        (ZEPHYR_NAME, pdf, "application/pdf"),
        ("policy.docx", broken_docx(), "application/octet-stream"),
        ("rates.csv", (SAMPLE_DOCS / "travel-per-diem-rates.csv").read_bytes(), "text/csv"),
    ]
    at.file_uploader[0].set_value(batch).run()
    at.button[0].click().run()
    assert not at.exception, at.exception
    lines = outcome_lines(at)
    assert len(lines) == 4  # one line per file, in the order they finished
    assert lines["broken.pdf"].startswith("broken.pdf: failed — named .pdf but its content")
    assert re.match(rf"{ZEPHYR_NAME}: indexed \(\d+ chunks\)$", lines[ZEPHYR_NAME])
    assert lines["policy.docx"].startswith("policy.docx: failed — ")
    assert "damaged" in lines["policy.docx"]
    assert re.match(r"rates.csv: indexed \(\d+ chunks\)$", lines["rates.csv"])
    assert progress_bar(at).value == 100
    assert "4 files: 2 indexed, 2 failed" in progress_bar(at).proto.text
    names = {d.name for d in KnowledgeBase(load_settings()).documents()}
    assert names == {ZEPHYR_NAME, "rates.csv"}

    # The same bytes again: unchanged; new bytes under the same name: replaced.
    at.file_uploader[0].set_value(
        [(ZEPHYR_NAME, pdf, "application/pdf"), ("rates.csv", b"city,rate\nOslo,900\n", "text/csv")]
    ).run()
    at.button[0].click().run()
    lines = outcome_lines(at)
    assert "unchanged" in lines[ZEPHYR_NAME]
    assert "replaced" in lines["rates.csv"] and "old version out of search" in lines["rates.csv"]


def test_admin_deletes_with_confirmation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_app_env(monkeypatch, tmp_path / "data")
    base = KnowledgeBase(load_settings())
    pdf = make_pdf(tmp_path / ZEPHYR_NAME, ZEPHYR_PAGES)
    base.ingest_paths([pdf, SAMPLE_DOCS / "holiday-closure-2026.eml"])
    at = start().switch_page(ADMIN_PAGE).run()
    table = at.dataframe[0].value
    assert list(table["name"]) == ["holiday-closure-2026.eml", ZEPHYR_NAME]
    assert list(table["pages"]) == ["–", "2"] and not table["stale"].any()

    zephyr = base.document(ZEPHYR_NAME).doc_id
    next(m for m in at.multiselect if m.label == "Documents to act on").set_value([zephyr]).run()
    next(b for b in at.button if b.label == "Delete").click().run()
    assert "cannot be undone" in texts(at)
    next(b for b in at.button if b.label == "Yes, delete").click().run()
    assert not at.exception, at.exception
    assert f"Deleted {ZEPHYR_NAME}" in plain(at.success[0].value)
    assert list(at.dataframe[0].value["name"]) == ["holiday-closure-2026.eml"]
    assert [d.name for d in base.documents()] == ["holiday-closure-2026.eml"]
    assert base.check() == []


def test_admin_reindexes_with_confirmation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_app_env(monkeypatch, tmp_path)
    KnowledgeBase(load_settings()).ingest_paths([SAMPLE_DOCS / "travel-per-diem-rates.csv"])
    at = start().switch_page(ADMIN_PAGE).run()
    next(b for b in at.button if b.label == "Re-index all").click().run()
    next(b for b in at.button if b.label == "Cancel").click().run()
    assert not at.success
    next(b for b in at.button if b.label == "Re-index all").click().run()
    next(b for b in at.button if b.label == "Yes, re-index").click().run()
    assert "Re-indexed 1 file: 1 reindexed" in at.success[0].value
    next(b for b in at.button if b.label == "Check consistency").click().run()
    assert "agree" in at.success[0].value


PAGE_FILES = [APP, *sorted((ROOT / "pages").rglob("*.py"))]
# Formatting helpers (kb objects -> text and rows) moved out of kb/ by design: they are not
# Streamlit glue, so they answer to tests/test_layers.py (no streamlit, no engine) and to
# test_format_helpers_stay_small below instead of the 120-line page rule.
FORMAT = ROOT / "pages" / "shared" / "format"
GLUE_FILES = [p for p in PAGE_FILES if FORMAT not in p.parents]


@pytest.mark.parametrize("path", GLUE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_are_thin(path: Path) -> None:
    source = path.read_text()
    assert len(source.splitlines()) <= 120, f"{path.name} is over 120 lines: move logic to kb/"
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"chromadb", "llama_index", "unstructured"}
    allowed = {
        "__future__",
        "collections",
        "threading",
        "time",
        "typing",
        "streamlit",
        "kb",
        "pages",
    }
    assert imported <= allowed, imported - allowed


@pytest.mark.parametrize("path", sorted(FORMAT.glob("*.py")), ids=lambda p: p.name)
def test_format_helpers_stay_small(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= 400, f"{path.name}: split it"
