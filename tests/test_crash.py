"""SIGKILL real `kb ingest` / `kb reindex` processes at random points; after each restart the
registry, Chroma, the keyword index and the originals agree and interrupted work is resumed."""

from __future__ import annotations

import fcntl
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from llama_index.core.base.embeddings.base import BaseEmbedding

from kb.config import load_settings
from kb.knowledge_base import KnowledgeBase

from .conftest import SAMPLE_DOCS

pytestmark = pytest.mark.slow  # real model, AppTest, subprocesses or servers

KB = str(Path(sys.executable).with_name("kb"))
KILLS = 12  # the issue asks for 10 or more
TOPICS = ["parking", "canteen", "lockers", "printers"]


def env_for(data: Path, **extra: str) -> dict[str, str]:
    """The environment of a `kb` process on `data`."""
    env = dict(os.environ)
    env.update(
        KB_DATA_DIR=str(data),
        DO_NOT_TRACK="1",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
        **extra,
    )
    return env


def write_corpus(folder: Path, marker: str) -> None:
    """Four Markdown files whose every section names `marker` (a new version each round)."""
    folder.mkdir(exist_ok=True)
    for topic in TOPICS:
        sections = [
            f"## {topic.title()} rule {n}\n\n"
            + f"Rule {n} about {topic}: the {marker} procedure applies on floor {n}. " * 12
            for n in range(1, 4)
        ]
        (folder / f"{topic}.md").write_text(f"# {topic.title()}\n\n" + "\n\n".join(sections))


def lock_held(data: Path) -> bool:
    """Whether some process holds kb's write lock on `data` now."""
    path = data / "write.lock"
    if not path.exists():
        return False
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def run_until_locked(cmd: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[bytes], float]:
    """Start `cmd` and return once it holds the write lock (or has exited)."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    data = Path(env["KB_DATA_DIR"])
    deadline = time.monotonic() + 300
    while proc.poll() is None and not lock_held(data) and time.monotonic() < deadline:
        time.sleep(0.01)
    return proc, time.monotonic()


def journal(data: Path) -> bool:
    """Whether the registry's write journal names a file being written now."""
    try:
        with sqlite3.connect(f"file:{data / 'kb.sqlite'}?mode=ro", uri=True) as conn:
            return bool(conn.execute("SELECT COUNT(*) FROM pending").fetchone()[0])
    except sqlite3.Error:
        return False


def audit_reports(data: Path) -> list[str]:
    """What recoveries wrote to the audit log."""
    with sqlite3.connect(data / "kb.sqlite") as conn:
        rows = conn.execute("SELECT detail FROM events WHERE action='recover'").fetchall()
    return [json.loads(r[0])["report"] for r in rows]


def test_sigkill_at_random_points_leaves_a_consistent_store(
    tmp_path: Path, real_embedding: BaseEmbedding
) -> None:
    rng = random.Random(int(os.environ.get("KB_CRASH_SEED", "6")))
    data, docs = tmp_path / "data", tmp_path / "docs"
    write_corpus(docs, "round0")
    shutil.copy(SAMPLE_DOCS / "remote-work-policy.docx", docs)
    shutil.copy(SAMPLE_DOCS / "orion-4-release-notes.txt", docs)
    settings = load_settings(data_dir=data)

    started = time.monotonic()
    proc, locked = run_until_locked([KB, "ingest", str(docs)], env_for(data))
    assert proc.wait(timeout=600) == 0, proc.stderr.read() if proc.stderr else ""
    window = max(1.0, time.monotonic() - locked)  # how long a full write holds the lock
    assert time.monotonic() - started < 600

    kills, points = 0, []
    for round_no in range(1, 3 * KILLS):
        if kills >= KILLS:
            break
        if round_no % 3 == 0:
            # A re-index with other chunking settings: every document gets a new version.
            size = rng.choice(["800", "900", "1100"])
            cmd, env = [KB, "reindex", "--all"], env_for(data, KB_CHUNK_SIZE=size)
        else:
            write_corpus(docs, f"round{round_no}")
            cmd, env = [KB, "ingest", str(docs)], env_for(data)
        proc, locked = run_until_locked(cmd, env)
        if round_no % 2:
            # Anywhere while the lock is held: parsing, embedding, writing, sweeping.
            delay = rng.uniform(0, window)
            time.sleep(max(0.0, delay - (time.monotonic() - locked)))
            point = f"{cmd[1]} +{delay:.2f}s"
        else:
            # Inside a commit: once the journal shows a file being written, a little later.
            while proc.poll() is None and not journal(data):
                time.sleep(0.002)
            delay = rng.uniform(0, 0.15)
            time.sleep(delay)
            point = f"{cmd[1]} commit+{delay * 1000:.0f}ms"
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
            points.append(point)
        proc.wait(timeout=60)

        # Restart: a new KnowledgeBase finishes or reports interrupted work, then all agree.
        base = KnowledgeBase(settings, embed_model=real_embedding)
        assert base.check() == [], (round_no, points[-1:], base.recovered)
        assert base.registry.pending() == []
        for doc in base.documents():
            stored = base.store.get(base.store.all_ids())
            assert sum(1 for c in stored.values() if c.meta["doc_id"] == doc.doc_id) == doc.chunks
            assert base.originals.exists(base.ingestor.original_key(doc))
        names = {d.name for d in base.documents()}
        hits = base.search("parking rule procedure floor", 10, "keyword")
        assert {h.name for h in hits} <= names
        del base

    assert kills >= KILLS, points
    # Resumed or reported: the audit log says what each recovery did.
    reports = audit_reports(data)
    assert reports and all(
        r.startswith(("resumed an interrupted upload", "an upload of", "finished")) for r in reports
    ), reports
    # A last, uninterrupted run brings everything to the newest files.
    write_corpus(docs, "final")
    done = subprocess.run([KB, "ingest", str(docs)], env=env_for(data), capture_output=True)
    assert done.returncode == 0, done.stderr[-2000:]
    base = KnowledgeBase(settings, embed_model=real_embedding)
    assert base.check() == []
    assert sorted(d.name for d in base.documents()) == sorted(p.name for p in docs.iterdir())
    for topic in TOPICS:
        hits = base.search(f"{topic} final procedure", 3, "keyword")
        assert hits and hits[0].name == f"{topic}.md" and "final" in hits[0].text
    assert not [t for t in base.store.iter_all() if "round" in t.text and "procedure" in t.text]
    print(f"{kills} kills at: {', '.join(points)}; {len(reports)} recovery reports")
