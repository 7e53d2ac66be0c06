"""Kept versions: a replaced version leaves search but stays openable (issue 15).

When a new version goes live, the old one's passages (text and metadata, no vectors) are
copied into `kept_chunks` in the same transaction as the switch, and its original stays in the
blob store; a citation made while it was live still opens the exact passage it quoted. The
newest KB_KEEP_VERSIONS are kept (fewer with KB_KEEP_VERSION_DAYS); a delete removes them all.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, text

from kb.backends.database import Database
from kb.index.registry import Document
from kb.index.store import StoredChunk


@dataclass(frozen=True)
class KeptVersion:
    """A replaced version still kept: what it was and when (and by which version) it went."""

    doc_id: str
    version: str
    name: str
    kind: str
    size: int
    sha256: str
    pages: int | None
    chunks: int
    ingested_at: str
    superseded_at: str
    superseded_by: str

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return asdict(self)


def keep(conn: Connection, old: Document, by: str, at: str, chunks: list[StoredChunk]) -> None:
    """Record `old` as kept, replaced by version `by` at `at` (inside the switch's transaction)."""
    conn.execute(
        text(
            "INSERT INTO versions (doc_id, version, name, kind, size, sha256, pages, chunks, "
            "ingested_at, superseded_at, superseded_by) VALUES (:doc_id, :version, :name, "
            ":kind, :size, :sha256, :pages, :chunks, :ingested_at, :at, :by)"
        ),
        {
            **{f: getattr(old, f) for f in ("doc_id", "version", "name", "kind", "size")},
            **{f: getattr(old, f) for f in ("sha256", "pages", "chunks", "ingested_at")},
            "at": at,
            "by": by,
        },
    )
    if chunks:
        conn.execute(
            text(
                "INSERT INTO kept_chunks (chunk_id, doc_id, version, text, meta) "
                "VALUES (:c, :d, :v, :t, :m)"
            ),
            [
                {"c": c.id, "d": old.doc_id, "v": old.version, "t": c.text, "m": json.dumps(c.meta)}
                for c in chunks
            ],
        )


def forget(conn: Connection, doc_id: str, version: str | None = None) -> int:
    """Drop a document's kept versions (one, or all); returns how many went."""
    where, params = "doc_id=:d", {"d": doc_id}
    if version is not None:
        where, params = where + " AND version=:v", {**params, "v": version}
    conn.execute(text(f"DELETE FROM kept_chunks WHERE {where}"), params)
    return int(conn.execute(text(f"DELETE FROM versions WHERE {where}"), params).rowcount or 0)


def to_retire(
    kept: list[KeptVersion], keep_count: int, keep_days: int | None, today: date
) -> list[KeptVersion]:
    """Which of one document's kept versions (newest first) to retire: beyond the newest
    `keep_count`, or replaced more than `keep_days` ago."""
    out = []
    for n, v in enumerate(kept):
        old = keep_days is not None and _day(v.superseded_at) < today - timedelta(days=keep_days)
        if n >= keep_count or old:
            out.append(v)
    return out


def _day(stamp: str) -> date:
    return date.fromisoformat(stamp[:10])


class Versions:
    """Reads kept versions and retires them (writes happen inside the registry's switch)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def of(self, doc_id: str) -> list[KeptVersion]:
        """A document's kept versions, newest first."""
        with self.db.read() as conn:
            rows = conn.execute(
                text("SELECT * FROM versions WHERE doc_id=:d ORDER BY superseded_at DESC"),
                {"d": doc_id},
            )
            return [KeptVersion(**dict(r._mapping)) for r in rows]

    def get(self, doc_id: str, version: str) -> KeptVersion | None:
        """One kept version, if it is kept."""
        return next((v for v in self.of(doc_id) if v.version == version), None)

    def all(self) -> list[KeptVersion]:
        """Every kept version (for the sweep: their originals are not strays)."""
        with self.db.read() as conn:
            rows = conn.execute(text("SELECT * FROM versions"))
            return [KeptVersion(**dict(r._mapping)) for r in rows]

    def chunks(self, ids: list[str]) -> dict[str, StoredChunk]:
        """Kept passages by chunk id (ids of no kept version are absent)."""
        if not ids:
            return {}
        out = {}
        with self.db.read() as conn:
            for start in range(0, len(ids), 500):  # under every database's parameter limit
                part = ids[start : start + 500]
                marks = ",".join(f":i{n}" for n in range(len(part)))
                sql = f"SELECT chunk_id, text, meta FROM kept_chunks WHERE chunk_id IN ({marks})"
                rows = conn.execute(
                    text(sql),
                    {f"i{n}": i for n, i in enumerate(part)},
                )
                for r in rows:
                    out[r.chunk_id] = StoredChunk(r.chunk_id, r.text, json.loads(r.meta))
        return out

    def retire(
        self, doc_id: str, keep_count: int, keep_days: int | None, today: date
    ) -> list[KeptVersion]:
        """Drop the versions of `doc_id` past the limits; returns them (their originals are
        the caller's to delete)."""
        gone = to_retire(self.of(doc_id), keep_count, keep_days, today)
        if gone:
            with self.db.write() as conn:
                for v in gone:
                    forget(conn, v.doc_id, v.version)
        return gone

    def count(self) -> int:
        """How many versions are kept, over all documents."""
        with self.db.read() as conn:
            return int(conn.execute(text("SELECT count(*) FROM versions")).scalar_one())
