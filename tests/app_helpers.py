"""Shared by the app tests: paths, test documents, and driving the app's environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from fpdf import FPDF

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "streamlit_app.py"
SAMPLE_DOCS = ROOT / "sample_docs"
TIMEOUT = 120  # seconds per AppTest run: the first one loads the model and the parsers

# The e2e document: a fact found nowhere else, on page 2 only.
ZEPHYR_NAME = "zephyr-lab-notes.pdf"
ZEPHYR_QUESTION = "Where is the Zephyr-9 calibration rig stored?"
ZEPHYR_FACT = "cabinet Q-17"
ZEPHYR_PAGES = [
    "Zephyr lab notes. This notebook belongs to the instrument lab in Bergen. It lists the "
    "people on the lab rota, the opening hours of the lab and the rules for booking bench "
    "time. Bench time is booked in the shared calendar one week ahead. Visitors sign the "
    "visitor log at the door and wear safety glasses at all times. " * 3,
    "Equipment storage. The Zephyr-9 calibration rig is stored in cabinet Q-17 in the "
    "basement store room, and its key is kept by the lab manager. Return the rig to "
    "cabinet Q-17 after use and note the calibration date in the logbook.",
]


def make_pdf(path: Path, pages: list[str]) -> Path:
    """A real PDF with a text layer, one page per string."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 7, text)
    pdf.output(str(path))
    return path


def broken_docx() -> bytes:
    """A DOCX cut short: the zip's central directory is gone."""
    return (SAMPLE_DOCS / "remote-work-policy.docx").read_bytes()[:4000]


def set_app_env(
    monkeypatch: pytest.MonkeyPatch,
    data_dir: Path,
    password: str | None = None,
    samples: Path | None = None,
) -> None:
    """Point the app at `data_dir` (and a sample folder) and start it with a fresh cache."""
    import streamlit as st

    monkeypatch.setenv("KB_DATA_DIR", str(data_dir))
    monkeypatch.setenv("KB_SAMPLE_DOCS_DIR", str(samples or data_dir / "no-samples"))
    monkeypatch.delenv("KB_ADMIN_PASSWORD_HASH", raising=False)
    if password is None:
        monkeypatch.delenv("KB_ADMIN_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("KB_ADMIN_PASSWORD", password)
    # AppTest runs the app in this process: the KnowledgeBase cached for another data dir
    # must go (the embedding model itself stays loaded in kb.backends).
    st.cache_resource.clear()
