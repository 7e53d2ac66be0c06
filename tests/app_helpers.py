"""Shared by the app tests: paths, test documents, and driving the app's environment."""

from __future__ import annotations

import os
from datetime import UTC, datetime
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
    # A fixed date: the same pages make the same bytes, however long the test took between.
    pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=UTC))
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 7, text)
    pdf.output(str(path))
    return path


def broken_docx() -> bytes:
    """A DOCX cut short: the zip's central directory is gone."""
    return (SAMPLE_DOCS / "remote-work-policy.docx").read_bytes()[:4000]


# The users the app tests sign in as (the users file in each test's data folder).
PASSWORD = "correct horse battery staple"
ADMIN, EMPLOYEE, LAB = "boss", "emma", "lars"  # lars is in the "lab" group, emma in none


def add_users(data_dir: Path) -> None:
    """The test users, written to the data folder's users file (real argon2 hashes)."""
    from kb.config import load_settings
    from kb.security.auth import open_users

    users = open_users(load_settings(data_dir=data_dir))
    for name, role, groups in (
        (ADMIN, "admin", []),
        (EMPLOYEE, "employee", []),
        (LAB, "employee", ["lab"]),
    ):
        if users.get(name) is None:
            users.add(name, role, groups, PASSWORD)  # type: ignore[arg-type]


def set_app_env(
    monkeypatch: pytest.MonkeyPatch,
    data_dir: Path,
    samples: Path | None = None,
    **env: str,
) -> None:
    """Point the app at `data_dir` (with the test users) and start it with a fresh cache."""
    import streamlit as st

    for name in [k for k in os.environ if k.startswith("KB_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("KB_DATA_DIR", str(data_dir))
    monkeypatch.setenv("KB_SAMPLE_DOCS_DIR", str(samples or data_dir / "no-samples"))
    for key, value in env.items():
        monkeypatch.setenv(f"KB_{key.upper()}", value)
    add_users(data_dir)
    # AppTest runs the app in this process: the KnowledgeBase cached for another data dir
    # must go (the embedding model itself stays loaded in kb.backends).
    st.cache_resource.clear()
