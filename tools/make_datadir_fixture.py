"""Write tests/fixtures/datadir-2026-12: a small data dir as release b611d50 wrote it.

It made the fixture the database migration (issue 14) upgrades, and runs only on that release:
    git worktree add /tmp/kb-b611d50 b611d50
    cd /tmp/kb-b611d50 && /work/main/.venv/bin/python tools/make_datadir_fixture.py
Before the next on-disk change, copy this script's idea for the release then current.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from fpdf import FPDF

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kb.config import load_settings  # noqa: E402
from kb.ingest import Source  # noqa: E402
from kb.knowledge_base import KnowledgeBase  # noqa: E402
from kb.security import Principal, UsersFile  # noqa: E402

OUT = ROOT / "tests" / "fixtures" / "datadir-2026-12"
PASSWORD = "fixture-password-2026"  # a test fixture's, never a real one


def _pdf() -> bytes:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for text in (
        "Orion calibration. The reference cell is replaced every 90 days.",
        "Escalation. Call the lab lead on extension 4711.",
    ):
        pdf.add_page()
        pdf.multi_cell(0, 7, text)
    return bytes(pdf.output())


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    settings = load_settings(data_dir=OUT)
    base = KnowledgeBase(settings)
    admin = Principal("admin", "admin")
    base.ingest(
        [
            Source("lab-calibration.pdf", _pdf()),
            Source("canteen.md", b"# Canteen\n\nThe canteen serves walrus stew every Thursday.\n"),
        ],
        actor=admin,
    )
    base.set_groups("lab-calibration.pdf", ["lab"], actor=admin)
    base.ask("When is walrus stew served?")
    UsersFile(OUT / "users.json", settings.password_min_length).add(
        "erin", "employee", ["lab"], password=PASSWORD
    )
    shutil.rmtree(OUT / "logs", ignore_errors=True)  # a log is not state
    print(f"wrote {OUT}: {[d.name for d in base.documents()]}")


if __name__ == "__main__":
    main()
