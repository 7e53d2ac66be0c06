"""A data dir written by an earlier release is migrated in place and keeps everything.

tests/fixtures/datadir-2026-12 was written by tools/make_datadir_fixture.py (issue 13's
release, before the database): registry.sqlite, audit.sqlite and users.json with two documents
(one restricted to a group), a user, audit events. Opened from a copy, never in place.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from llama_index.core.base.embeddings.base import BaseEmbedding

from kb.backends.database import Database, database_url
from kb.config import load_settings
from kb.index import Registry
from kb.ingest import Source
from kb.knowledge_base import KnowledgeBase
from kb.security import AuditLog, Principal, UserStore
from kb.security.auth import open_users
from tests.conftest import ROOT, Services

FIXTURE = ROOT / "tests" / "fixtures" / "datadir-2026-12"
PASSWORD = "fixture-password-2026"


def legacy_events() -> int:
    """How many audit events the fixture's own audit.sqlite holds."""
    with sqlite3.connect(f"file:{FIXTURE / 'audit.sqlite'}?immutable=1", uri=True) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(folder)).encode() + f.read_bytes())
    return h.hexdigest()


def test_an_earlier_release_data_dir_opens_with_everything_in_it(
    real_embedding: BaseEmbedding, tmp_path: Path
) -> None:
    before = _digest(FIXTURE)
    data = tmp_path / "data"
    shutil.copytree(FIXTURE, data)
    settings = load_settings(data_dir=data)
    base = KnowledgeBase(settings, embed_model=real_embedding)

    docs = {d.name: d for d in base.documents()}
    assert sorted(docs) == ["canteen.md", "lab-calibration.pdf"]
    assert docs["lab-calibration.pdf"].groups == ("lab",) and docs["lab-calibration.pdf"].pages == 2
    assert base.check() == []
    assert base.audit.verify() == []
    actions = {e.action for e in base.audit.events(100)}
    assert {"upload", "set_groups", "ask"} <= actions

    assert not (data / "registry.sqlite").exists() and (data / "registry.sqlite.imported").exists()
    assert (data / "users.json.imported").exists() and (data / "kb.sqlite").exists()
    assert base.audit.count() == legacy_events()
    erin = open_users(settings).verify("erin", PASSWORD)
    assert erin is not None and erin.role == "employee"
    reader = Principal("erin", "employee", frozenset({"lab", "everyone"}))
    outsider = Principal("olaf", "employee", frozenset({"everyone"}))
    assert base.search("reference cell replaced", 1, user=reader)[0].name == "lab-calibration.pdf"
    assert all(
        h.name != "lab-calibration.pdf" for h in base.search("reference cell", 5, user=outsider)
    )
    assert b"walrus stew" in base.original("canteen.md")[1]
    assert "Thursday" in base.ask("When is walrus stew served?").text

    [added] = base.ingest([Source("new.md", b"# New\n\nThe new kiln fires at 1200 degrees.\n")])
    assert added.status == "indexed" and base.check() == []
    assert _digest(FIXTURE) == before  # the fixture itself untouched


def test_kb_db_upgrade_moves_an_earlier_release_data_dir_into_postgresql(
    shared_services: Services, tmp_path: Path
) -> None:
    """The path from one machine to replicas: `kb db upgrade` with KB_DATABASE_URL copies the
    data dir's registry, audit log and users into PostgreSQL."""
    data = tmp_path / "data"
    shutil.copytree(FIXTURE, data)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KB_")},
        "KB_DATA_DIR": str(data),
        "KB_DATABASE_URL": shared_services.postgres.create(),
    }

    def kb_db(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "kb", "db", *args]
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)

    before = kb_db("status")
    assert before.returncode == 1 and "needs `kb db upgrade`" in before.stdout
    assert "registry.sqlite, audit.sqlite, users.json" in before.stdout
    upgraded = kb_db("upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "imported users.json (kept as users.json.imported)" in upgraded.stdout
    assert "***" in upgraded.stdout or "postgres@" in upgraded.stdout  # no password shown
    assert kb_db("status").returncode == 0 and "up to date" in kb_db("status").stdout
    assert kb_db("upgrade").stdout.strip().endswith("(already up to date)")

    db = Database(database_url(env["KB_DATABASE_URL"], data))
    docs = {d.name: d for d in Registry(db).list()}
    assert sorted(docs) == ["canteen.md", "lab-calibration.pdf"]
    assert docs["lab-calibration.pdf"].groups == ("lab",)
    audit = AuditLog(db)
    assert audit.count() == legacy_events() and audit.verify() == []
    audit.record("system", "recover", report="after the move")  # the chain goes on
    assert audit.verify() == []
    erin = UserStore(db).verify("erin", PASSWORD)
    assert erin is not None and erin.groups == ("lab",)
    db.dispose()
