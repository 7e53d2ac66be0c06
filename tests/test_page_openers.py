"""A page's later passages are found by the page's title (issue 17): the keyword leg indexes
them after the page's first words. Pure helpers first, then a real PDF in a real store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kb.index.text import PAGE_OPENER_WORDS, page_openers, with_page_opener
from kb.ingest import Source
from kb.knowledge_base import KnowledgeBase
from tests.app_helpers import make_pdf

Factory = Callable[..., KnowledgeBase]


def test_page_openers_take_each_pages_first_passage_per_document_version() -> None:
    title = "Consolidated Statement of Cash Flows " + " ".join(f"w{i}" for i in range(30))
    openers = page_openers(
        [
            ("d:v1:3", 2, "Purchases of property 1,577"),
            ("d:v1:2", 2, title),
            ("d:v1:1", 1, "Cover page"),
            ("d:v2:7", 2, "Notes on leases"),
            ("e:v1:0", None, "a text file has no pages"),
        ]
    )
    assert openers[("d", "v1", 2)] == (2, " ".join(title.split()[:PAGE_OPENER_WORDS]))
    assert openers[("d", "v2", 2)] == (7, "Notes on leases")
    assert set(openers) == {("d", "v1", 2), ("d", "v1", 1), ("d", "v2", 2)}
    opener = openers[("d", "v1", 2)][1]
    assert with_page_opener("d:v1:3", 2, "later", openers) == f"{opener}\n\nlater"
    assert with_page_opener("d:v1:2", 2, "first", openers) == "first"
    assert with_page_opener("e:v1:0", None, "unpaged", openers) == "unpaged"
    assert with_page_opener("f:v1:4", 9, "unknown page", openers) == "unknown page"


def test_a_short_first_passage_reads_on_into_the_next_one() -> None:
    rows = " ".join(f"row{i}" for i in range(20))
    openers = page_openers(
        [
            ("d:v1:5", 4, "CONSOLIDATED STATEMENTS OF OPERATIONS " + rows),
            ("d:v1:4", 4, "ACME, INC."),
        ]
    )
    first_words = ["ACME,", "INC.", "CONSOLIDATED", "STATEMENTS", "OF", "OPERATIONS", "row0"]
    assert openers[("d", "v1", 4)][0] == 4
    assert openers[("d", "v1", 4)][1].split()[:7] == first_words
    assert len(openers[("d", "v1", 4)][1].split()) == PAGE_OPENER_WORDS


FILLER = " ".join(
    f"Paragraph {i} restates the segment tables in plain words for readers of this report."
    for i in range(16)
)  # long enough that a page's last line lands in a passage of its own (chunks: 1,000 chars)
LINE = "Purchases of property, plant and equipment were 1,577 in the year."


def _filing(tmp_path: Path, cash_flow_page: int) -> Source:
    # As in real filings, the title runs on into the page's text: no heading is detected.
    titles = {p: "Notes on Leases and Rentals" for p in (2, 3)}
    titles[cash_flow_page] = "Consolidated Statement of Cash Flows"
    pages = ["Annual report 2018 of Example Industries."] + [
        f"Example Industries and Subsidiaries {titles[p]} for the years ended December 31, "
        f"2018 and 2017 (in millions). {FILLER}\n{LINE}"
        for p in (2, 3)
    ]
    return Source("EXAMPLE_2018_10K.pdf", data=make_pdf(tmp_path / "f.pdf", pages).read_bytes())


def test_a_pages_later_passage_is_found_by_the_pages_title_and_follows_a_replacement(
    fake_kb: Factory, tmp_path: Path
) -> None:
    """Pages 2 and 3 end with the same line, in a passage that does not say its page's title;
    the question names the title, so only the page it heads may come first. Replacing the
    file swaps the titles, and the ranking follows the new version."""
    base = fake_kb()
    base.ingest([_filing(tmp_path, cash_flow_page=2)])
    question = "purchases of property plant and equipment in the statement of cash flows"
    hits = base.search(question, k=2, mode="keyword")
    assert hits[0].page == 2 and LINE in hits[0].text
    assert "Cash Flows" not in hits[0].text + hits[0].heading  # found by its page's title
    base.ingest([_filing(tmp_path, cash_flow_page=3)])
    assert base.search(question, k=1, mode="keyword")[0].page == 3
    base.delete("EXAMPLE_2018_10K.pdf")
    assert base.search(question, k=2, mode="keyword") == []
