"""Unit tests of the pure parts: sniffing, ids, chunking, fusion, citations, tables."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from kb.answer.extractive import _table_row, extractive_answer
from kb.errors import UnsupportedFileError
from kb.index.ids import chunk_id, doc_id_for
from kb.index.store import parse_chunk_id
from kb.index.text import search_text, title_of
from kb.ingest.chunking import chunk_blocks, split_sentences
from kb.ingest.parsing import Block, pdf_heading
from kb.ingest.sniff import sniff
from kb.ingest.tables import html_table_rows, markdown_table
from kb.search.fusion import fuse, minmax, rrf, spread, weighted
from kb.search.retrieval import Hit


def _zip(member: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(member, "<x/>")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "kind"),
    [
        (b"%PDF-1.7\n...", "a.pdf", "pdf"),
        (b"%PDF-1.4\n...", "no-extension", "pdf"),
        (_zip("word/document.xml"), "a.docx", "docx"),
        (_zip("ppt/presentation.xml"), "deck", "pptx"),
        (_zip("xl/workbook.xml"), "t.xlsx", "xlsx"),
        (b"<!DOCTYPE html><html><body><p>x</p></body></html>", "page.html", "html"),
        (b"<html><body>hi</body></html>", "page.txt", "txt"),  # the name refines text kinds
        (b"# Title\n\ntext", "notes", "md"),
        (b"From: a@b.c\nSubject: hi\n\nbody", "mail", "eml"),
        (b"a,b\n1,2\n", "t.csv", "csv"),
        (b"plain words", "x.txt", "txt"),
    ],
)
def test_sniff_tells_formats_by_content(data: bytes, name: str, kind: str) -> None:
    assert sniff(data, name) == kind


@pytest.mark.parametrize(
    ("data", "name", "needle"),
    [
        (b"MZ\x90\x00\x03", "report.pdf", "Windows executable"),
        (b"plain text", "report.pdf", "named .pdf but its content is TXT"),
        (b"%PDF-1.4", "report.docx", "named .docx but its content is PDF"),
        (_zip("other.txt"), "a.docx", "zip archive that is not"),
        (b"", "a.txt", "empty"),
        (b"\x00\x01\x02\x03" * 100, "a.txt", "binary"),
        (b"\xd0\xcf\x11\xe0rest", "old.doc", "legacy Office"),
    ],
)
def test_sniff_refuses_with_a_reason(data: bytes, name: str, needle: str) -> None:
    with pytest.raises(UnsupportedFileError, match=needle):
        sniff(data, name)


def test_ids_are_stable_and_distinct() -> None:
    assert doc_id_for("Employee Handbook.pdf") == doc_id_for("employee handbook.pdf")
    assert doc_id_for("a.pdf") != doc_id_for("a.docx")
    assert doc_id_for("a.pdf").startswith("a-pdf-")
    cid = chunk_id("doc-1", "abc123", 7)
    assert cid == chunk_id("doc-1", "abc123", 7)
    assert parse_chunk_id(cid) == ("doc-1", "abc123")


def test_chunks_start_at_titles_and_carry_headings() -> None:
    blocks = [
        Block("Title", "Leave", 1, 0),
        Block("NarrativeText", "You get 27 days.", 1),
        Block("Title", "Sick days", 1, 1),
        Block("NarrativeText", "Tell your manager.", 1),
        Block("Title", "Expenses", 2, 0),
        Block("NarrativeText", "Claim within 45 days.", 2),
    ]
    chunks = chunk_blocks(blocks, size=500, overlap=50)
    assert [c.heading for c in chunks] == ["Leave", "Leave > Sick days", "Expenses"]
    assert [c.page for c in chunks] == [1, 1, 2]
    assert chunks[0].text == "Leave\n\nYou get 27 days."
    assert "Title" in chunks[0].element_types


def test_chunks_break_at_page_changes() -> None:
    blocks = [Block("NarrativeText", "Page one text.", 1), Block("NarrativeText", "Two.", 2)]
    assert [c.page for c in chunk_blocks(blocks)] == [1, 2]


def test_long_paragraph_splits_at_sentences_with_overlap() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(60))
    chunks = chunk_blocks([Block("NarrativeText", text)], size=300, overlap=60)
    assert len(chunks) > 3
    assert all(len(c.text) <= 300 for c in chunks)
    assert all(c.text.endswith(".") for c in chunks)
    # The overlap repeats the last sentences of the previous piece, up to ~60 characters.
    first, second = split_sentences(chunks[0].text), split_sentences(chunks[1].text)
    assert second[0] in first and first[-1] in second[:3]
    assert len(" ".join(second[: second.index(first[-1]) + 1])) <= 60


def test_tables_keep_their_header_row_in_every_piece() -> None:
    rows = (("City", "Rate"),) + tuple((f"City{i}", str(i)) for i in range(60))
    chunks = chunk_blocks([Block("Table", "", None, 0, rows)], size=300, overlap=0)
    assert len(chunks) > 1
    for c in chunks:
        assert c.text.splitlines()[0] == "| City | Rate |"
        assert c.element_types == ["Table"]
    body = [ln for c in chunks for ln in c.text.splitlines()[2:]]
    assert len(body) == 60  # every row once


def test_html_table_rows_and_markdown() -> None:
    html = "<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>x|y</td></tr></table>"
    rows = html_table_rows(html)
    assert rows == (("a", "b"), ("1", "x|y"))
    assert markdown_table(rows[0], list(rows[1:])).splitlines() == [
        "| a | b |",
        "| --- | --- |",
        "| 1 | x\\|y |",
    ]


@pytest.mark.parametrize(
    ("category", "text", "expected"),
    [
        ("ListItem", "4. Expenses and travel", ("Title", 0)),
        ("Title", "days.", ("NarrativeText", 0)),
        ("Title", "within four business hours.", ("NarrativeText", 0)),
        ("NarrativeText", "Annual leave", ("Title", 1)),
        ("NarrativeText", "Pay 40 EUR", ("NarrativeText", 0)),
        ("Title", "Corporate card", ("Title", 1)),
    ],
)
def test_pdf_heading_fixes(category: str, text: str, expected: tuple[str, int]) -> None:
    assert pdf_heading(category, text) == expected


def test_search_text_adds_title_and_heading() -> None:
    assert title_of("travel-per-diem_rates.csv") == "travel per diem rates"
    assert search_text("a-b.pdf", "Leave", "text") == "a b / Leave\n\ntext"


def test_minmax_and_weighted_fusion_by_hand() -> None:
    dense = [("a", 0.9), ("b", 0.5), ("c", 0.1)]
    keyword = [("c", 10.0), ("d", 5.0), ("a", 0.0)]
    assert minmax(dense) == {"a": 1.0, "b": 0.5, "c": 0.0}
    w = weighted(dense, keyword, 0.5, 0.5)
    assert w == pytest.approx({"a": 0.5, "b": 0.25, "c": 0.5, "d": 0.25})
    fused = fuse(dense, keyword, "weighted", 0.5, 0.5)
    # a and c tie at 0.5: the dense order breaks the tie.
    assert [f.id for f in fused] == ["a", "c", "b", "d"]
    assert fused[1].dense_rank == 3 and fused[1].keyword_rank == 1


def test_rrf_by_hand() -> None:
    scores = rrf([("a", 1), ("b", 1)], [("b", 1), ("c", 1)], k=60)
    assert scores["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert scores["a"] == pytest.approx(1 / 61)
    assert [f.id for f in fuse([("a", 1), ("b", 1)], [("b", 1), ("c", 1)], "rrf")][0] == "b"


def test_zscore_fusion_scales_by_spread_by_hand() -> None:
    # dense: mean 0.5, population std 0.4 -> (s - 0.1) / 0.4; keyword: std 4 of (10, 2, 2).
    dense = [("a", 0.9), ("b", 0.5), ("c", 0.1)]
    keyword = [("c", 10.0), ("d", 2.0), ("a", 2.0)]
    std_d = (((0.4**2) + 0 + (0.4**2)) / 3) ** 0.5
    std_k = ((((10 - 14 / 3) ** 2) + 2 * ((2 - 14 / 3) ** 2)) / 3) ** 0.5
    assert spread(dense) == pytest.approx({"a": 0.8 / std_d, "b": 0.4 / std_d, "c": 0.0})
    assert spread(keyword) == pytest.approx({"c": 8 / std_k, "d": 0.0, "a": 0.0})
    assert spread([("a", 3.0)]) == {"a": 1.0} and spread([]) == {}
    fused = fuse(dense, keyword, "zscore", 0.5, 0.5)
    expected = {"a": 0.4 / std_d, "b": 0.2 / std_d, "c": 4 / std_k, "d": 0.0}
    assert {f.id: f.score for f in fused} == pytest.approx(expected)
    # Min-max ties a and c at 0.5 (each tops one leg); in standard deviations c's keyword
    # lead (1.06) is smaller than a's dense lead (1.22), since the keyword list is spread wider.
    assert [f.id for f in fused] == ["a", "c", "b", "d"] and fused[0].score > fused[1].score
    assert weighted(dense, keyword, 0.5, 0.5)["a"] == pytest.approx(0.5)
    assert weighted(dense, keyword, 0.5, 0.5)["c"] == pytest.approx(0.5)


def test_minmax_of_equal_scores_is_one() -> None:
    assert minmax([("a", 2.0), ("b", 2.0)]) == {"a": 1.0, "b": 1.0}
    assert minmax([]) == {}


def _hit(text: str, name: str = "a.pdf", page: int | None = 1) -> Hit:
    return Hit("d:v:00000", "d", name, page, "H", text, 1.0, {"dense": 0.5})


def test_extractive_answer_quotes_matching_sentences_with_markers() -> None:
    hits = [
        _hit("Unrelated intro sentence here today. Expense claims are due within 45 days."),
        _hit("The office Wi-Fi network is called HALV-GUEST.", "b.md", None),
    ]
    text, citations, extract = extractive_answer("When are expense claims due?", hits)
    assert "within 45 days" in text and text.endswith("[1]")
    assert "Wi-Fi" not in text
    assert [(c.n, c.name) for c in citations] == [(1, "a.pdf")]
    assert "45 days" in extract


def test_table_rows_are_read_with_their_header() -> None:
    table = "| City | Rate |\n| --- | --- |\n| Tokyo | 11500 |"
    assert _table_row("| Tokyo | 11500 |", table) == "City: Tokyo; Rate: 11500"


def test_table_rows_match_questions_through_their_header() -> None:
    table = (
        "| city | per_diem | hotel_cap_per_night |\n| --- | --- | --- |\n"
        "| Oslo | 780 | 1950 |\n| Tokyo | 11500 | 24000 |"
    )
    text, _, _ = extractive_answer("What is the hotel cap per night in Tokyo?", [_hit(table)])
    assert text.startswith("city: Tokyo; per diem: 11500; hotel cap per night: 24000 [1]")


def test_faq_questions_are_not_quoted_as_answers() -> None:
    hits = [_hit("Which Wi-Fi should I use in the office? Use the network HALV-STAFF at work.")]
    text, _, _ = extractive_answer("Which Wi-Fi should I use in the office?", hits)
    assert "?" not in text and "HALV-STAFF" in text


def test_underscores_split_words_for_the_keyword_leg() -> None:
    from kb.index.keyword import tokenize

    assert tokenize(["hotel_cap_per_night"])[0] == tokenize(["hotel cap per night"])[0]


def test_a_fiscal_period_glued_to_its_year_splits_for_the_keyword_leg() -> None:
    from kb.index.keyword import KeywordIndex, split_words, tokenize

    assert split_words("FY2018 and AMCOR_2023Q2_10Q") == "FY 2018 and AMCOR 2023 Q2 10Q"
    assert split_words("CY2020Q4") == "CY 2020 Q4"
    # Names and codes that only look alike stay whole: 3M, 10-K, ISO27001, a long number.
    assert tokenize(["3M 10K ISO27001 120191x"])[0] == ["3m", "10k", "iso27001", "120191x"]
    index = KeywordIndex.build(["a", "b"], ["3M 2018 10K capital", "3M 2022 10K capital"], 1,
                               (0.9, 0.5))  # fmt: skip
    assert index.search("3M FY2018 capital expenditure", 2)[0][0] == "a"


def test_a_keyword_index_saved_by_another_tokenizer_is_rebuilt(tmp_path: Path) -> None:
    import json

    from kb.index.keyword import KeywordIndex

    KeywordIndex.build(["a", "b"], ["hotel_cap", "per diem"], 3, (0.9, 0.5)).save(tmp_path / "kw")
    loaded = KeywordIndex.load(tmp_path / "kw", (0.9, 0.5))
    assert loaded is not None and loaded.search("hotel cap", 2)[0][0] == "a"
    meta = json.loads((tmp_path / "kw" / "ids.json").read_text())
    meta["tokenizer"] = 1  # as written before underscores split words
    (tmp_path / "kw" / "ids.json").write_text(json.dumps(meta))
    assert KeywordIndex.load(tmp_path / "kw", (0.9, 0.5)) is None  # the caller rebuilds it


def test_a_keyword_index_saved_with_other_bm25_parameters_is_rebuilt(tmp_path: Path) -> None:
    from kb.index.keyword import KeywordIndex

    built = KeywordIndex.build(["a", "b"], ["hotel cap hotel", "per diem"], 3, (1.2, 0.75))
    built.save(tmp_path / "kw")
    assert KeywordIndex.load(tmp_path / "kw", (0.9, 0.5)) is None
    loaded = KeywordIndex.load(tmp_path / "kw", (1.2, 0.75))
    assert loaded is not None and loaded.params == (1.2, 0.75)
    # k1 changes the score itself: the parameters reach BM25.
    other = KeywordIndex.build(["a", "b"], ["hotel cap hotel", "per diem"], 3, (0.9, 0.5))
    assert other.search("hotel", 1)[0][1] != built.search("hotel", 1)[0][1]


def test_the_fusion_is_described_as_configured() -> None:
    from kb.search.fusion import describe_fusion

    assert describe_fusion("weighted", 0.6, 0.4).startswith("weighted sum of min-max")
    assert "dense 0.6, keyword 0.4" in describe_fusion("weighted", 0.6, 0.4)
    assert describe_fusion("zscore", 0.5, 0.5).startswith(
        "weighted sum of scores scaled by their standard deviation"
    )
    assert "reciprocal" not in describe_fusion("zscore")  # the Source inspector's old mislabel
    assert describe_fusion("rrf", rrf_k=30).startswith("reciprocal-rank fusion (k=30")
    assert "names a file" in describe_fusion("weighted", name_weight=1.0)
    assert "names a file" not in describe_fusion("weighted")
