"""The Upload page links each indexed file to its parse report; the Admin page shows it."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.config import load_settings
from kb.knowledge_base import KnowledgeBase
from tests.app_helpers import ZEPHYR_NAME, ZEPHYR_PAGES, make_pdf, set_app_env
from tests.test_app import ADMIN_PAGE, UPLOAD, start, texts

pytestmark = pytest.mark.slow  # real model, AppTest, subprocesses or servers


def test_upload_links_each_file_to_its_parse_report_on_the_admin_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_app_env(monkeypatch, tmp_path / "data")
    at = start().switch_page(UPLOAD).run()
    assert "OCR (Tesseract)" in texts(at) or "OCR is off" in texts(at)
    pdf = make_pdf(tmp_path / ZEPHYR_NAME, ZEPHYR_PAGES).read_bytes()
    at.file_uploader[0].set_value([(ZEPHYR_NAME, pdf, "application/pdf")]).run()
    at.button[0].click().run()
    assert not at.exception, at.exception
    doc = KnowledgeBase(load_settings()).document(ZEPHYR_NAME)
    links = at.get("page_link")
    assert len(links) == 1 and links[0].proto.label == "Parse report"
    assert links[0].proto.page.endswith("Admin"), links[0].proto.page

    at.query_params["doc"] = doc.doc_id
    at.switch_page(ADMIN_PAGE).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="report_doc").value == doc.doc_id
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Pages"] == str(len(ZEPHYR_PAGES)) == str(doc.report["pages"])
    assert metrics["Text layer"] == str(len(ZEPHYR_PAGES))
    assert metrics["Chunks"] == str(doc.chunks)
    assert "Read by pdfium as PDF" in texts(at)
