"""Questions that name their document (issue 17): file-name matching, the boost it gives,
one passage per page; pure functions first, then the Searcher on a real store."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kb.index.identity import Identities, name_words, named
from kb.ingest import Source
from kb.knowledge_base import KnowledgeBase
from kb.search.fusion import Fused, boost_named, keep_in_top, merge, spread_pages
from kb.security.principals import Principal

FILINGS = {
    "3m": "3M_2018_10K.pdf",
    "3m22": "3M_2022_10K.pdf",
    "jnj": "JOHNSON_JOHNSON_2022Q4_EARNINGS.pdf",
    "mgm": "MGMRESORTS_2020_10K.pdf",
    "bby": "BESTBUY_2019_10K.pdf",
    "nflx": "NETFLIX_2015_10K.pdf",
}


def test_name_words_split_folders_glued_years_and_drop_the_extension() -> None:
    assert name_words("JOHNSON_JOHNSON_2022Q4_EARNINGS.pdf") == [
        "johnson", "johnson", "2022", "q4", "earnings"]  # fmt: skip
    assert name_words("hr/2024/leave-policy.docx") == ["hr", "2024", "leave", "policy"]
    assert name_words("3M_2018_10K.pdf") == ["3m", "2018", "10k"]


@pytest.mark.parametrize(
    ("question", "name", "expected"),
    [
        ("What was 3M's capex in FY2018?", "3M_2018_10K.pdf", {"3m", "2018"}),
        ("Inventories of Best Buy in FY2019", "BESTBUY_2019_10K.pdf", {"bestbuy", "2019"}),
        ("MGM's interest coverage", "MGMRESORTS_2020_10K.pdf", {"mgmresorts"}),
        ("Is JnJ's EPS growing?", "JOHNSON_JOHNSON_2022Q4_EARNINGS.pdf", {"johnson"}),
        ("Q4 earnings of 2022", "JOHNSON_JOHNSON_2022Q4_EARNINGS.pdf", {"2022", "q4"}),
        # Words file names are full of count only when written as names.
        ("Can I work from home?", "remote-work-policy.docx", set()),
        ("Is it on the IT helpdesk?", "it-helpdesk-faq.html", {"it"}),
        ("How often is Orion released?", "how-to/orion-notes.txt", {"orion"}),
        # A lower-case word is not a name: "net" does not start "netflix".
        ("net profit margin", "NETFLIX_2015_10K.pdf", set()),
        # Two letters are too few to stand for a longer name.
        ("Co founders", "COSTCO_2021_10K.pdf", set()),
    ],
)
def test_named_matches_words_glued_names_prefixes_and_initials(
    question: str, name: str, expected: set[str]
) -> None:
    assert named(question, name_words(name)) == expected


def test_identity_scores_favour_the_document_named_by_rarer_words() -> None:
    ids = Identities.of(FILINGS)
    scores = ids.scores("What was 3M's capital expenditure in FY2018?")
    assert scores["3m"] == 1.0  # 3M and 2018
    assert 0 < scores["3m22"] < 1.0  # 3M alone
    assert "nflx" not in scores and "bby" not in scores
    assert ids.scores("What is a quick ratio?") == {}
    assert Identities.of({}).scores("anything") == {}


def _f(i: str, score: float, named: float | None = None) -> Fused:
    return Fused(i, score, score, None, 1, None, named)


def test_boost_named_adds_the_weighted_name_score_to_the_scaled_fused_score() -> None:
    fused = [_f("a:v:1", 0.8), _f("b:v:1", 0.6), _f("c:v:1", 0.4)]
    out = boost_named(fused, {"c": 1.0, "b": 0.5}, lambda i: i.split(":")[0], 1.0)
    assert [f.id for f in out] == ["c:v:1", "b:v:1", "a:v:1"]
    assert out[0].score == pytest.approx(0.5 + 1.0) and out[0].named == 1.0
    assert out[2].score == pytest.approx(1.0) and out[2].named is None
    assert boost_named(fused, {}, lambda i: i, 1.0) == fused
    assert boost_named(fused, {"c": 1.0}, lambda i: i, 0.0) == fused


def test_merge_keeps_each_id_once_best_first() -> None:
    assert merge([("a", 0.9), ("b", 0.5)], [("c", 0.7), ("b", 0.5)]) == [
        ("a", 0.9), ("c", 0.7), ("b", 0.5)]  # fmt: skip


def test_spread_pages_keeps_one_passage_per_page_in_the_top_k() -> None:
    pages = {"a": ("d", 1), "b": ("d", 1), "c": ("d", 2), "e": None, "f": None, "g": ("d", 3)}
    fused = [_f(i, 1.0 - n / 10) for n, i in enumerate("abcefg")]
    out = spread_pages(fused, pages.get, 4)
    # b repeats a's page: it moves below the first four; pageless e and f never wait
    assert [f.id for f in out] == ["a", "c", "e", "f", "b", "g"]
    assert [f.id for f in spread_pages(fused, pages.get, 10)] == ["a", "c", "e", "f", "g", "b"]


Factory = Callable[..., KnowledgeBase]
ADMIN = Principal("alice", "admin")
EMPLOYEE = Principal("erik", "employee", frozenset({"sales"}))
BODY = b"Capital expenditure was 1,200 this year; the board approved the budget for 2020."
QUESTION = "What was MGM's capital expenditure in 2020?"


def test_a_question_naming_a_document_finds_it_and_respects_access_and_deletion(
    fake_kb: Factory,
) -> None:
    """Two filings with the same text: only the file name says which company is which, and
    "MGM" is not a word of "MGMRESORTS", so neither leg can tell them apart. A document the
    user may not read, or one deleted, is never brought back by its name."""
    base = fake_kb()
    base.ingest([Source("MGMRESORTS_2020_10K.txt", data=BODY),
                 Source("WYNN_2020_10K.txt", data=BODY)])  # fmt: skip
    hits = base.search(QUESTION, k=2)
    assert [h.name for h in hits] == ["MGMRESORTS_2020_10K.txt", "WYNN_2020_10K.txt"]
    assert hits[0].scores["named"] == 1.0 and hits[1].scores["named"] < 0.5  # only "2020"
    assert all(h.scores["named"] is None for h in base.search(QUESTION, k=2, mode="dense"))
    assert [h.name for h in base.search(QUESTION, k=2, user=EMPLOYEE)][0] == hits[0].name
    base.set_groups("MGMRESORTS_2020_10K.txt", ["finance"], actor=ADMIN)
    assert [h.name for h in base.search(QUESTION, k=5, user=EMPLOYEE)] == ["WYNN_2020_10K.txt"]
    base.delete("MGMRESORTS_2020_10K.txt")
    assert [h.name for h in base.search(QUESTION, k=5)] == ["WYNN_2020_10K.txt"]


def test_off_the_name_weight_and_page_spreading_restore_the_plain_fusion(
    fake_kb: Factory,
) -> None:
    base = fake_kb(name_weight=0, one_passage_per_page=False)
    base.ingest([Source("MGMRESORTS_2020_10K.txt", data=BODY)])
    assert base.search(QUESTION, k=1)[0].scores["named"] is None


def test_keep_in_top_brings_the_best_plain_passage_back_unless_its_page_is_shown() -> None:
    fused = [_f(i, 1.0 - n / 10) for n, i in enumerate("abcde")]
    assert [f.id for f in keep_in_top(fused, "e", 3, lambda i: None)] == ["a", "b", "e", "c", "d"]
    assert [f.id for f in keep_in_top(fused, "b", 3, lambda i: None)] == list("abcde")
    same_page = {"a": 1, "e": 1}
    assert [f.id for f in keep_in_top(fused, "e", 3, same_page.get)] == list("abcde")


def test_boost_named_lifts_only_the_best_passages_of_a_document_without_pages() -> None:
    fused = [_f("other:v:1", 1.0), *[_f(f"txt:v:{n}", 0.9 - n / 100) for n in range(4)]]
    out = boost_named(fused, {"txt": 1.0}, lambda i: i.split(":")[0], 1.0, lambda d: False)
    assert [f.id for f in out][:3] == ["txt:v:0", "txt:v:1", "other:v:1"]
    out = boost_named(fused, {"txt": 1.0}, lambda i: i.split(":")[0], 1.0, lambda d: True)
    assert [f.id for f in out][-1] == "other:v:1"


def test_the_longest_glued_run_wins_bare_numbers_are_not_names_and_the_latest_year_leads() -> None:
    ids = Identities.of({
        "awk": "AMERICANWATERWORKS_2022_10K.pdf", "axp": "AMERICANEXPRESS_2022_10K.pdf",
        "fl": "FOOTLOCKER_2022_8K_dated-2022-05-20.pdf", "ba": "BOEING_2022_10K.pdf",
        "glw21": "CORNING_2021_10K.pdf", "glw22": "CORNING_2022_10K.pdf",
    })  # fmt: skip
    s = ids.scores("Does American Water Works have positive working capital in FY2022?")
    assert s["awk"] == 1.0 and s["axp"] < 1.0  # "American" alone would name both
    s = ids.scores("Which categories are more than 20% of Boeing's revenue in FY2022?")
    assert s["ba"] == 1.0 and s["fl"] < 1.0  # "20" is an amount, not the 20th of May
    s = ids.scores("How has Corning's tax rate changed between FY2021 and FY2022?")
    assert s["glw22"] == 1.0 and s["glw21"] < 1.0
