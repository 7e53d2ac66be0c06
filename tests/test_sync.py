"""Source sync (issue 15): a real folder changed between syncs, dry runs that change nothing,
an unmounted share that removes nothing, a bad file that fails alone, and `kb sync` of
sample_docs twice (the second run embeds nothing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import docx
import pytest

from kb.errors import UsageError
from kb.ingest.sync import parse_interval
from kb.knowledge_base import KnowledgeBase
from tests.conftest import ROOT, SAMPLE_DOCS

Factory = Callable[..., KnowledgeBase]


def _share(root: Path) -> Path:
    (root / "hr").mkdir(parents=True)
    (root / "it").mkdir()
    (root / "hr" / "notes.md").write_text("# HR notes\n\nHoliday requests go to Hanna.\n")
    (root / "it" / "notes.md").write_text("# IT notes\n\nLaptops are renewed every 4 years.\n")
    doc = docx.Document()
    doc.add_heading("Parking", 1)
    doc.add_paragraph("Visitors park on level two of the garage.")
    doc.save(root / "parking.docx")
    return root


def _state(base: KnowledgeBase) -> tuple[object, ...]:
    docs = [(d.doc_id, d.version, d.sha256) for d in base.documents()]
    return (docs, base.registry.counters(), sorted(base.store.all_ids()), base.synced_folders())


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_folder_changed_between_two_syncs(fake_kb: Factory, tmp_path: Path) -> None:
    share = _share(tmp_path / "share")
    base = fake_kb()
    first = base.sync(share)
    assert first.ok and first.counts() == {"new": 3} and first.embedded > 0
    assert base.sync(share).counts() == {"unchanged": 3}

    (share / "it" / "notes.md").write_text("# IT notes\n\nLaptops are renewed every 3 years.\n")
    (share / "hr" / "notes.md").unlink()
    (share / "new.md").write_text("# New\n\nThe canteen opens at eight.\n")
    # Between syncs the stale report already sees both changes at the source.
    reasons = {base.document(d).name: [s.reason for s in r] for d, r in base.stale().items()}
    assert reasons == {"it/notes.md": ["source changed"], "hr/notes.md": ["source missing"]}

    before = _state(base)
    plan = base.sync(share, dry_run=True)
    assert _state(base) == before  # a dry run changes nothing, not even the folder's record
    assert {ln.name: ln.status for ln in plan.lines} == {
        "it/notes.md": "changed",
        "hr/notes.md": "missing",
        "new.md": "new",
        "parking.docx": "unchanged",
    }
    assert plan.summary().startswith("dry run, nothing changed: 1 new, 1 changed, 1 unchanged")

    second = base.sync(share)
    assert {ln.name: ln.status for ln in second.lines} == {
        "it/notes.md": "changed",
        "hr/notes.md": "missing",
        "new.md": "new",
        "parking.docx": "unchanged",
    }
    assert base.search("laptops renewed", 1, mode="keyword")[0].text.endswith("3 years.")
    assert base.document("hr/notes.md")  # reported, kept (and stale) without --prune
    pruned = base.sync(share, prune=True)
    assert pruned.counts() == {"unchanged": 3, "removed": 1}
    assert {d.name for d in base.documents()} == {"it/notes.md", "new.md", "parking.docx"}
    assert base.stale() == {} and base.check() == []

    [folder] = base.synced_folders()
    assert folder.folder == str(share.resolve())
    assert folder.summary["counts"] == {"unchanged": 3, "removed": 1}
    assert [ln["name"] for ln in folder.summary["lines"]] == ["hr/notes.md"]  # what changed
    assert [e.detail["summary"] for e in base.audit.events(10, "sync")][0] == pruned.summary()


def test_an_unmounted_share_removes_nothing(fake_kb: Factory, tmp_path: Path) -> None:
    share = _share(tmp_path / "share")
    base = fake_kb()
    base.sync(share)
    before = _state(base)[0], _state(base)[2], base.registry.generation()
    share.rename(tmp_path / "away")  # the share is unmounted
    gone = base.sync(share, prune=True)
    assert not gone.ok and gone.lines == [] and "is the share mounted?" in gone.error
    share.mkdir()  # an empty mount point where the share was
    empty = base.sync(share, prune=True)
    assert "holds no supported file, but 3 documents came from it" in empty.error
    assert base.sync(share, dry_run=True).error  # the plan refuses the same way
    assert (_state(base)[0], _state(base)[2], base.registry.generation()) == before
    assert base.synced_folders()[0].summary["error"] == empty.error  # the Admin page says why


def test_one_bad_file_fails_alone_and_the_sync_goes_on(fake_kb: Factory, tmp_path: Path) -> None:
    share = _share(tmp_path / "share")
    (share / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    base = fake_kb()
    report = base.sync(share)
    statuses = {ln.name: ln.status for ln in report.lines}
    assert statuses.pop("broken.docx") == "failed" and set(statuses.values()) == {"new"}
    assert not report.ok and len(base.documents()) == 3 and base.check() == []
    (share / "broken.docx").unlink()  # fixed at the source: the next sync is clean
    assert base.sync(share).ok


def test_sync_intervals() -> None:
    assert parse_interval("15m") == 900 and parse_interval("1h") == 3600
    assert parse_interval("90s") == 90 and parse_interval("1d") == 86400
    for bad in ("5s", "soon", "", "-1m"):
        with pytest.raises(UsageError, match="15m"):
            parse_interval(bad)


def _kb(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kb.cli.main", *args, "--data-dir", str(data)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "KB_DATA_DIR": str(data / "unused")},
        timeout=900,
    )


@pytest.mark.slow  # the real model, in subprocesses
def test_kb_sync_of_sample_docs_twice_embeds_nothing_the_second_time(tmp_path: Path) -> None:
    data = tmp_path / "data"
    files = sorted(p for p in SAMPLE_DOCS.rglob("*") if p.is_file() and p.suffix != ".yaml")
    first = _kb("sync", str(SAMPLE_DOCS), data=data)
    assert first.returncode == 0, first.stderr
    second = _kb("sync", str(SAMPLE_DOCS), "--json", data=data)
    assert second.returncode == 0, second.stderr
    report = json.loads(second.stdout)
    assert report["embedded"] == 0 and report["counts"] == {"unchanged": len(report["lines"])}
    third = _kb("sync", str(SAMPLE_DOCS), data=data)
    lines = third.stdout.splitlines()
    assert third.returncode == 0 and len(lines) == len(report["lines"]) + 1 >= len(files) - 1
    assert all(line.endswith(": unchanged") for line in lines[:-1])
    assert lines[-1] == f"{SAMPLE_DOCS.resolve()}: {len(lines) - 1} unchanged"
    dry = _kb("sync", str(SAMPLE_DOCS), "--dry-run", data=data)
    assert dry.stdout.splitlines()[-1].endswith(f"nothing changed: {len(lines) - 1} unchanged")


@pytest.mark.slow  # a subprocess that keeps running
def test_kb_sync_every_keeps_syncing_on_its_interval(tmp_path: Path) -> None:
    share = tmp_path / "share"
    share.mkdir()
    (share / "a.md").write_text("# A\n\nThe first note.\n")
    cmd = [sys.executable, "-m", "kb.cli.main", "sync", str(share), "--every", "10s"]
    cmd += ["--data-dir", str(tmp_path / "data")]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    summaries: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(str(share.resolve()) + ":"):
                summaries.append(line.strip())
                if len(summaries) == 1:
                    (share / "b.md").write_text("# B\n\nA second note, added later.\n")
                if len(summaries) == 2:
                    break
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert summaries[0].endswith(": 1 new")
    assert summaries[1].endswith(": 1 new, 1 unchanged")  # the next run, 10 s later


def test_a_sync_cut_short_resumes_where_it_stopped(
    fake_kb: Factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kb.ingest.commit import Committer

    share = tmp_path / "share"
    share.mkdir()
    for n in range(6):
        (share / f"note{n}.md").write_text(f"# Note {n}\n\nThe code of note {n} is {n * 7}.\n")
    base = fake_kb()
    real = Committer.commit

    def killed_on_fourth(self: Committer, *args: object, **kwargs: object) -> object:
        if len(self.registry.list()) == 3:
            raise KeyboardInterrupt  # the process dies in the middle of the fourth file
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Committer, "commit", killed_on_fourth)
    monkeypatch.setattr(Committer, "commit_many", lambda self, items: [
        self.commit(p, v, g) for p, v, g in items
    ])  # fmt: skip
    with pytest.raises(KeyboardInterrupt):
        base.sync(share)
    monkeypatch.undo()
    assert len(base.documents()) == 3

    again = fake_kb()  # the next run, in a new process
    report = again.sync(share)
    assert report.counts() == {"unchanged": 3, "new": 3} and report.ok
    assert len(again.documents()) == 6 and again.check() == []
