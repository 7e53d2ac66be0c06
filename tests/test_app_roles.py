"""Sign-in, roles and document permissions through the pages (AppTest, real store and model)."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from kb.config import load_settings
from kb.errors import PermissionDeniedError
from kb.knowledge_base import KnowledgeBase
from kb.security.auth import open_users
from kb.security.principals import Principal
from pages.shared.identity import SESSION_KEY
from tests.app_helpers import (
    ADMIN,
    APP,
    EMPLOYEE,
    LAB,
    PASSWORD,
    ROOT,
    SAMPLE_DOCS,
    TIMEOUT,
    ZEPHYR_FACT,
    ZEPHYR_NAME,
    ZEPHYR_PAGES,
    ZEPHYR_QUESTION,
    make_pdf,
    set_app_env,
)
from tests.test_app import (
    ADMIN_PAGE,
    INSPECTOR,
    UPLOAD,
    ask,
    plain,
    query_box,
    sign_in,
    start,
    texts,
)

pytestmark = pytest.mark.slow  # real model, AppTest, subprocesses or servers

ADMIN_PAGES = [UPLOAD, ADMIN_PAGE, "pages/4_Quality.py"]


def audit(base: KnowledgeBase) -> list[tuple[str, str]]:
    """(actor, action) of every audit event, oldest first."""
    events = base.audit_events(1000, actor=Principal("auditor", "admin"))
    return [(e.actor, e.action) for e in sorted(events, key=lambda e: e.at)]


@pytest.fixture
def zephyr_kb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> KnowledgeBase:
    """An app data dir with the Zephyr notes (open to everyone) and the test users."""
    set_app_env(monkeypatch, tmp_path / "data")
    base = KnowledgeBase(load_settings())
    base.ingest_paths([make_pdf(tmp_path / ZEPHYR_NAME, ZEPHYR_PAGES)])
    return base


def test_chat_needs_a_sign_in_and_a_wrong_password_is_refused_and_audited(
    zephyr_kb: KnowledgeBase,
) -> None:
    at = start(user=None)
    assert "Sign in to use the knowledge base." in texts(at)
    assert not at.chat_input and not at.sidebar.button
    at = sign_in(at, EMPLOYEE, "not the password")
    assert at.error[0].value == "Wrong user name or password." and not at.chat_input
    at = sign_in(at, "nobody", PASSWORD)
    assert at.error[0].value == "Wrong user name or password."
    at = sign_in(at, EMPLOYEE, PASSWORD)
    assert len(at.chat_input) == 1
    assert "Signed in as emma (employee)" in texts(at.sidebar)
    assert audit(zephyr_kb)[-3:] == [
        (EMPLOYEE, "sign_in_failed"),
        ("nobody", "sign_in_failed"),
        (EMPLOYEE, "sign_in"),
    ]
    next(b for b in at.sidebar.button if b.label == "Sign out").click().run()
    assert not at.chat_input and "Sign in to use" in texts(at)
    assert audit(zephyr_kb)[-1] == (EMPLOYEE, "sign_out")


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_an_employee_session_cannot_reach_an_admin_page(
    zephyr_kb: KnowledgeBase, page: str
) -> None:
    at = start(user=EMPLOYEE)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(page)  # not in an employee's menu
    # The page file itself, run with the employee's signed-in session (a URL typed by hand,
    # or Streamlit's pages/ folder mode running the file without the entry script).
    direct = AppTest.from_file(str(ROOT / page), default_timeout=TIMEOUT)
    direct.session_state[SESSION_KEY] = at.session_state[SESSION_KEY]
    direct.run()
    assert not direct.exception, direct.exception
    assert "This page is for admins. You are signed in as emma" in texts(direct)
    assert not direct.file_uploader and not direct.dataframe and not direct.multiselect
    assert [b.label for b in direct.button] == ["Sign out"]
    assert audit(zephyr_kb)[-1] == (EMPLOYEE, "denied")


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_a_signed_out_visitor_of_an_admin_page_gets_the_sign_in_form(
    zephyr_kb: KnowledgeBase, page: str
) -> None:
    at = AppTest.from_file(str(ROOT / page), default_timeout=TIMEOUT).run()  # the file alone
    assert not at.exception, at.exception
    assert "This page is for admins: sign in" in texts(at)
    assert not at.file_uploader and not at.dataframe
    at = sign_in(at, EMPLOYEE, PASSWORD)
    assert "This page is for admins" in texts(at) and not at.file_uploader and not at.dataframe
    at = sign_in(
        AppTest.from_file(str(ROOT / page), default_timeout=TIMEOUT).run(), ADMIN, PASSWORD
    )
    assert at.file_uploader or at.dataframe


def test_a_demoted_admin_cannot_finish_a_delete(zephyr_kb: KnowledgeBase) -> None:
    at = start(user=ADMIN).switch_page(ADMIN_PAGE).run()
    doc = zephyr_kb.document(ZEPHYR_NAME).doc_id
    next(m for m in at.multiselect if m.label == "Documents to act on").set_value([doc]).run()
    next(b for b in at.button if b.label == "Delete").click().run()
    assert "cannot be undone" in texts(at)
    open_users(load_settings()).update(
        ADMIN, role="employee", keep_an_admin=False
    )  # e.g. by `kb users set boss --role employee` while the dialog is open
    confirm = [b for b in at.button if b.label == "Yes, delete"]
    if confirm:
        confirm[0].click().run()
    assert "This page is for admins" in texts(at)
    assert [d.name for d in zephyr_kb.documents()] == [ZEPHYR_NAME]
    with pytest.raises(PermissionDeniedError, match="admin role"):
        zephyr_kb.delete(ZEPHYR_NAME, actor=Principal(ADMIN, "employee"))


def test_restricting_a_document_hides_it_from_an_employee_at_once(
    zephyr_kb: KnowledgeBase,
) -> None:
    zephyr_kb.ingest_paths([SAMPLE_DOCS / "travel-per-diem-rates.csv"])  # stays open to all
    emma, lars = start(user=EMPLOYEE), start(user=LAB)
    answer = ask(emma, ZEPHYR_QUESTION).chat_message[1]
    assert ZEPHYR_FACT in plain(answer.markdown[0].value)

    admin = start(user=ADMIN).switch_page(ADMIN_PAGE).run()
    doc = zephyr_kb.document(ZEPHYR_NAME).doc_id
    next(m for m in admin.multiselect if m.label == "Documents").set_value([doc]).run()
    next(m for m in admin.multiselect if m.label == "Visible to").set_value(["lab"]).run()
    next(b for b in admin.button if b.label == "Set access").click().run()
    assert not admin.exception, admin.exception
    assert not admin.error, [e.value for e in admin.error]
    assert f"{ZEPHYR_NAME} is now visible to: lab" in plain(admin.success[0].value)
    assert "lab" in list(admin.dataframe[0].value["groups"])

    emma = ask(emma, ZEPHYR_QUESTION)  # the same session, the next question
    old, new = emma.chat_message[1], emma.chat_message[3]
    assert "no longer available to you" in texts(old)  # the earlier answer is withdrawn
    assert ZEPHYR_FACT not in texts(emma) and ZEPHYR_NAME not in texts(emma)
    assert not new.expander  # no sources from the restricted document
    assert "1 document you can ask about" in texts(start(user=EMPLOYEE))
    inspector = start(user=EMPLOYEE).switch_page(INSPECTOR).run()
    query_box(inspector).input("Zephyr-9 calibration rig cabinet").run()
    assert ZEPHYR_NAME not in texts(inspector)
    assert all(ZEPHYR_NAME not in str(d.value) for d in inspector.dataframe)

    lab_answer = ask(lars, ZEPHYR_QUESTION).chat_message[1]  # in the group: still answered
    assert ZEPHYR_FACT in plain(lab_answer.markdown[0].value)
    assert ("boss", "set_groups") in audit(zephyr_kb)


def audit_table(at: AppTest) -> Any:
    """The Admin page's audit log table (the one with an action column)."""
    return next(d.value for d in at.dataframe if "action" in d.value.columns)


def test_upload_sets_the_groups_and_the_audit_log_shows_it(
    zephyr_kb: KnowledgeBase, tmp_path: Path
) -> None:
    at = start(user=ADMIN).switch_page(UPLOAD).run()
    note = ("hr-note.txt", b"The HR budget for 2027 is 412 thousand crowns.", "text/plain")
    at.file_uploader[0].set_value([note]).run()
    next(m for m in at.multiselect if m.label == "Who may see these documents").set_value(
        ["hr"]
    ).run()
    next(b for b in at.button if b.label.startswith("Upload and index")).click().run()
    assert not at.exception, at.exception
    assert zephyr_kb.document("hr-note.txt").groups == ("hr",)
    answer = ask(start(user=EMPLOYEE), "What is the HR budget for 2027?").chat_message[1]
    assert "412" not in texts(answer)

    at.switch_page(ADMIN_PAGE).run()
    log = audit_table(at)
    assert {"upload", "sign_in"} <= set(log["action"])
    assert "hr-note.txt" in " ".join(log["details"])
    next(m for m in at.multiselect if m.label == "Action").set_value(["upload"]).run()
    assert set(audit_table(at)["action"]) == {"upload"}
    assert any(b.label == "Export the whole log (CSV)" for b in at.get("download_button"))


def test_guests_see_only_documents_open_to_everyone_when_sign_in_is_optional(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_app_env(monkeypatch, tmp_path / "data", require_sign_in="false")
    base = KnowledgeBase(load_settings())
    base.ingest_paths([make_pdf(tmp_path / ZEPHYR_NAME, ZEPHYR_PAGES)], groups=["lab"])
    base.ingest_paths([SAMPLE_DOCS / "travel-per-diem-rates.csv"])
    at = start(user=None)
    assert "Browsing as a guest" in texts(at.sidebar)
    assert "1 document you can ask about" in texts(at)
    assert ZEPHYR_FACT not in texts(ask(at, ZEPHYR_QUESTION))
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(ADMIN_PAGE)  # no admin pages in a guest's menu
    next(b for b in at.sidebar.button if b.label == "Sign in").click().run()
    at = sign_in(at, ADMIN, PASSWORD)
    assert "Signed in as boss (admin)" in texts(at.sidebar)
    assert "2 documents you can ask about" in texts(at)
    assert at.switch_page(ADMIN_PAGE).run().dataframe


def test_oidc_identity_gets_its_role_from_the_users_file(
    zephyr_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_users(load_settings()).add("chief@example.com", "admin", [], None)
    auth = {
        "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
        "cookie_secret": "test-cookie-secret",
        "google": {"client_id": "id", "client_secret": "s", "server_metadata_url": "http://x"},
    }
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.secrets["auth"] = auth
    at.user = {"is_logged_in": False}
    at.run()
    assert any(b.label == "Sign in with Google" for b in at.button)
    at.user = {"is_logged_in": True, "email": "Chief@Example.com", "email_verified": True}
    at.run()  # back from the provider: the menu now lists the admin pages
    at.switch_page(ADMIN_PAGE).run()
    assert not at.exception, at.exception
    assert "Signed in as chief@example.com (admin)" in texts(at.sidebar)
    assert at.dataframe
    assert ("chief@example.com", "sign_in") in audit(zephyr_kb)

    stranger = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    stranger.secrets["auth"] = auth
    stranger.user = {"is_logged_in": True, "email": "eve@elsewhere.org"}
    monkeypatch.setenv("KB_OIDC_DOMAINS", "example.com")
    import streamlit as st

    st.cache_resource.clear()
    stranger.run()
    assert "not from a domain allowed here" in texts(stranger)
    assert not stranger.chat_input


PAGE_FILES = [APP, *sorted((ROOT / "pages").rglob("*.py"))]


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_renders_raw_html(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword):
            assert node.arg != "unsafe_allow_html", f"{path.name}: unsafe_allow_html"
        if isinstance(node, ast.Attribute):
            assert node.attr not in ("html", "components"), f"{path.name}: st.{node.attr}"
    # Markdown comes only from the escaping helpers (pages/shared/format: ui, trust,
    # answer_text) or from literals.
    assert not re.search(r"st\.markdown\(\s*+(?!ui\.|trust\.|answer_text\.|f?\")", path.read_text())
