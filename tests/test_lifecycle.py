"""Owners, review dates and stale reasons (issue 15): what documents say about themselves,
what admins set, and each reason a document is stale, on real files and a real folder."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import docx
import pytest
from fpdf import FPDF

from kb.errors import UsageError
from kb.index import Change, Document
from kb.index.staleness import SourceChecker, stale_reasons
from kb.ingest.docmeta import front_matter, office_properties, pdf_info, review_date
from kb.knowledge_base import KnowledgeBase
from kb.security import SYSTEM, Principal

Factory = Callable[..., KnowledgeBase]
TODAY = date(2026, 12, 6)


def _doc(**fields: object) -> Document:
    base: dict[str, object] = dict(
        doc_id="a-1", name="a.md", kind="md", size=1, sha256="x", version="v", pages=None,
        chunks=1, ingested_at="2026-11-01T10:00:00+00:00",
    )  # fmt: skip
    return Document(**{**base, **fields})  # type: ignore[arg-type]


def test_each_stale_reason_is_computed_and_dated() -> None:
    assert stale_reasons(_doc(), TODAY, 180) == []
    [overdue] = stale_reasons(_doc(review_by="2026-03-01", owner="ann@example.com"), TODAY, 180)
    assert (overdue.reason, overdue.since) == ("review overdue", "2026-03-01")
    assert overdue.detail == "review overdue since 2026-03-01, owner ann@example.com"
    assert stale_reasons(_doc(review_by="2027-01-01"), TODAY, 1) == []  # a date holds, not age
    [old] = stale_reasons(_doc(ingested_at="2026-01-01T00:00:00+00:00"), TODAY, 180)
    assert (old.reason, old.since) == ("old", "2026-06-30")
    reviewed = _doc(ingested_at="2026-01-01T00:00:00+00:00", reviewed_at="2026-11-30")
    assert stale_reasons(reviewed, TODAY, 180) == []  # marked reviewed: current again
    assert [s.reason for s in stale_reasons(_doc(), TODAY, 180, "changed")] == ["source changed"]
    missing = stale_reasons(_doc(source="/share/a.md"), TODAY, 180, "missing")
    assert missing[0].detail == "gone from its folder (/share/a.md)"
    [sup] = stale_reasons(_doc(superseded_by="b-2"), TODAY, 180, None, "b.md")
    assert sup.detail == "superseded by b.md"


def test_documents_state_their_owner_and_review_date() -> None:
    assert front_matter("---\nowner: ann@example.com\nreview_by: 2026-03-01\n---\n# A\n") == {
        "owner": "ann@example.com",
        "review_by": "2026-03-01",
    }
    assert front_matter("---\nReview-Date: 2026-02-30\n---\n") == {}  # no such day
    assert front_matter("# No front matter\n\nowner: not this\n") == {}
    assert review_date("2026-03-01T09:00:00Z") == "2026-03-01" and review_date("soon") is None

    d = docx.Document()
    d.add_paragraph("Travel policy.")
    d.core_properties.author = "Hanna Berg"
    buf = io.BytesIO()
    d.save(buf)
    assert office_properties(buf.getvalue()) == {}  # an author is not an owner
    custom = (
        '<?xml version="1.0" encoding="UTF-8"?><Properties xmlns="http://schemas.openxmlformats'
        '.org/officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org'
        '/officeDocument/2006/docPropsVTypes"><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2C'
        'F9AE}" pid="2" name="Owner"><vt:lpwstr>ann@example.com</vt:lpwstr></property><property '
        'fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="3" name="Review By"><vt:filetime>'
        "2026-05-01T00:00:00Z</vt:filetime></property></Properties>"
    )
    with zipfile.ZipFile(buf, "a") as archive:
        archive.writestr("docProps/custom.xml", custom)
    assert office_properties(buf.getvalue()) == {
        "owner": "ann@example.com",
        "review_by": "2026-05-01",
    }
    pdf = FPDF()
    pdf.set_author("Kaleidoscope - kscope.io")  # what real filings name as their author
    pdf.add_page()
    assert pdf_info(bytes(pdf.output())) == {}
    pdf = FPDF()
    pdf.set_creator("kb tests")
    pdf.set_producer("fpdf2")
    pdf.add_page()
    owned = pdf.output()
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(bytes(owned))))
    writer.add_metadata({"/Owner": "lars@example.com", "/ReviewBy": "2026-09-30"})
    out = io.BytesIO()
    writer.write(out)
    assert pdf_info(out.getvalue()) == {"owner": "lars@example.com", "review_by": "2026-09-30"}
    assert office_properties(b"not a zip") == {} and pdf_info(b"%PDF-broken") == {}


def test_metadata_from_the_file_admin_values_win_and_every_reason_on_a_real_folder(
    fake_kb: Factory, tmp_path: Path
) -> None:
    share = tmp_path / "share"
    share.mkdir()
    (share / "travel.md").write_text(
        "---\nowner: ann@example.com\nreview_by: 2026-03-01\n---\n# Travel\n\nTrains first.\n"
    )
    (share / "canteen.md").write_text("# Canteen\n\nSoup on Thursdays.\n")
    (share / "old-prices.md").write_text("# Prices\n\nCoffee costs 2 euro.\n")
    (share / "prices.md").write_text("# Prices\n\nCoffee costs 3 euro.\n")
    base = fake_kb(review_days=90)
    base.ingest_paths([share])
    travel = base.document("travel.md")
    assert (travel.owner, travel.review_by) == ("ann@example.com", "2026-03-01")
    assert base.document("canteen.md").review_by is not None  # KB_REVIEW_DAYS gave one

    admin = Principal("boss", "admin")
    base.set_lifecycle("travel.md", Change(owner="bo@example.com"), actor=admin)
    base.set_lifecycle("old-prices.md", Change(superseded_by="prices.md"), actor=admin)
    with pytest.raises(UsageError, match="YYYY-MM-DD"):
        base.set_lifecycle("travel.md", Change(review_by="next spring"), actor=admin)
    with pytest.raises(UsageError, match="supersede itself"):
        base.set_lifecycle("prices.md", Change(superseded_by="prices.md"), actor=admin)

    (share / "canteen.md").write_text("# Canteen\n\nSoup on Fridays now.\n")  # changed at source
    (share / "prices.md").unlink()  # gone from its folder
    reasons = {
        base.document(d).name: [s.reason for s in r] for d, r in base.stale(user=SYSTEM).items()
    }
    assert reasons == {
        "travel.md": ["review overdue"],
        "canteen.md": ["source changed"],
        "prices.md": ["source missing"],
        "old-prices.md": ["superseded"],
    }
    [overdue] = base.stale()[travel.doc_id]
    assert overdue.detail == "review overdue since 2026-03-01, owner bo@example.com"

    # A new version whose front matter names another owner: the admin's owner stays.
    (share / "travel.md").write_text(
        "---\nowner: carl@example.com\nreview_by: 2027-03-01\n---\n# Travel\n\nBikes too.\n"
    )
    base.ingest_paths([share / "travel.md"])
    travel = base.document("travel.md")
    assert (travel.owner, travel.review_by) == ("bo@example.com", "2027-03-01")
    base.set_lifecycle("canteen.md", Change(reviewed=True), actor=admin)
    assert base.document("canteen.md").reviewed_at is not None
    events = [e.detail["name"] for e in base.audit.events(20, "set_meta")]
    assert events.count("travel.md") == 1 and "canteen.md" in events


def test_the_source_checker_hashes_a_file_once_per_change(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_bytes(b"one")
    import hashlib

    doc = _doc(source=str(path), sha256=hashlib.sha256(b"one").hexdigest())
    checker = SourceChecker()
    assert checker.state(doc) == "same" and checker.state(_doc()) is None
    path.write_bytes(b"two!")
    assert checker.state(doc) == "changed"
    path.unlink()
    assert checker.state(doc) == "missing"


def test_an_answer_citing_a_stale_document_says_so(fake_kb: Factory, tmp_path: Path) -> None:
    from kb.ingest import Source

    base = fake_kb()
    base.ingest([Source("canteen.md", b"# Canteen\n\nThe canteen serves soup on Thursdays.\n")])
    fresh = base.ask("Which day does the canteen serve soup?")
    assert fresh.found and fresh.citations and fresh.citations[0].stale == []
    base.set_lifecycle(
        "canteen.md", Change(owner="ann@example.com", review_by="2026-03-01"), actor=SYSTEM
    )
    answer = base.ask("Which day does the canteen serve soup?")
    assert answer.citations[0].stale == ["review overdue since 2026-03-01, owner ann@example.com"]
    assert answer.to_dict()["citations"][0]["stale"] == answer.citations[0].stale  # kb ask --json
