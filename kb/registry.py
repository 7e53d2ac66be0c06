"""The document registry: one SQLite row per document, the truth about what is indexed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from kb.errors import NotFoundError, StoreError

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
    status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('generation', '0');
"""


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

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict of the fields."""
        return asdict(self)


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

    def list(self) -> list[Document]:
        """Every document, by name."""
        with self._conn() as conn:
            rows = conn.execute("SELECT * FROM documents ORDER BY name COLLATE NOCASE").fetchall()
        return [Document(**dict(r)) for r in rows]

    def get(self, doc_id: str) -> Document | None:
        """The document with this id, if registered."""
        with self._conn() as conn:
            row = conn.execute("SELECT * FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        return Document(**dict(row)) if row else None

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
        return Document(**dict(rows[0]))

    def active_versions(self) -> dict[str, str]:
        """doc_id -> the version readers may see; chunks of any other version are invisible."""
        with self._conn() as conn:
            rows = conn.execute("SELECT doc_id, version FROM documents").fetchall()
        return {r["doc_id"]: r["version"] for r in rows}

    def upsert(self, doc: Document) -> None:
        """Make `doc` the live version, in one transaction with the generation bump."""
        cols = list(doc.to_dict())
        with self._conn() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                f"INSERT OR REPLACE INTO documents ({','.join(cols)}) "
                f"VALUES ({','.join('?' * len(cols))})",
                [doc.to_dict()[c] for c in cols],
            )
            conn.execute("UPDATE meta SET value=value+1 WHERE key='generation'")
            conn.execute("COMMIT")

    def remove(self, doc_id: str) -> None:
        """Unregister a document (its chunks become invisible at once)."""
        with self._conn() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))
            conn.execute("UPDATE meta SET value=value+1 WHERE key='generation'")
            conn.execute("COMMIT")
