"""Unit tests of the pure helpers behind the pages (pages/shared/format/ui.py, trust.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from kb.answer.extractive import Answer, Citation
from kb.index.registry import Document
from kb.ingest.pipeline import IngestOutcome
from kb.search.fusion import Fused
from kb.search.retrieval import Hit
from kb.security.audit import AuditEvent
from kb.security.principals import Principal
from pages.shared.format import trust, ui

# A directive the helpers write on purpose: :orange-background[word] or :blue[**\[1\]**].
_DIRECTIVE = re.compile(r":(?:orange-background|blue|green|red|gray)\[(?:[^\]\\]|\\.)*\]")
_UNESCAPED = re.compile(r"(?<!\\)[\[\]()<>*_`$|#~]")


def unescape(markdown: str) -> str:
    """What a reader sees of escaped markdown (backslash escapes removed)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def hit(chunk: str = "c1", dense: float | None = 0.61, keyword: float | None = 7.5) -> Hit:
    return Hit(
        chunk_id=chunk,
        doc_id="handbook-pdf",
        name="handbook.pdf",
        page=4,
        heading="Expenses",
        text="Submit expense claims within 45 days.",
        score=0.9,
        scores={"dense": dense, "keyword": keyword, "fused": 0.9},
        ranks={"dense": 1 if dense is not None else None, "keyword": 3 if keyword else None},
    )


def doc(name: str = "a.pdf", kind: str = "pdf", days_old: float = 1) -> Document:
    when = datetime.now(UTC) - timedelta(days=days_old)
    return Document(
        doc_id=name.replace(".", "-"),
        name=name,
        kind=kind,
        size=2048,
        sha256="0" * 64,
        version="v1",
        pages=3 if kind == "pdf" else None,
        chunks=7,
        ingested_at=when.isoformat(timespec="seconds"),
    )


# -- markdown -----------------------------------------------------------------------------------
HOSTILE = "[click](http://evil.example) <script>alert(1)</script> $x^2$ :red[y] **b** `c` # h | t"


def test_escape_markdown_shows_every_character_and_leaves_no_syntax() -> None:
    escaped = ui.escape_markdown(HOSTILE)
    assert unescape(escaped) == HOSTILE
    assert not _UNESCAPED.search(escaped)


def test_highlight_marks_words_by_stem_and_nothing_else() -> None:
    md = ui.highlight("Submit expense claims in Compass Expenses.", "expenses claim")
    assert md == (
        "Submit :orange-background[expense claims] in Compass :orange-background[Expenses]\\."
    )


def test_highlight_of_stop_words_only_highlights_nothing() -> None:
    assert "orange-background" not in ui.highlight("The cat and the hat.", "the and")


def test_highlight_keeps_hostile_text_literal() -> None:
    md = ui.highlight(HOSTILE, "click script")
    assert ":orange-background[click]" in md and ":orange-background[script]" in md
    plain = _DIRECTIVE.sub("", md)
    assert not _UNESCAPED.search(plain)


def test_highlight_keeps_line_breaks_and_drops_indentation() -> None:
    md = ui.highlight("first line\n    indented line\n\nnew paragraph", "")
    assert md == "first line  \nindented line\n\nnew paragraph"


def test_answer_markdown_draws_citation_markers_and_escapes_the_rest() -> None:
    md = ui.answer_markdown("Claims take 45 days (max). [1] See *also* [2]")
    assert md.count(":blue[**\\[") == 2
    assert ":blue[**\\[1\\]**]" in md and ":blue[**\\[2\\]**]" in md
    assert "\\(max\\)\\." in md and "\\*also\\*" in md


# -- scores and sources -------------------------------------------------------------------------
def test_format_score() -> None:
    assert ui.format_score(None, "dense") == "—"
    assert ui.format_score(float("nan"), "fused") == "—"
    assert ui.format_score(7.456, "keyword") == "7.46"
    assert ui.format_score(0.61234, "dense") == "0.612"


def test_score_line_names_each_leg_with_rank() -> None:
    line = ui.score_line(hit())
    assert line == "fused 0.900 · dense cosine 0.610 (#1) · keyword BM25 7.50 (#3)"
    assert "keyword BM25 — (not a keyword hit)" in ui.score_line(hit(keyword=None))
    named = hit()
    named.scores["named"] = 0.75
    line = ui.score_line(named)
    assert line.startswith("fused + name 0.900") and "file name matches the question 0.75" in line


def test_source_title_and_hit_for() -> None:
    h = hit()
    c = Citation(1, h.doc_id, "hand_book[1].pdf", 4, "Expenses > Claims", h.text, h.chunk_id)
    title = ui.source_title(c)
    assert title.startswith(":blue[**\\[1\\]**] **hand\\_book\\[1\\]\\.pdf**")
    assert "page 4" in title and "Expenses \\> Claims" in title
    answer = Answer("q", "a [1]", [c], [hit("other"), h], True)
    assert ui.hit_for(answer, c) is h
    assert ui.hit_for(Answer("q", "a", [c], [hit("other")], True), c) is None


def test_mime_and_pdf() -> None:
    assert ui.mime_type("x.pdf") == "application/pdf"
    assert ui.mime_type("x.unknownext") == "application/octet-stream"
    assert ui.is_pdf("A.PDF") and not ui.is_pdf("a.docx")


# -- upload -------------------------------------------------------------------------------------
def test_accepted_formats_cover_every_supported_kind() -> None:
    exts = ui.accepted_extensions()
    for ext in ("pdf", "docx", "pptx", "xlsx", "html", "md", "txt", "eml", "csv"):
        assert ext in exts
    line = ui.formats_line()
    assert "PDF (.pdf)" in line and "Markdown (.md .markdown)" in line


@pytest.mark.parametrize(("mb", "expected"), [(0.2, 1), (50, 50), (50.2, 51)])
def test_upload_limit_mb(mb: float, expected: int) -> None:
    assert ui.upload_limit_mb(mb) == expected


def test_outcome_lines() -> None:
    indexed = ui.outcome_markdown(IngestOutcome("a_b.pdf", "indexed", "d", 12))
    assert indexed == (
        ":green[:material/check_circle:] **a\\_b\\.pdf**: :green[**indexed**] (12 chunks)"
    )
    replaced = ui.outcome_markdown(IngestOutcome("a.pdf", "replaced", "d", 3))
    assert "replaced" in replaced and "old version out of search" in replaced
    unchanged = ui.outcome_markdown(IngestOutcome("a.pdf", "unchanged", "d", 3))
    assert "unchanged" in unchanged and "already indexed" in unchanged
    failed = ui.outcome_markdown(IngestOutcome("b.pdf", "failed", reason="not a PDF [really]"))
    assert ":red[:material/error:]" in failed and ":red[**failed**]" in failed
    assert "not a PDF \\[really\\]" in failed


def test_batch_summary_and_progress_text() -> None:
    outcomes = [
        IngestOutcome("a", "indexed"),
        IngestOutcome("b", "indexed"),
        IngestOutcome("c", "failed"),
    ]
    assert ui.batch_summary(outcomes) == "3 files: 2 indexed, 1 failed"
    assert ui.batch_summary(outcomes[:1]) == "1 file: 1 indexed"
    assert ui.progress_text(2, 3, outcomes[1]) == "2 of 3 files done (last: b, indexed)"


# -- admin --------------------------------------------------------------------------------------
def test_document_rows() -> None:
    a, b = doc("a.pdf", days_old=400), doc("b.md", "md")
    rows = ui.document_rows([a, b], {a.doc_id: ["old", "source missing"]})
    assert [r["name"] for r in rows] == ["a.pdf", "b.md"]
    assert rows[0]["type"] == "PDF" and rows[0]["pages"] == "3" and rows[1]["pages"] == "–"
    assert rows[0]["size_kb"] == 2.0 and rows[0]["chunks"] == 7
    assert rows[0]["stale"] == "old, source missing" and rows[1]["stale"] == ""
    assert rows[0]["ingested_at"].tzinfo is not None
    naive = Document(**{**a.to_dict(), "ingested_at": "2020-01-01T00:00:00"})  # type: ignore[arg-type]
    assert ui.document_rows([naive], {})[0]["ingested_at"].tzinfo is not None


def test_filter_documents() -> None:
    docs = [doc("Handbook.pdf", days_old=400), doc("notes.md", "md"), doc("hand.txt", "txt")]
    assert [d.name for d in ui.filter_documents(docs, "HAND")] == ["Handbook.pdf", "hand.txt"]
    assert [d.name for d in ui.filter_documents(docs, kinds=["md", "txt"])] == [
        "notes.md",
        "hand.txt",
    ]
    stale = ui.filter_documents(docs, stale={docs[0].doc_id: ["old"]})
    assert [d.name for d in stale] == ["Handbook.pdf"]


def test_stats_lines_and_formats() -> None:
    stats = {
        "documents": 2,
        "chunks": 9,
        "stored_chunks": 9,
        "keyword_entries": 9,
        "bytes": 3 * 1024 * 1024,
        "by_kind": {"md": 1, "pdf": 2},
    }
    assert ("Stored size", "3.0 MB") in ui.stats_lines(stats)
    assert ui.formats_summary(stats) == "2 PDF, 1 MD"
    assert ui.formats_summary({"by_kind": {}}) == "no documents"
    assert ui.format_size(512) == "512 B" and ui.format_size(2048) == "2.0 KB"
    assert ui.store_line(stats) == (
        "The registry lists 9 chunks, Chroma holds 9 vectors and the keyword index 9 entries."
    )
    assert ui.table_height(10) == 388 and ui.table_height(1000) == 740
    assert ui.plural(1, "file") == "1 file" and ui.plural(0, "file") == "0 files"


# -- inspector ----------------------------------------------------------------------------------
def test_leg_and_fused_rows() -> None:
    info = {"c1": ui.ChunkInfo("a.pdf", 2, "Intro", "word " * 50)}
    legs = ui.leg_rows([("c1", 0.51234), ("gone", 0.2)], info, limit=5)
    assert legs[0]["rank"] == 1 and legs[0]["score"] == 0.5123 and legs[0]["page"] == "2"
    assert legs[0]["passage"].endswith("…") and len(legs[0]["passage"]) <= 110
    assert legs[1]["document"] == "?" and legs[1]["chunk"] == "gone"
    fused = [Fused("c1", 0.9, 0.5, None, 1, None), Fused("gone", 0.1, None, 2.0, None, 1)]
    rows = ui.fused_rows(fused, info, limit=1, k=1)
    assert len(rows) == 1
    assert rows[0]["top k"] is True and rows[0]["keyword"] is None and rows[0]["dense rank"] == 1


# -- users, groups, audit (pages/shared/format/trust.py) ---------------------------------
def test_principal_line_and_refusal_escape_names() -> None:
    p = Principal("ann_[x](y)", "employee", frozenset({"hr", "everyone"}))
    line = trust.principal_line(p)
    assert unescape(line.replace("**", "")) == "Signed in as ann_[x](y) (employee · groups: hr)"
    assert "**ann\\_\\[x\\]\\(y\\)**" in line  # the name cannot become a link
    refusal = trust.admins_only(p)
    assert "ann\\_\\[x\\]\\(y\\)," in refusal and "for admins" in refusal


def test_group_pickers() -> None:
    assert trust.group_options(["lab", "hr", "everyone"], ["board"]) == [
        "everyone", "board", "hr", "lab"
    ]  # fmt: skip
    assert trust.chosen_groups([]) == ["everyone"]
    assert trust.chosen_groups(["Lab", "hr", "lab"]) == ["hr", "lab"]
    assert trust.chosen_groups(["lab", "everyone"]) == ["everyone"]
    assert trust.groups_label(["everyone"]) == "everyone"
    assert trust.groups_label(["lab", "hr"]) == "hr, lab"
    assert trust.provider_label(None) == "your company account"
    assert trust.provider_label("google") == "Google"
    assert trust.provider_label("my_idp") == "My Idp"


def test_audit_rows_newest_first_and_filters() -> None:
    events = [
        AuditEvent(1_700_000_000.0, "ann", "ask", {"question": "leave policy", "documents": ["a"]}),
        AuditEvent(1_700_000_100.0, "boss", "set_groups", {"document": "b.pdf", "groups": ["hr"]}),
        AuditEvent(1_700_000_050.0, "bob", "sign_in_failed", {"method": "password"}),
    ]
    rows = trust.audit_rows(events)
    assert [r["actor"] for r in rows] == ["boss", "bob", "ann"]
    assert rows[0]["details"] == "document: b.pdf; groups: hr"
    assert rows[0]["at"] == datetime.fromtimestamp(1_700_000_100, UTC)
    assert trust.filter_audit(events, actors=["ann"]) == [events[0]]
    assert trust.filter_audit(events, actions=["set_groups", "ask"]) == events[:2]
    assert trust.filter_audit(events, text="LEAVE") == [events[0]]
    assert trust.filter_audit(events, ["ann"], ["set_groups"]) == []


def test_an_old_answer_shows_deletions_and_is_withdrawn_when_access_is_lost() -> None:
    from kb.quality.withdraw import WITHDRAWN, as_seen_today
    from kb.search import Hit
    from kb.security import EVERYONE, Principal

    cites = [Citation(1, "d1", "a.pdf", 1, "", "Soup on Thursdays.", "d1:v1:0"),
             Citation(2, "d2", "b.pdf", 2, "", "Tea at four.", "d2:v1:0")]  # fmt: skip
    hits = [Hit(c.chunk_id, c.doc_id, c.name, c.page, "", c.text, 0.5) for c in cites]
    answer = Answer("q", "Soup on Thursdays [1]. Tea at four [2].", cites, hits, found=True)
    emma = Principal("emma", "employee", frozenset({EVERYONE}))
    both = {"d1": [EVERYONE], "d2": [EVERYONE]}
    assert as_seen_today(answer, both, {}, emma) is answer

    after = as_seen_today(answer, {"d2": [EVERYONE]}, {"d1": "2026-12-01T10:00:00+00:00"}, emma)
    assert [(c.text, c.gone) for c in after.citations] == [
        ("", "deleted on 2026-12-01"), ("Tea at four.", "")]  # fmt: skip
    assert [h.text for h in after.hits] == ["", "Tea at four."]
    assert as_seen_today(answer, {"d2": [EVERYONE]}, {}, emma).citations[0].gone == "deleted since"

    restricted = {"d1": ["lab"], "d2": [EVERYONE]}
    gone = as_seen_today(answer, restricted, {}, emma)
    assert (gone.text, gone.citations, gone.hits) == (WITHDRAWN, [], [])
    admin = Principal("boss", "admin")
    assert as_seen_today(answer, restricted, {}, admin) is answer


def test_compact_counts_fit_a_metric_card() -> None:
    assert [ui.compact(n) for n in (0, 950, 1000, 9_460, 11_234, 999_999, 3_400_000)] == [
        "0",
        "950",
        "1k",
        "9.5k",
        "11k",
        "1M",
        "3.4M",
    ]


def test_the_stale_report_folders_and_history_rows() -> None:
    from kb.index import KeptVersion, Stale
    from kb.ingest.sync import SyncedFolder, SyncLine
    from pages.shared.format import lifecycle

    def doc(doc_id: str, name: str, owner: str | None = None) -> Document:
        return Document(doc_id, name, "md", 2048, "s", "v2", None, 3, "2026-12-01T10:00:00+00:00",
                        owner=owner)  # fmt: skip

    docs = [doc("a", "a.md", "ann@example.com"), doc("b", "B.md"), doc("c", "c.md")]
    stale = {
        "a": [Stale("review overdue", "2026-03-01", "review overdue since 2026-03-01"),
              Stale("source changed", None, "its source file changed")],
        "b": [Stale("old", "2026-06-30", "no review date")],
    }  # fmt: skip
    rows = lifecycle.stale_rows(docs, stale, {"b": 4, "a": 1})
    assert [r["name"] for r in rows] == ["B.md", "a.md"]  # most cited first, c is not stale
    assert rows[1]["reasons"] == "review overdue, source changed"
    assert (rows[1]["since"], rows[1]["owner"], rows[1]["cited"]) == (
        "2026-03-01",
        "ann@example.com",
        1,
    )
    folder = SyncedFolder(
        "/srv/share", "2026-12-01T10:00:00+00:00", "2026-12-06T09:30:12+00:00",
        {"summary": "1 changed, 3 unchanged", "lines": [{"name": "a.md", "status": "changed"}]},
    )  # fmt: skip
    assert lifecycle.folder_rows([folder]) == [
        {
            "folder": "/srv/share",
            "last_sync": "2026-12-06 09:30",
            "outcome": "1 changed, 3 unchanged",
            "changed": "a.md (changed)",
        }
    ]
    line = lifecycle.sync_line_markdown(SyncLine("hr/*notes*.md", "new", chunks=2))
    assert (
        line
        == f":green[:material/add_circle:] {ui.escape_markdown('hr/*notes*.md: new (2 chunks)')}"
    )
    kept = KeptVersion("a", "v1", "a.md", "md", 1024, "t", None, 2, "2026-11-01T08:00:00+00:00",
                       "2026-12-01T10:00:00+00:00", "v2")  # fmt: skip
    history = lifecycle.history_rows(docs[0], [kept])
    assert [(h["version"], h["state"], h["replaced"]) for h in history] == [
        ("v2", "current", ""),
        ("v1", "superseded", "2026-12-01 10:00"),
    ]
