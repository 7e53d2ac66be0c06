"""The document registry: one SQLite row per document, the truth about what is indexed."""

from __future__ import annotations

import builtins
import json
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kb.errors import NotFoundError, StoreError
from kb.security.principals import EVERYONE

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    version TEXT NOT NULL,
    pages INTEGER,
    chunks INTEGER NOT NULL,
    ingested_at TEXT NOT NULL,
    status TEXT NOT NULL,
    groups TEXT NOT NULL DEFAULT '["everyone"]',
    report TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('generation', '0');
INSERT OR IGNORE INTO meta VALUES ('acl_generation', '0');
INSERT OR IGNORE INTO meta VALUES ('writes', '0');
-- Who this registry is: a Chroma collection records the one registry allowed to write to it.
CREATE TABLE IF NOT EXISTS identity (id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS pending (
    doc_id TEXT NOT NULL,
    version TEXT NOT NULL,
    op TEXT NOT NULL,
    name TEXT NOT NULL,
    groups TEXT NOT NULL,
    started_at TEXT NOT NULL,
    PRIMARY KEY (doc_id, version)
);
"""


@dataclass(frozen=True)
class Pending:
    """A write in progress (or interrupted, when no writer holds the lock)."""

    doc_id: str
    version: str
    op: str  # "ingest" or "delete"
    name: str
    groups: tuple[str, ...]
    started_at: str


@dataclass(frozen=True)
class Document:
    """A registered document: what was uploaded, which version is live, how it was indexed."""

    doc_id: str
    name: str
    kind: str
    size: int
    sha256: str
    version: str
    pages: int | None
    chunks: int
    ingested_at: str
    status: str = "ready"
    groups: tuple[str, ...] = (EVERYONE,)
    # The parse report of this version (kb.ingest.report.ParseReport as a dict); {} before issue 12.
    report: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict of the fields."""
        return asdict(self)


def _doc(row: sqlite3.Row) -> Document:
    fields = dict(row)
    fields["groups"] = tuple(json.loads(fields.get("groups") or "[]")) or (EVERYONE,)
    fields["report"] = json.loads(fields.get("report") or "{}")
    return Document(**fields)


def _row(doc: Document) -> dict[str, object]:
    fields = doc.to_dict()
    fields["groups"] = json.dumps(list(doc.groups))
    fields["report"] = json.dumps(doc.report)
    return fields


class Registry:
    """Documents in `data_dir/registry.sqlite`; every change bumps a generation counter
    so other readers (the keyword index, other processes) know to refresh."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._conn() as conn:
            # WAL is a property of the database file: set once, readers never block the writer.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            cols = {r["name"] for r in conn.execute("PRAGMA table_info(documents)")}
            if "groups" not in cols:  # a registry from before access groups: all open
                conn.execute(
                    "ALTER TABLE documents ADD COLUMN groups TEXT NOT NULL DEFAULT '[\"everyone\"]'"
                )
            if "report" not in cols:  # from before parse reports: re-indexing fills them in
                conn.execute("ALTER TABLE documents ADD COLUMN report TEXT NOT NULL DEFAULT '{}'")
            # A registry from before identities gets one now (the first open wins a race).
            conn.execute(
                "INSERT INTO identity SELECT ? WHERE NOT EXISTS (SELECT 1 FROM identity)",
                (uuid.uuid4().hex,),
            )
            self.id: str = conn.execute("SELECT id FROM identity").fetchone()[0]

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the registry {self.path}: {exc}") from exc
        try:
            conn.row_factory = sqlite3.Row
            yield conn
        finally:
            conn.close()

    def generation(self) -> int:
        """A counter that changes whenever any document is added, replaced or removed."""
        with self._conn() as conn:
            return int(conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0])

    def counters(self) -> dict[str, int]:
        """generation, acl_generation and writes, read together."""
        with self._conn() as conn:
            return {k: int(v) for k, v in conn.execute("SELECT key, value FROM meta")}

    def stamp(self) -> tuple[int, int]:
        """(generation, acl_generation), read together: what a reader's view depends on."""
        c = self.counters()
        return c["generation"], c["acl_generation"]

    def touch(self) -> int:
        """Bump the writes counter; returns its new value."""
        with self._conn() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE meta SET value=value+1 WHERE key='writes'")
            value = conn.execute("SELECT value FROM meta WHERE key='writes'").fetchone()[0]
            conn.execute("COMMIT")
        return int(value)

    def list(self) -> list[Document]:
        """Every document, by name."""
        with self._conn() as conn:
            rows = conn.execute("SELECT * FROM documents ORDER BY name COLLATE NOCASE").fetchall()
        return [_doc(r) for r in rows]

    def get(self, doc_id: str) -> Document | None:
        """The document with this id, if registered."""
        with self._conn() as conn:
            row = conn.execute("SELECT * FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        return _doc(row) if row else None

    def find(self, id_or_name: str) -> Document:
        """Look a document up by id, or else by exact file name."""
        doc = self.get(id_or_name)
        if doc:
            return doc
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT * FROM documents WHERE name=? COLLATE NOCASE", (id_or_name,)
            ).fetchall()
        if not rows:
            raise NotFoundError(
                f"no document with id or name '{id_or_name}'; `kb docs list` shows them"
            )
        return _doc(rows[0])

    def active_versions(self) -> dict[str, str]:
        """doc_id -> the version readers may see; chunks of any other version are invisible."""
        with self._conn() as conn:
            rows = conn.execute("SELECT doc_id, version FROM documents").fetchall()
        return {r["doc_id"]: r["version"] for r in rows}

    def snapshot(self) -> tuple[tuple[int, int], dict[str, str], dict[str, tuple[str, ...]]]:
        """(stamp, live versions, access groups) read in one transaction."""
        with self._conn() as conn:
            conn.execute("BEGIN")
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            rows = conn.execute("SELECT doc_id, version, groups FROM documents").fetchall()
            conn.execute("COMMIT")
        stamp = (int(meta["generation"]), int(meta["acl_generation"]))
        versions = {r["doc_id"]: r["version"] for r in rows}
        groups = {r["doc_id"]: tuple(json.loads(r["groups"])) for r in rows}
        return stamp, versions, groups

    def upsert(self, doc: Document) -> None:
        """Make `doc` the live version, in one transaction with the generation bump."""
        fields = _row(doc)
        cols = list(fields)
        with self._conn() as conn:
            conn.execute("BEGIN IMMEDIATE")
            old = conn.execute("SELECT groups FROM documents WHERE doc_id=?", (doc.doc_id,))
            before = old.fetchone()
            conn.execute(
                f"INSERT OR REPLACE INTO documents ({','.join(cols)}) "
                f"VALUES ({','.join('?' * len(cols))})",
                [fields[c] for c in cols],
            )
            conn.execute("UPDATE meta SET value=value+1 WHERE key='generation'")
            if before is None or before["groups"] != fields["groups"]:
                conn.execute("UPDATE meta SET value=value+1 WHERE key='acl_generation'")
            conn.execute("COMMIT")

    # -- the write journal: a row per file being written, removed when it is whole ---------
    def begin(self, doc_id: str, version: str, op: str, name: str, groups: Sequence[str]) -> None:
        """Note that a write of this version starts (before any chunk or file is written)."""
        with self._conn() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO pending VALUES (?,?,?,?,?,datetime('now'))",
                (doc_id, version, op, name, json.dumps(list(groups))),
            )

    def end(self, doc_id: str, version: str) -> None:
        """Note that the write of this version finished (or was undone)."""
        with self._conn() as conn:
            conn.execute("DELETE FROM pending WHERE doc_id=? AND version=?", (doc_id, version))

    def pending(self) -> builtins.list[Pending]:
        """Writes begun and not finished, oldest first."""
        with self._conn() as conn:
            rows = conn.execute("SELECT * FROM pending ORDER BY started_at").fetchall()
        return [
            Pending(
                r["doc_id"],
                r["version"],
                r["op"],
                r["name"],
                tuple(json.loads(r["groups"])),
                r["started_at"],
            )
            for r in rows
        ]

    def set_groups(self, doc_id: str, groups: Sequence[str]) -> None:
        """Change a document's access groups; readers see the change on their next query."""
        with self._conn() as conn:
            conn.execute("BEGIN IMMEDIATE")
            cur = conn.execute(
                "UPDATE documents SET groups=? WHERE doc_id=?", (json.dumps(list(groups)), doc_id)
            )
            if cur.rowcount == 0:
                conn.execute("ROLLBACK")
                raise NotFoundError(f"no document with id '{doc_id}'; `kb docs list` shows them")
            conn.execute("UPDATE meta SET value=value+1 WHERE key='acl_generation'")
            conn.execute("COMMIT")

    def remove(self, doc_id: str) -> None:
        """Unregister a document (its chunks become invisible at once)."""
        with self._conn() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))
            conn.execute("UPDATE meta SET value=value+1 WHERE key='generation'")
            conn.execute("UPDATE meta SET value=value+1 WHERE key='acl_generation'")
            conn.execute("COMMIT")
