"""A data dir written by an earlier release is migrated in place and keeps everything.

tests/fixtures/datadir-2026-12 was written by tools/make_datadir_fixture.py (issue 13's
release, before the database): registry.sqlite, audit.sqlite and users.json with two documents
(one restricted to a group), a user, audit events. Opened from a copy, never in place.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from llama_index.core.base.embeddings.base import BaseEmbedding

from kb.config import load_settings
from kb.ingest import Source
from kb.knowledge_base import KnowledgeBase
from kb.security import Principal
from kb.security.auth import open_users
from tests.conftest import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "datadir-2026-12"
PASSWORD = "fixture-password-2026"


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
    assert base.audit.count() >= 5
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
