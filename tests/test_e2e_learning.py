"""The learning loop end to end in Chromium (issue 16): a thumbs down with a correction becomes
a labelled case on the Quality page and goes into the golden set `kb eval golden` runs on; a
saved chat survives a server restart and opens for its owner only."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.app_helpers import (
    ADMIN,
    EMPLOYEE,
    LAB,
    ROOT,
    ZEPHYR_FACT,
    ZEPHYR_NAME,
    ZEPHYR_PAGES,
    ZEPHYR_QUESTION,
    add_users,
    make_pdf,
)
from tests.test_e2e_browser import (
    VIEWPORT,
    ask,
    browser,
    go,
    open_sources,
    serve,
    settle,
    shoot,
    sign_in,
)

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the module's Chromium, shared with test_e2e_browser's fixture


def _session(browser: Browser, url: str, user: str, path: str = "") -> Page:
    """A new browser context (a new Streamlit session), signed in as `user`."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto(f"{url}/{path}")
    settle(page, timeout=240_000)
    sign_in(page, user, timeout=240_000)
    return page


def test_feedback_becomes_a_case_and_a_saved_chat_survives_a_restart(
    browser: Browser, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    make_pdf(docs / ZEPHYR_NAME, ZEPHYR_PAGES)
    data = tmp_path / "data"
    add_users(data)
    with serve(data, docs) as url:
        emma = _session(browser, url, EMPLOYEE)
        answer = ask(emma, ZEPHYR_QUESTION)
        expect(answer).to_contain_text(ZEPHYR_FACT)
        found = re.search(r"answer ([0-9a-f]{8,})", answer.inner_text())
        assert found, answer.inner_text()
        answer_id = found.group(1)

        # Thumbs down, with what was right.
        answer.get_by_test_id("stFeedback").get_by_role("radio").last.click()
        settle(emma)
        form = emma.get_by_test_id("stForm")
        form.get_by_label("Comment").fill("say which basement")
        form.get_by_label("The correct answer").fill("cabinet Q-17 in the basement")
        form.get_by_role("button", name="Send feedback").click()
        settle(emma)
        expect(emma.get_by_role("main")).to_contain_text("your feedback was recorded")
        shoot(emma, "chat-feedback.png")
        emma.context.close()

        # The case is on the Quality page with its label; the admin adds it to the golden set.
        boss = _session(browser, url, ADMIN)
        go(boss, "Quality")
        main = boss.get_by_role("main")
        expect(main).to_contain_text("Cases (1 of 1)")
        expect(main).to_contain_text("Behaviour gap1")  # the count per label
        expect(main.get_by_test_id("stDataFrame")).to_contain_text(ZEPHYR_QUESTION)
        boss.get_by_role("button", name="Add to the golden set").click()
        settle(boss)
        expect(main).to_contain_text("Case added to the golden set.")
        expect(main).to_contain_text("1 question in the golden set")
        shoot(boss, "quality.png")
        boss.context.close()

    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    out = subprocess.run(
        [sys.executable, "-m", "kb", "eval", "golden", "--json"],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
        env={**env, "KB_DATA_DIR": str(data)},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert list(json.loads(out.stdout)["hybrid"]["outcomes"]) == [ZEPHYR_QUESTION]

    with serve(data, docs) as url:  # the server restarted: the chat is still there
        emma = _session(browser, url, EMPLOYEE)
        emma.get_by_test_id("stSidebar").get_by_role("button", name=ZEPHYR_QUESTION).click()
        settle(emma)
        reopened = emma.get_by_test_id("stChatMessage").last
        expect(reopened).to_contain_text(ZEPHYR_FACT)
        expect(reopened).to_contain_text(f"answer {answer_id}")
        expect(reopened).to_contain_text("Your feedback is recorded: “cabinet Q-17 in the")
        sources = open_sources(reopened)
        expect(sources).to_contain_text(f"[1] {ZEPHYR_NAME} · page 2")
        shoot(emma, "chat-saved.png")
        emma.context.close()

        # Another user has no such chat, and cannot open the answer by its id.
        lars = _session(browser, url, LAB)
        sidebar = lars.get_by_test_id("stSidebar")
        expect(sidebar).to_contain_text("Your conversations")
        expect(sidebar).not_to_contain_text(ZEPHYR_QUESTION)
        lars.goto(f"{url}/Source_inspector?answer={answer_id}")  # a link to emma's answer
        settle(lars, timeout=240_000)
        sign_in(lars, LAB)
        main = lars.get_by_role("main")
        expect(main).to_contain_text(f"no answer with id '{answer_id}'")
        expect(main).not_to_contain_text(ZEPHYR_FACT)
        lars.context.close()


def test_with_a_model_the_quotes_come_first_and_its_answer_replaces_them(
    browser: Browser, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    make_pdf(docs / ZEPHYR_NAME, ZEPHYR_PAGES)
    data = tmp_path / "data"
    add_users(data)
    model = {"KB_LLM": "llamacpp", "KB_LLM_MODEL": "smollm2", "KB_LLM_TIMEOUT": "120"}
    with serve(data, docs, **model) as url:
        page = _session(browser, url, EMPLOYEE)
        box = page.get_by_test_id("stChatInput").locator("textarea")
        box.fill(ZEPHYR_QUESTION)
        box.press("Enter")
        reply = page.get_by_test_id("stChatMessage").nth(1)
        # At once: the sources' own sentences, marked as quotes, while the model writes.
        expect(reply).to_contain_text("Quoted from the sources while the model writes")
        expect(reply).to_contain_text(ZEPHYR_FACT)
        shoot(page, "chat-quotes-first.png")
        # Then the model's checked answer (or, if it fails the check, the quotes with a
        # note) replaces them, and the timing line says when each came.
        expect(reply).to_contain_text("Answered in", timeout=240_000)
        settle(page)
        expect(reply).not_to_contain_text("while the model writes")
        expect(reply).to_contain_text("quotes")
        expect(reply).to_contain_text("first token")
        page.context.close()
