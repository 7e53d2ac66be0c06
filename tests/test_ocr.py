"""Scans and images are read with the real Tesseract; without it, the reason says how to turn
OCR on. The parse report counts text pages and OCR pages of a mixed PDF."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

from kb.ingest import ocr
from kb.ingest.pipeline import Source
from kb.knowledge_base import KnowledgeBase

KBFactory = Callable[..., KnowledgeBase]
needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="Tesseract is installed by `make test` (apt)"
)


def typed_page(lines: list[str]) -> Image.Image:
    """A white page with typed black lines, as a scanner would give it (150 DPI, A5-ish)."""
    img = Image.new("L", (1240, 900), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=34)
    for n, line in enumerate(lines):
        draw.text((80, 80 + n * 60), line, fill=0, font=font)
    return img


SCAN_LINES = ["Boiler room access", "The boiler room key is kept", "at the Quince reception desk."]


def _image_pdf(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "PDF", resolution=150)
    return buf.getvalue()


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _mixed_pdf() -> bytes:
    """Page 1 and 3 typed text, page 2 a scan (an image, no text layer)."""
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, "Fire drills. The spring fire drill is held on the first Monday of April.")
    pdf.add_page()
    pdf.image(typed_page(SCAN_LINES), x=10, y=10, w=190)
    pdf.add_page()
    pdf.multi_cell(0, 8, "Assembly point. Staff gather in the north car park after a drill.")
    return bytes(pdf.output())


@needs_tesseract
def test_an_image_only_pdf_and_a_png_are_read_by_ocr_and_found(make_kb: KBFactory) -> None:
    base = make_kb()
    scan = _image_pdf(typed_page(SCAN_LINES))
    photo = _png(typed_page(["Printer codes", "The Quince printer PIN is 4471."]))
    outcomes = base.ingest([Source("boiler.pdf", scan), Source("printer.png", photo)])
    assert [o.status for o in outcomes] == ["indexed", "indexed"], [o.reason for o in outcomes]
    hit = base.search("Where is the boiler room key kept?", 1)[0]
    assert hit.name == "boiler.pdf" and "reception" in hit.text and hit.page == 1
    assert base.search("What is the printer PIN?", 1)[0].name == "printer.png"
    assert base.document("boiler.pdf").report["ocr_pages"] == 1
    assert base.document("printer.png").report["parser"] == "tesseract"


@needs_tesseract
def test_the_parse_report_counts_text_and_ocr_pages_of_a_mixed_pdf(
    make_kb: KBFactory, tmp_path: Path
) -> None:
    base = make_kb()
    (outcome,) = base.ingest([Source("drills.pdf", _mixed_pdf())])
    assert outcome.status == "indexed", outcome.reason
    report = base.document("drills.pdf").report
    assert report["pages"] == 3 and report["pages_with_text"] == 2 and report["ocr_pages"] == 1
    assert report["parser"] == "pdfium" and report["chunks"] == outcome.chunks
    assert report["parse_seconds"] > 0 and report["embed_seconds"] > 0
    # Both kinds of page are searchable, each at its own page.
    assert base.search("Where is the boiler room key kept?", 1)[0].page == 2
    assert base.search("When is the spring fire drill?", 1)[0].page == 1
    # The CLI shows the same report.
    env = dict(os.environ, KB_DATA_DIR=str(base.settings.data_dir))
    shown = subprocess.run(
        [sys.executable, "-m", "kb.cli.main", "docs", "show", "drills.pdf", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=300,
    )
    assert json.loads(shown.stdout)["report"] == report
    plain = subprocess.run(
        [sys.executable, "-m", "kb.cli.main", "docs", "show", "drills.pdf"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=300,
    ).stdout
    assert "3 pages (2 with text, 1 by OCR)" in plain


def test_without_tesseract_the_reason_says_ocr_is_off_and_how_to_turn_it_on(
    make_kb: KBFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))  # the binary is hidden: as if not installed
    base = make_kb()
    assert ocr.find(base.settings.tesseract) is None
    assert "apt-get install tesseract-ocr" in (base.ocr_status() or "")
    scan = _image_pdf(typed_page(SCAN_LINES))
    outcomes = base.ingest(
        [
            Source("boiler.pdf", scan),
            Source("printer.png", _png(typed_page(["PIN 4471"]))),
            Source("drills.pdf", _mixed_pdf()),
        ]
    )
    for o in outcomes[:2]:
        assert o.status == "failed"
        assert "OCR is off" in o.reason and "apt-get install tesseract-ocr" in o.reason
    # A mixed PDF goes in with its text pages, and its report says what was not read.
    assert outcomes[2].status == "indexed"
    warnings = base.document("drills.pdf").report["warnings"]
    assert any("1 scanned pages not read" in w and "OCR is off" in w for w in warnings)


@needs_tesseract
def test_a_deck_of_only_a_picture_of_a_table_is_read_by_ocr(make_kb: KBFactory) -> None:
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[6])  # blank: no text at all
    picture = typed_page(["Depot   Opening", "Braga   06:45", "Faro    07:15"])
    slide.shapes.add_picture(io.BytesIO(_png(picture)), Inches(0.5), Inches(0.5), Inches(9))
    buf = io.BytesIO()
    prs.save(buf)
    base = make_kb()
    (outcome,) = base.ingest([Source("depots.pptx", buf.getvalue())])
    assert outcome.status == "indexed", outcome.reason
    hit = base.search("When does the Faro depot open?", 1)[0]
    assert hit.name == "depots.pptx" and "07:15" in hit.text and hit.page == 1
    assert base.document("depots.pptx").report["ocr_pages"] == 1
