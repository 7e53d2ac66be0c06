"""Declining when the question's subject is absent (issue 18): the names a question asks about
must occur in the passages given to the answer."""

from __future__ import annotations

import yaml

from kb.answer.extractive import NOT_FOUND
from kb.answer.names import missing_names, names_in
from kb.knowledge_base import KnowledgeBase
from kb.search.retrieval import Hit
from tests.conftest import ROOT, SAMPLE_DOCS

UNANSWERABLE = ROOT / "tests" / "fixtures" / "unanswerable.yaml"


def _hit(text: str) -> Hit:
    return Hit("d:v:1", "d", "per-diem.csv", None, "Rates", text, 0.5, {"dense": 0.4})


def test_the_names_of_a_question() -> None:
    assert names_in("What is the Zephyr per-diem for Lisbon?") == ["Zephyr", "Lisbon"]
    assert names_in("How long is the trial period? What about Orion 4.2 and SEV1?") == [
        "Orion", "4.2", "SEV1"]  # fmt: skip
    # The first word of a sentence, "I", plain numbers and date words are not names.
    assert names_in("Who approves a discount of more than 20 percent, I wonder?") == []
    assert names_in("When do we open after the Christmas break on Monday?") == []


def test_a_rare_name_no_given_passage_mentions_is_missing() -> None:
    rates = [_hit("| city | per_diem |\n| Tokyo | 11500 |\n| Oslo | 900 |")]
    rare = lambda tokens: dict.fromkeys(tokens, 0.01)  # noqa: E731
    common = lambda tokens: dict.fromkeys(tokens, 0.5)  # noqa: E731
    assert missing_names("What is the per diem in Lisbon?", rates, rare) == ["Lisbon"]
    assert missing_names("What is the per diem in Tokyo?", rates, rare) == []
    # A name in most passages (the company's own) says nothing about which one answers.
    assert missing_names("What is the Halvorsen per diem in Tokyo?", rates, common) == []
    # A version is looked for as written, not as any number that contains it.
    notes = [_hit("Orion 4.20 works with firmware 3.1 and later.")]
    assert missing_names("Which firmware does Orion 4.2 need?", notes, rare) == ["4.2"]
    assert missing_names("Which firmware does Orion 4.20 need?", notes, rare) == []


def test_unanswerable_questions_are_declined_and_sample_questions_are_not(
    sample_kb: KnowledgeBase,
) -> None:
    unanswerable = yaml.safe_load(UNANSWERABLE.read_text())
    answered = [q for q in unanswerable if sample_kb.ask(q).found]
    assert len(answered) <= 0.05 * len(unanswerable), answered
    lisbon = sample_kb.ask("What is the Zephyr per-diem for Lisbon?")
    assert (lisbon.found, lisbon.text, lisbon.citations) == (False, NOT_FOUND, [])
    assert lisbon.extract == "no passage given mentions Zephyr, Lisbon"
    sample = [q["question"] for q in yaml.safe_load((SAMPLE_DOCS / "questions.yaml").read_text())]
    declined = [q for q in sample if not sample_kb.ask(q).found]
    assert declined == []
