"""The lifecycle in the app (issue 15): the Upload form sets owner and review date and can make
a file the new version of a chosen document; an answer quoting a version replaced since says
so; the Admin page's stale report marks documents reviewed and lists a document's history."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from kb.config import load_settings
from kb.knowledge_base import KnowledgeBase
from tests.app_helpers import (
    ADMIN,
    ROOT,
    ZEPHYR_FACT,
    ZEPHYR_NAME,
    ZEPHYR_PAGES,
    make_pdf,
    set_app_env,
)
from tests.test_app import ADMIN_PAGE, UPLOAD, ask, plain, start

pytestmark = pytest.mark.slow  # real model, AppTest

QUESTION = "Where is the Zephyr-9 calibration rig stored?"


@pytest.fixture
def zephyr_kb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> KnowledgeBase:
    """An app data dir with the Zephyr notes (open to everyone) and the test users."""
    set_app_env(monkeypatch, tmp_path / "data")
    base = KnowledgeBase(load_settings())
    base.ingest_paths([make_pdf(tmp_path / ZEPHYR_NAME, ZEPHYR_PAGES)])
    return base


def _captions(at: object) -> str:
    return " ".join(c.value for c in at.caption)  # type: ignore[attr-defined]


def test_upload_sets_owner_and_review_date_and_replaces_a_chosen_document(
    zephyr_kb: KnowledgeBase, tmp_path: Path
) -> None:
    chat = ask(start(), QUESTION)
    assert ZEPHYR_FACT in plain(chat.chat_message[1].markdown[0].value)  # from version 1

    at = start().switch_page(UPLOAD).run()
    moved = [ZEPHYR_PAGES[0], ZEPHYR_PAGES[1].replace("Q-17", "R-22")]
    newer = make_pdf(tmp_path / "zephyr-2027.pdf", moved).read_bytes()
    at.file_uploader[0].set_value([("zephyr-2027.pdf", newer, "application/pdf")]).run()
    next(t for t in at.text_input if t.label == "Owner").input("ann@example.com")
    next(d for d in at.date_input if d.label == "Review by").set_value(dt.date(2026, 3, 1))
    doc = zephyr_kb.document(ZEPHYR_NAME)
    next(s for s in at.selectbox if s.label == "Replaces document").set_value(doc.doc_id)
    next(b for b in at.button if b.label.startswith("Upload and index")).click().run()
    assert not at.exception, at.exception

    now = zephyr_kb.document(doc.doc_id)  # the same document, a new version, a new name
    assert (now.name, now.owner, now.review_by) == ("zephyr-2027.pdf", "ann@example.com",
                                                    "2026-03-01")  # fmt: skip
    assert len(zephyr_kb.documents()) == 1 and len(zephyr_kb.versions(doc.doc_id)) == 1

    # The answer quoted before the replace still shows its passage, marked superseded, and
    # the stale mark of the document it came from.
    chat.run()
    assert "superseded on" in _captions(chat) and "by the current version" in _captions(chat)
    labels = [b.label for b in chat.get("download_button")]
    assert "Download the version quoted" in labels and "Download the current version" in labels
    fresh = ask(start(), QUESTION)
    assert "R-22" in plain(fresh.chat_message[1].markdown[0].value)
    marks = plain(_captions(fresh))
    assert "Stale: review overdue since 2026-03-01, owner ann@example.com" in marks
    # The file at its folder still holds the first text: the upload is flagged until synced.
    assert "Stale: its source file changed since indexing" in marks


def test_the_stale_report_marks_documents_reviewed(zephyr_kb: KnowledgeBase) -> None:
    from kb.index import Change
    from kb.security import SYSTEM

    doc = zephyr_kb.document(ZEPHYR_NAME)
    zephyr_kb.set_lifecycle(doc.doc_id, Change(review_by="2026-03-01"), actor=SYSTEM)
    at = start().switch_page(ADMIN_PAGE).run()
    report = next(d.value for d in at.dataframe if "reasons" in d.value.columns)
    assert list(report["reasons"]) == ["review overdue"] and list(report["since"]) == ["2026-03-01"]
    next(m for m in at.multiselect if m.label == "Stale documents to act on").set_value(
        [doc.doc_id]
    ).run()
    next(d for d in at.date_input if d.label == "Next review date").set_value(
        dt.date(2027, 6, 30)
    ).run()
    next(b for b in at.button if b.label == "Mark reviewed").click().run()
    assert not at.exception, at.exception
    after = zephyr_kb.document(doc.doc_id)
    assert after.review_by == "2027-06-30" and after.reviewed_at is not None
    assert zephyr_kb.stale() == {}
    assert any("reviewed; next review 2027-06-30" in s.value for s in at.success)
    assert any("No document is stale" in c.value for c in at.caption)
    history = next(d.value for d in at.dataframe if "state" in d.value.columns)
    assert list(history["state"]) == ["current"]


def test_a_thumbs_down_with_a_correction_becomes_a_labelled_case(
    zephyr_kb: KnowledgeBase,
) -> None:
    from kb.security import SYSTEM

    at = ask(start(), QUESTION)
    assert ZEPHYR_FACT in plain(at.chat_message[1].markdown[0].value)
    at.feedback[0].set_value(0).run()  # thumbs down
    assert not at.exception, at.exception
    next(t for t in at.text_area if t.label == "The correct answer").input("cabinet Q-17")
    next(t for t in at.text_input if t.label == "Comment").input("say which basement")
    next(b for b in at.button if b.label == "Send feedback").click().run()
    assert not at.exception, at.exception
    assert any("your feedback was recorded" in c.value for c in at.caption)
    [case] = zephyr_kb.cases(actor=SYSTEM)
    assert (case.label, case.correct, case.kind) == ("behaviour gap", "cabinet Q-17", "thumbs down")
    assert case.evidence[0].document == ZEPHYR_NAME and case.evidence[0].given

    # The case is on the Quality page with its label; added to the golden set, it is what
    # `kb eval golden` runs on.
    quality = start().switch_page("pages/4_Quality.py").run()
    assert not quality.exception, quality.exception
    queue = next(d.value for d in quality.dataframe if "label" in d.value.columns)
    assert list(queue["label"]) == ["behaviour gap"] and list(queue["question"]) == [QUESTION]
    next(b for b in quality.button if b.label == "Add to the golden set").click().run()
    assert not quality.exception, quality.exception
    # Its correction was backed by a passage the answer was given: one example to download.
    assert any(c.value.startswith("1 example;") for c in quality.caption)
    assert "Download chat JSONL" in [b.label for b in quality.get("download_button")]
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    next(d for d in quality.date_input if d.label == "Since").set_value(tomorrow).run()
    assert "Cases (0 of 0)" in [h.value for h in quality.subheader]
    assert zephyr_kb.golden_questions() == [
        {"question": QUESTION, "file": ZEPHYR_NAME, "page": 2, "answer": "cabinet Q-17"}
    ]
    out = subprocess.run(
        [sys.executable, "-m", "kb", "eval", "golden", "--json"],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["hybrid"]["page_hit_rate"] == 1.0  # its one question
    from kb.eval.golden import load_questions

    kept = load_questions(zephyr_kb.paths.golden)  # mirrored as a questions file
    assert [(q.question, q.file, q.page) for q in kept] == [(QUESTION, ZEPHYR_NAME, 2)]

    at.feedback[0].set_value(1).run()  # changed their mind: a thumbs up replaces it
    assert zephyr_kb.cases(actor=SYSTEM) == []


def test_a_past_answer_opens_by_id_for_its_asker_and_admins_only(
    zephyr_kb: KnowledgeBase,
) -> None:
    from tests.app_helpers import EMPLOYEE, LAB
    from tests.test_app import INSPECTOR

    emma = ask(start(user=EMPLOYEE), QUESTION)
    answer = emma.session_state["history"][0].answer
    assert answer.answer_id
    for who, sees in ((EMPLOYEE, True), (ADMIN, True), (LAB, False)):
        at = start(user=who).switch_page(INSPECTOR).run()
        next(t for t in at.text_input if t.label == "Answer id").input(answer.answer_id).run()
        assert not at.exception, at.exception
        shown = " ".join(m.value for m in at.markdown)
        if sees:
            assert "Zephyr" in shown and not at.error
            given = next(d.value for d in at.dataframe if "passage" in d.value.columns)
            assert ZEPHYR_NAME in set(given["document"])
        else:
            assert "Zephyr-9" not in shown and "no answer with id" in at.error[0].value


def test_a_saved_chat_reopens_in_a_new_session_and_only_for_its_owner(
    zephyr_kb: KnowledgeBase,
) -> None:
    from kb.errors import NotFoundError
    from kb.security import Principal
    from tests.app_helpers import EMPLOYEE, LAB

    first = ask(start(user=EMPLOYEE), QUESTION)
    assert ZEPHYR_FACT in plain(first.chat_message[1].markdown[0].value)
    [chat] = zephyr_kb.conversations(user=Principal(EMPLOYEE, "employee"))
    assert chat.title == QUESTION and chat.answers == 1

    again = start(user=EMPLOYEE)  # a new session, as after a restart: the chat is listed
    assert not again.chat_message
    next(b for b in again.sidebar.button if b.label.endswith(QUESTION)).click().run()
    assert not again.exception, again.exception
    reopened = again.chat_message[1]
    assert ZEPHYR_FACT in plain(reopened.markdown[0].value)
    assert "Sources (1)" in [e.label for e in again.expander]
    ask(again, "Who keeps its key?")  # the follow-up goes into the same saved chat
    assert zephyr_kb.conversations(user=Principal(EMPLOYEE, "employee"))[0].answers == 2

    other = start(user=LAB)
    assert not any(b.label.endswith(QUESTION) for b in other.sidebar.button)
    with pytest.raises(NotFoundError):
        zephyr_kb.conversation(chat.id, user=Principal(LAB, "employee", ("lab",)))
    with pytest.raises(NotFoundError):
        zephyr_kb.ask("Who keeps its key?", user=Principal(LAB, "employee"), conversation=chat.id)
    gone = zephyr_kb.delete_conversations(user=Principal(EMPLOYEE, "employee"))
    assert gone == 1 and zephyr_kb.conversations(user=Principal(EMPLOYEE, "employee")) == []


def test_an_old_chat_opens_a_replaced_passage_as_quoted_and_a_deleted_one_without_text(
    zephyr_kb: KnowledgeBase, tmp_path: Path
) -> None:
    from kb.security import SYSTEM, Principal
    from tests.app_helpers import EMPLOYEE

    ask(start(user=EMPLOYEE), QUESTION)
    [chat] = zephyr_kb.conversations(user=Principal(EMPLOYEE, "employee"))

    def reopen() -> object:
        at = start(user=EMPLOYEE)
        next(b for b in at.sidebar.button if b.label.endswith(QUESTION)).click().run()
        assert not at.exception, at.exception
        return at

    moved = [ZEPHYR_PAGES[0], ZEPHYR_PAGES[1].replace("Q-17", "R-22")]
    zephyr_kb.ingest_paths([make_pdf(tmp_path / ZEPHYR_NAME, moved)])  # a new version
    replaced = reopen()
    assert "superseded on" in _captions(replaced)
    card = plain(" ".join(m.value for m in replaced.expander[0].markdown))
    assert "Q-17" in card and "R-22" not in card  # the passage as it was quoted

    zephyr_kb.delete(ZEPHYR_NAME, actor=SYSTEM)
    deleted = reopen()
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert f"This document was deleted on {today}" in _captions(deleted)
    card = plain(" ".join(m.value for m in deleted.expander[0].markdown))
    assert ZEPHYR_NAME in card and "Q-17" not in card  # its name and place, never its text
    assert not deleted.get("download_button")
    assert chat.id == zephyr_kb.conversations(user=Principal(EMPLOYEE, "employee"))[0].id
