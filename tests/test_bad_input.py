"""A generated corpus of hostile and broken files, ingested in one batch with good ones."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fpdf import FPDF
from PIL import Image
from pypdf import PdfReader, PdfWriter
from sqlalchemy import text

from kb.ingest.guards import display_name
from kb.ingest.pipeline import Source
from kb.knowledge_base import KnowledgeBase

KBFactory = Callable[..., KnowledgeBase]
# Small limits so each guard can be crossed with files built in a second.
LIMITS = {"max_upload_mb": 3, "zip_max_uncompressed_mb": 4, "max_text_chars": 1_000_000}


def _pdf(lines: list[str]) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for line in lines:
        pdf.add_page()
        pdf.multi_cell(0, 8, line)
    return bytes(pdf.output())


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _docx(text: str) -> bytes:
    import docx

    doc = docx.Document()
    doc.add_heading("Parking garage", 1)
    doc.add_paragraph(text)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def good_files() -> list[Source]:
    """Three ordinary documents."""
    return [
        Source("canteen.md", b"# Canteen\n\nThe canteen serves fish soup every Thursday.\n"),
        Source("garage.docx", _docx("The parking garage opens at 06:00 and closes at 22:00.")),
        Source(
            "visitors.pdf",
            _pdf(
                [
                    "Visitor policy. Visitors sign in at reception.",
                    "Badges. Visitor badges are returned at the gate.",
                ]
            ),
        ),
    ]


def bad_files() -> list[tuple[Source, str]]:
    """(file, a phrase its refusal must contain): every case of issue 6, point 3."""
    text_pdf = _pdf(["Quarterly figures. Revenue grew by nine percent.", "Costs fell."])
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf)))
    writer.encrypt("hunter2")
    encrypted = io.BytesIO()
    writer.write(encrypted)
    scan = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 30, 30)).save(scan, "PDF")
    blank = FPDF()
    blank.add_page()
    content_types = b'<?xml version="1.0"?><Types/>'
    word = "[Content_Types].xml"
    cases = [
        (Source("setup.pdf", b"MZ\x90\x00" + os.urandom(4000)), "Windows executable"),
        (Source("report.docx", b"\x7fELF\x02\x01\x01" + os.urandom(4000)), "Linux executable"),
        (Source("notes.txt", b"\x89PNG\r\n\x1a\n" + os.urandom(500)), "PNG image"),
        (Source("budget.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)), "legacy Office"),
        (Source("blob.md", os.urandom(3000)), "binary data"),
        (
            Source("bomb.docx", _zip({word: content_types, "word/document.xml": bytes(60 << 20)})),
            "zip bomb",
        ),
        (
            Source(
                "many.xlsx",
                _zip(
                    {"xl/workbook.xml": b"<w/>", **{f"xl/p{i}.xml": b"<p/>" for i in range(10_001)}}
                ),
            ),
            "holds 10002 files",
        ),
        (
            Source(
                "big.pptx",
                _zip(
                    {
                        "ppt/presentation.xml": b"<p/>",
                        "ppt/blob.xml": os.urandom(5 << 19).hex().encode(),
                    }
                ),
            ),
            "unpacks to",
        ),
        (Source("archive.docx", _zip({"hello.txt": b"hi"})), "not a DOCX"),
        (
            Source("broken.docx", _zip({word: content_types, "word/document.xml": b"<w:document"})),
            "could not read broken.docx",
        ),
        (Source("huge.txt", b"lorem ipsum dolor " * 70_000), "million characters"),
        (Source("oversize.md", b"# Big\n\n" + b"word " * 800_000), "over the 3 MB limit"),
        (Source("secret.pdf", encrypted.getvalue()), "password-protected"),
        (Source("cut.pdf", text_pdf[: len(text_pdf) // 2]), "truncated"),
        (Source("scan.pdf", scan.getvalue()), "its pages are images"),
        (Source("blank.pdf", bytes(blank.output())), "pages are blank"),
        (Source("empty.txt", b""), "the file is empty"),
        (Source("spaces.md", b"   \n\n \t \n"), "no readable text"),
        (Source("mail.eml", b"Hello, this is not an e-mail at all.\n"), "no e-mail headers"),
    ]
    return cases


def snapshot(base: KnowledgeBase) -> dict[str, Any]:
    """Everything the store holds: registry rows, Chroma rows, keyword index and originals."""
    with base.db.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM documents"))]
        registry = sorted(
            # When and how fast (the parse report's seconds) differ between two runs.
            ({c: v for c, v in r.items() if c not in ("ingested_at", "report")} for r in rows),
            key=lambda r: r["doc_id"],
        )
        meta = dict(conn.execute(text("SELECT key, value FROM meta")).all())
        pending = conn.execute(text("SELECT * FROM pending")).all()
    got = base.store._collection.get(include=["documents", "metadatas", "embeddings"])
    chroma = sorted(
        (i, d, json.dumps(m, sort_keys=True), [float(x) for x in e])
        for i, d, m, e in zip(
            got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True
        )
    )
    keyword = {
        str(p.relative_to(base.paths.keyword)): p.read_bytes()
        for p in sorted(base.paths.keyword.rglob("*"))
        if p.is_file()
    }
    originals = {key: base.originals.read(key) for key in base.originals.keys_under()}
    data = Path(base.settings.data_dir)
    files = sorted(
        str(p.relative_to(data))
        for p in data.rglob("*")
        if p.is_file() and p.parts[len(data.parts)] in ("originals", "keyword")
    )
    return {
        "registry": registry,
        "meta": meta,
        "pending": pending,
        "chroma": chroma,
        "keyword": keyword,
        "originals": originals,
        "files": files,
    }


def test_each_bad_file_gets_its_reason_and_the_store_is_as_without_them(
    make_kb: KBFactory, tmp_path: Path
) -> None:
    good, bad = good_files(), bad_files()
    clean = make_kb(data_dir=tmp_path / "clean", **LIMITS)
    assert all(o.status == "indexed" for o in clean.ingest(good))
    mixed = make_kb(data_dir=tmp_path / "mixed", **LIMITS)
    batch: list[Source] = []
    for n, (source, _) in enumerate(bad):  # good files in between the bad ones
        batch.append(source)
        if n % 6 == 0 and good:
            batch.append(good.pop(0))
    batch += good
    outcomes = {o.name: o for o in mixed.ingest(batch)}
    assert len(outcomes) == len(batch)
    for source, phrase in bad:
        out = outcomes[source.name]
        assert out.status == "failed" and phrase in out.reason, (source.name, out.reason)
        assert "Traceback" not in out.reason and len(out.reason) < 400
    assert {n for n, o in outcomes.items() if o.ok} == {"canteen.md", "garage.docx", "visitors.pdf"}
    assert snapshot(mixed) == snapshot(clean)
    assert mixed.check() == [] and clean.check() == []
    assert {p.name for p in tmp_path.iterdir()} == {"clean", "mixed"}  # nothing written beside


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("../../../etc/passwd.md", "passwd.md"),
        ("..\\..\\windows\\system.ini.md", "system.ini.md"),
        ("/abs/path/notes.md", "notes.md"),
        ("invoice\u202egpj.md", "invoice gpj.md"),
        ("tab\there\nnew\x00line.md", "tab here new line.md"),
        ("..", "unnamed"),
        ("Ångström\u0301 notes.md", "Ångström\u0301 notes.md"),
    ],
)
def test_display_names_are_labels_not_paths(raw: str, shown: str) -> None:
    import unicodedata

    assert display_name(raw) == unicodedata.normalize("NFC", shown)


def test_odd_file_names_are_stored_under_ids_only(make_kb: KBFactory, tmp_path: Path) -> None:
    base = make_kb()
    names = [
        "../../escape.md",
        "..\\..\\escape2.md",
        "\u202eevil.md",
        "x" * 5000 + ".md",
        "日本語のメモ.md",
        "<script>alert(1)</script>.md",
    ]
    outcomes = base.ingest(
        [
            Source(n, f"# Note {i}\n\nThe locker code is {i}{i}{i}.\n".encode())
            for i, n in enumerate(names)
        ]
    )
    assert [o.status for o in outcomes] == ["indexed"] * len(names), [o.message() for o in outcomes]
    shown = [d.name for d in base.documents()]
    assert all(
        len(n) <= 200 and "/" not in n and "\\" not in n and "\u202e" not in n for n in shown
    )
    assert "日本語のメモ.md" in shown and "escape.md" in shown
    data = Path(base.settings.data_dir)
    for path in (data / "originals").rglob("*"):
        rel = path.relative_to(data / "originals")
        assert rel.parts[0] in {d.doc_id for d in base.documents()}
        assert all(part.isascii() and "<" not in part for part in rel.parts)
    assert {p.name for p in tmp_path.iterdir()} == {"data"}
    assert not (tmp_path.parent / "escape.md").exists()
    assert base.check() == []


def test_markup_in_documents_stays_plain_text(make_kb: KBFactory) -> None:
    base = make_kb()
    page = (
        b"<html><body><h1>Lockers</h1><p>Locker rules: &lt;script&gt;alert('x')&lt;/script&gt; "
        b"is shown as text. Lockers are emptied every Friday evening.</p>"
        b"<script>document.cookie</script><img src=x onerror=alert(1)></body></html>"
    )
    [out] = base.ingest([Source("lockers.html", page)])
    assert out.status == "indexed"
    answer = base.ask("When are lockers emptied?")
    assert answer.found and "Friday" in answer.text
    produced = answer.text + "".join(h.text for h in answer.hits)
    assert "document.cookie" not in produced and "onerror" not in produced
    assert "<p>" not in produced and "<h1>" not in produced  # kb adds no markup of its own


def test_a_huge_file_on_disk_is_refused_without_being_read(
    make_kb: KBFactory, tmp_path: Path
) -> None:
    base = make_kb(**LIMITS)
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as handle:
        handle.truncate(8 << 30)  # 8 GiB, sparse: reading it whole would exhaust memory
    [out] = base.ingest_paths([huge])
    assert out.status == "failed" and "over the 3 MB limit" in out.reason
    assert base.documents() == [] and base.store.count() == 0
