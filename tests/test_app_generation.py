"""The chat page and the source inspector with a language model configured (AppTest)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from pages.shared.format import answer_text
from tests.app_helpers import SAMPLE_DOCS, set_app_env
from tests.llm_fakes import OpenAIStyleServer, reader
from tests.test_app import INSPECTOR, ask, plain, start, texts
from tests.test_generation import free_port

pytestmark = pytest.mark.slow  # real model, AppTest, subprocesses or servers


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data dir the app indexed sample_docs/ into on its first run."""
    data = tmp_path_factory.mktemp("gen-app-data")
    with pytest.MonkeyPatch.context() as mp:
        set_app_env(mp, data, samples=SAMPLE_DOCS)
        start()
        yield data


def test_a_down_model_shows_one_line_the_sources_and_the_marked_fallback(
    indexed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_app_env(monkeypatch, indexed, samples=SAMPLE_DOCS)
    url = f"http://127.0.0.1:{free_port()}/v1"
    monkeypatch.setenv("KB_LLM", "openai")
    monkeypatch.setenv("KB_LLM_BASE_URL", url)
    at = ask(start(), "How many days do I have to submit an expense claim?")
    assistant = at.chat_message[1]
    (warning,) = assistant.warning
    assert plain(warning.value) == (
        f"The language model's answer is not shown: the language model at {url} is "
        "unreachable; check that it runs (KB_LLM_*). Quoting the sources instead."
    )
    assert "45 days" in plain(assistant.markdown[0].value)
    assert assistant.expander[0].label == "Sources (1)"
    assert "model (failed)" in texts(assistant) and not at.exception

    # The inspector tells the same story for the chat's question.
    at.switch_page(INSPECTOR).run()
    at.selectbox[0].select("How many days do I have to submit an expense claim?").run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "Method: extractive (fallback)" in shown and "unreachable" in shown
    assert "Prompt sent to the model" in [e.label for e in at.expander]
    assert '<source n="1" file="employee-handbook.pdf" page="4">' in at.code[0].value


def test_a_followup_is_rewritten_and_the_inspector_shows_the_rewrite(
    indexed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_app_env(monkeypatch, indexed, samples=SAMPLE_DOCS)
    at = ask(start(), "How many unused vacation days can I transfer to next year?")
    at = ask(at, "and for contractors?")
    assert len(at.chat_message) == 4
    assert "employee-handbook.pdf" in texts(at.chat_message[3].expander[0])
    at.switch_page(INSPECTOR).run()
    at.selectbox[0].select("and for contractors?").run()
    assert not at.exception, at.exception
    assert (
        "Follow-up rewritten (heuristic) to: contractors many unused vacation days "
        "transfer next year" in texts(at)
    )
    assert at.dataframe[0].value.iloc[0]["document"] == "employee-handbook.pdf"


def test_the_model_answer_streams_with_unsupported_sentences_marked_and_its_cost(
    indexed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = OpenAIStyleServer(lambda p: reader(p) + " Claims also earn a bonus of NOK 900 [1].")
    try:
        set_app_env(monkeypatch, indexed, samples=SAMPLE_DOCS)
        monkeypatch.setenv("KB_LLM", "openai")
        monkeypatch.setenv("KB_LLM_BASE_URL", server.url)
        at = ask(start(), "How many days do I have to submit an expense claim?")
        assistant = at.chat_message[1]
        assert not assistant.warning
        answer = plain(assistant.markdown[0].value)
        assert "45 days of the date of the expense [1]." in answer
        assert answer.endswith(
            f"Claims also earn a bonus of NOK 900 [1]. {answer_text.UNSUPPORTED}"
        )
        assert answer.count(answer_text.UNSUPPORTED) == 1
        cost = plain(assistant.caption[0].value)
        assert "first token" in cost and "generation" in cost
        assert re.search(r"· \d+ prompt \+ \d+ answer tokens$", cost)  # the server's usage
        assert assistant.expander[0].label == "Sources (1)"

        # The inspector shows the chat's answer: the check per sentence, the prompt, the cost.
        at.switch_page(INSPECTOR).run()
        at.selectbox[0].select("How many days do I have to submit an expense claim?").run()
        assert not at.exception, at.exception
        checks = at.dataframe[3].value
        assert list(checks["verdict"]) == ["supported", "900 is not in the cited source"]
        assert checks["cites"][0] == "[1] employee-handbook.pdf"
        assert "1 of 2 sentences backed by their cited source" in texts(at)
        assert "Prompt sent to the model" in [e.label for e in at.expander]
        assert len(server.prompts) == 1  # the chat's answer, not asked again
    finally:
        server.close()
