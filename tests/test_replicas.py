"""Two app replicas, one knowledge base: `kb` processes with different data dirs over one real
PostgreSQL, one real `chroma run` and one real S3 endpoint (moto's server).

The regression test for the data loss of issue 14: before the shared registry, each data dir
swept the other's chunks as orphans.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.base.embeddings.base import BaseEmbedding
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from kb.config import Settings, load_settings
from kb.errors import ConfigError
from kb.ingest import Source
from kb.knowledge_base import KnowledgeBase
from kb.security import Principal
from kb.security.auth import Authenticator
from tests import servers
from tests.conftest import ROOT, Services

pytestmark = [pytest.mark.slow, pytest.mark.server]
PASSWORD = "replica passphrase 2026"


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with servers.s3(tmp_path_factory.mktemp("s3")) as url:
        yield url


@pytest.fixture
def deployment(
    shared_services: Services, s3_endpoint: str, tmp_path: Path
) -> dict[str, dict[str, str]]:
    """KB_* variables of replica A and replica B: their own data dirs, everything else shared."""
    shared = {
        "KB_DATABASE_URL": shared_services.postgres.create(),
        "KB_CHROMA_HOST": "127.0.0.1",
        "KB_CHROMA_PORT": str(shared_services.chroma_port),
        "KB_COLLECTION": f"r{uuid.uuid4().hex[:12]}",
        **{f"KB_{k.upper()}": v for k, v in servers.s3_settings(s3_endpoint).items()},
    }
    return {name: {**shared, "KB_DATA_DIR": str(tmp_path / name)} for name in ("A", "B")}


def kb(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.Popen[str]:
    """`kb ARGS` started as its own process with these KB_* variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    return subprocess.Popen(
        [sys.executable, "-m", "kb", *args],
        env={**clean, **env},
        cwd=ROOT,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def done(proc: subprocess.Popen[str], stdin: str | None = None) -> str:
    """Wait for a `kb` process; its stdout (fails the test with its stderr if it failed)."""
    out, err = proc.communicate(stdin, timeout=600)
    assert proc.returncode == 0, err
    return out


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    return done(kb(env, *args, stdin=stdin), stdin)


def found(env: dict[str, str], query: str) -> list[str]:
    """The files of the hits for `query`, searched by that replica's process."""
    return [h["name"] for h in json.loads(run(env, "search", query, "-k", "5", "--json"))]


def settings(env: dict[str, str]) -> Settings:
    fields: dict[str, Any] = {k[3:].lower(): v for k, v in env.items()}
    return load_settings(**fields)


def test_two_replicas_share_one_knowledge_base(
    deployment: dict[str, dict[str, str]], tmp_path: Path, real_embedding: BaseEmbedding
) -> None:
    a, b = deployment["A"], deployment["B"]
    docs = tmp_path / "docs"
    docs.mkdir()
    files = {
        "alpha.md": "# Alpha\n\nThe alpha reactor is cooled by walrus-12 coolant.\n",
        "beta.md": "# Beta\n\nThe beta line runs on pelican-34 bearings.\n",
        "gamma.md": "# Gamma\n\nThe gamma kiln fires at 1,230 degrees on Tuesdays.\n",
        "delta.md": "# Delta\n\nThe delta press stamps otter-56 brackets at night.\n",
    }
    for name, body in files.items():
        (docs / name).write_text(body)

    run(a, "ingest", str(docs / "alpha.md"))
    assert found(b, "walrus coolant reactor")[0] == "alpha.md"  # A ingests, B finds it
    run(b, "ingest", str(docs / "beta.md"))
    assert found(a, "walrus coolant reactor")[0] == "alpha.md"  # A still finds its own
    assert found(a, "pelican bearings")[0] == "beta.md"

    # Both at the same moment: the shared write lock queues them; neither sweeps the other.
    both = [kb(a, "ingest", str(docs / "gamma.md")), kb(b, "ingest", str(docs / "delta.md"))]
    for proc in both:
        done(proc)
    listed = {d["name"] for d in json.loads(run(a, "docs", "list", "--json"))}
    assert listed == set(files)
    assert found(b, "kiln degrees Tuesdays")[0] == "gamma.md"
    assert found(a, "otter brackets press")[0] == "delta.md"

    run(b, "docs", "delete", "gamma.md")
    assert "gamma.md" not in found(a, "kiln degrees Tuesdays")

    run(b, "users", "add", "carol", "--group", "lab", stdin=PASSWORD + "\n")
    principal, _ = Authenticator(settings(a)).sign_in("carol", PASSWORD)
    assert principal.groups == frozenset({"lab"})

    # B restricts beta.md to the lab; A's next search (as carol, and as an outsider) obeys.
    replica_b = KnowledgeBase(settings(b), embed_model=real_embedding)
    replica_a = KnowledgeBase(settings(a), embed_model=real_embedding)
    assert replica_a.search("pelican bearings", 1, user=principal)[0].name == "beta.md"
    replica_b.set_groups("beta.md", ["lab"], actor=replica_b_admin())
    outsider = Principal("olaf", "employee", frozenset({"everyone"}))
    assert all(h.name != "beta.md" for h in replica_a.search("pelican bearings", 5, user=outsider))
    assert replica_a.search("pelican bearings", 1, user=principal)[0].name == "beta.md"

    # The original B uploaded, downloaded through A (from S3: neither data dir holds it).
    _, data, _ = replica_a.original("beta.md")
    assert data == files["beta.md"].encode()
    assert not list(Path(a["KB_DATA_DIR"]).rglob("*.md"))

    assert run(a, "check").strip() == "consistent"
    assert run(b, "check").strip() == "consistent"
    assert replica_a.audit.verify() == []
    uploads = {e.detail["name"] for e in replica_a.audit.events(200, "upload")}
    assert uploads == set(files)  # written by both processes into one chain
    assert {e.action for e in replica_b.audit.events(200)} >= {"delete", "user_add", "set_groups"}

    # Append-only in PostgreSQL itself, not only in kb's code.
    for sql in ("UPDATE events SET actor='x'", "DELETE FROM events", "TRUNCATE events"):
        with pytest.raises(DBAPIError, match="append-only"), replica_a.db.engine.begin() as c:
            c.execute(text(sql))


def replica_b_admin() -> Principal:
    return Principal("admin-on-b", "admin")


def test_mixed_shared_and_private_parts_are_refused_at_start(tmp_path: Path) -> None:
    pg = "postgresql+psycopg://kb@db.invalid/kb"
    cases = [
        ({"database_url": pg, "s3_bucket": "x"}, "KB_CHROMA_HOST"),
        ({"chroma_host": "chroma.invalid"}, "KB_DATABASE_URL"),
        ({"database_url": pg, "chroma_host": "chroma.invalid"}, "KB_S3_BUCKET"),
    ]
    for overrides, needle in cases:
        with pytest.raises(ConfigError, match=needle):
            KnowledgeBase(load_settings(data_dir=tmp_path / "d", **overrides))
        assert not (tmp_path / "d" / "kb.sqlite").exists()


def test_a_schema_newer_than_the_code_is_refused(shared_services: Services) -> None:
    from kb.backends.database import Database, database_url
    from kb.backends.migrate import prepare, upgrade

    db = Database(database_url(shared_services.postgres.create(), Path(".")))
    upgrade(db)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num='9999'"))
    with pytest.raises(ConfigError, match="newer than this kb"):
        prepare(db)
    db.dispose()


def test_the_keyword_index_follows_writes_made_through_another_replica(
    deployment: dict[str, dict[str, str]], real_embedding: BaseEmbedding
) -> None:
    a = KnowledgeBase(settings(deployment["A"]), embed_model=real_embedding)
    b = KnowledgeBase(settings(deployment["B"]), embed_model=real_embedding)
    assert a.search("zebra", 3, mode="keyword") == []
    b.ingest([Source("zebra.md", b"# Zebra\n\nThe zebra crossing is repainted in May.\n")])
    assert b.originals.exists("_keyword-index/CURRENT")  # the writer published its index

    def no_rebuild(*_: object) -> None:
        raise AssertionError("replica A rebuilt the keyword index instead of loading B's")

    a.snapshots._rebuild_keyword = no_rebuild  # type: ignore[method-assign,assignment]
    assert a.search("zebra crossing", 3, mode="keyword")[0].name == "zebra.md"
    assert b.check() == []  # the published index is not taken for stray originals
    b.delete("zebra.md")
    assert a.search("zebra crossing", 3, mode="keyword") == []


def test_the_write_lock_and_the_sign_in_throttle_hold_across_replicas(
    shared_services: Services, tmp_path: Path
) -> None:
    from kb.backends.database import Database, database_url
    from kb.backends.migrate import upgrade
    from kb.index import WriteLock
    from kb.security.auth import SignInThrottle

    url = database_url(shared_services.postgres.create(), tmp_path)
    one, two = Database(url), Database(url)  # two processes' engines: separate connections
    upgrade(one)
    lock_one, lock_two = WriteLock(tmp_path / "a.lock", one), WriteLock(tmp_path / "b.lock", two)
    with lock_one.hold(), lock_two.try_hold() as taken:
        assert not taken  # another machine's file lock would not have stopped it
    with lock_two.try_hold() as taken:
        assert taken

    throttle_one = SignInThrottle(one, max_failures=3, window=60, lockout=30)
    throttle_two = SignInThrottle(two, max_failures=3, window=60, lockout=30)
    for t in (0, 1, 2):  # guesses spread over the replicas still add up
        (throttle_one if t % 2 else throttle_two).failed("ann", 1000 + t)
    assert throttle_one.wait("ann", 1003) == pytest.approx(29)
    assert throttle_two.wait("ann", 1003) == pytest.approx(29)
    throttle_two.succeeded("ann")
    assert throttle_one.wait("ann", 1003) == 0
    one.dispose()
    two.dispose()


def test_a_shared_database_behind_the_code_waits_for_kb_db_upgrade(
    shared_services: Services, tmp_path: Path
) -> None:
    """Replicas never change a shared schema by themselves: an older one is refused with the
    command to run, and `kb db upgrade` brings it up (0001 -> 0002, rows kept)."""
    from kb.backends.database import Database, database_url
    from kb.backends.migrate import head, prepare, status, upgrade
    from kb.index import Registry

    url = shared_services.postgres.create()
    db = Database(database_url(url, tmp_path))
    upgrade(db, to="0001")  # as the release before identity by source left it
    with db.write() as conn:
        conn.execute(
            text(
                "INSERT INTO documents (doc_id, name, kind, size, sha256, version, chunks, "
                "ingested_at, status) VALUES ('a-1', 'a.md', 'md', 1, 'x', 'v', 1, 'now', 'ready')"
            )
        )
    with pytest.raises(ConfigError, match="run `kb db upgrade` once"):
        prepare(db)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("KB_")}}
    env |= {"KB_DATABASE_URL": url, "KB_DATA_DIR": str(tmp_path / "data")}
    out = subprocess.run(
        [sys.executable, "-m", "kb", "db", "upgrade"], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0 and f"schema upgraded from 0001 to {head()}" in out.stdout, (
        out.stderr
    )
    prepare(db)  # now accepted
    assert status(db) == (head(), head())
    [doc] = Registry(db).list()
    assert doc.name == "a.md" and doc.source is None
    db.dispose()
