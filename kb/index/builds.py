"""Which Chroma collection answers come from, and a full re-index built beside it (issue 15).

A full re-index (a new chunking recipe or embedding model) writes every document into a new
collection while answers keep coming from the active one; each finished document is noted in
`index_docs`, so an interrupted build resumes where it stopped. When all are in, one
transaction points every document at its new version and makes the new collection active:
readers switch on their next query, and the old collection is dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text

from kb.backends.database import Database
from kb.index.registry import Document

_SWITCHED = ("version", "chunks", "pages", "sha256")  # what a rebuilt version changes


@dataclass(frozen=True)
class IndexInfo:
    """A collection kb knows: active, or being built (with the recipe and model it uses)."""

    collection: str
    state: str
    recipe: str
    model: str
    started_at: str
    finished_at: str | None = None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Indexes:
    """The `indexes` and `index_docs` tables (migration 0003)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _rows(self, state: str) -> list[IndexInfo]:
        with self.db.read() as conn:
            rows = conn.execute(text("SELECT * FROM indexes WHERE state=:s"), {"s": state})
            return [IndexInfo(**dict(r._mapping)) for r in rows]

    def active(self) -> IndexInfo | None:
        """The collection answers come from, once a full re-index chose one (None: the
        configured KB_COLLECTION, as before any full re-index)."""
        rows = self._rows("active")
        return rows[0] if rows else None

    def active_name(self, default: str) -> str:
        """The active collection's name (`default`: KB_COLLECTION)."""
        info = self.active()
        return info.collection if info else default

    def building(self) -> IndexInfo | None:
        """A build started and not switched in (interrupted, or running under the lock)."""
        rows = self._rows("building")
        return rows[0] if rows else None

    def adopt(self, collection: str, recipe: str, model: str) -> None:
        """Record the collection in use as active, with the model writing to it, unless one
        is recorded (the first write of a data dir, or of one from before revision 0003)."""
        if self.active() is not None:
            return
        with self.db.write() as conn:
            if conn.execute(text("SELECT 1 FROM indexes WHERE state='active'")).first():
                return
            conn.execute(
                text(
                    "INSERT INTO indexes (collection, state, recipe, model, started_at, "
                    "finished_at) VALUES (:c, 'active', :r, :m, :at, :at)"
                ),
                {"c": collection, "r": recipe, "m": model, "at": _now()},
            )

    def start(self, collection: str, recipe: str, model: str) -> IndexInfo:
        """Note a new build."""
        info = IndexInfo(collection, "building", recipe, model, _now())
        with self.db.write() as conn:
            conn.execute(
                text(
                    "INSERT INTO indexes (collection, state, recipe, model, started_at) "
                    "VALUES (:collection, :state, :recipe, :model, :started_at)"
                ),
                {k: getattr(info, k) for k in ("collection", "state", "recipe", "model")}
                | {"started_at": info.started_at},
            )
        return info

    def abandon(self, collection: str) -> None:
        """Forget a build (its collection is the caller's to drop)."""
        with self.db.write() as conn:
            conn.execute(text("DELETE FROM index_docs WHERE collection=:c"), {"c": collection})
            conn.execute(
                text("DELETE FROM indexes WHERE collection=:c AND state='building'"),
                {"c": collection},
            )

    def done(self, collection: str) -> dict[str, dict[str, object]]:
        """doc id -> the version a build wrote for it (version, chunks, pages, sha256, report)."""
        with self.db.read() as conn:
            rows = conn.execute(
                text("SELECT doc_id, row FROM index_docs WHERE collection=:c"), {"c": collection}
            )
            return {r.doc_id: json.loads(r.row) for r in rows}

    def record(self, collection: str, doc: Document) -> None:
        """Note that a build wrote `doc`'s new version whole."""
        row = {f: getattr(doc, f) for f in _SWITCHED} | {"report": doc.report}
        with self.db.write() as conn:
            conn.execute(
                text("DELETE FROM index_docs WHERE collection=:c AND doc_id=:d"),
                {"c": collection, "d": doc.doc_id},
            )
            conn.execute(
                text("INSERT INTO index_docs (collection, doc_id, row) VALUES (:c, :d, :r)"),
                {"c": collection, "d": doc.doc_id, "r": json.dumps(row)},
            )

    def switch(self, collection: str) -> int:
        """Make the build active in one transaction: every document it wrote points at its new
        version (unless its bytes changed meanwhile), the generation moves so that readers in
        every process follow; returns how many documents switched."""
        with self.db.write() as conn:
            rows = conn.execute(
                text("SELECT doc_id, row FROM index_docs WHERE collection=:c"), {"c": collection}
            ).all()
            switched = 0
            for r in rows:
                new = json.loads(r.row)
                cur = conn.execute(
                    text(
                        "UPDATE documents SET version=:v, chunks=:n, pages=:p, report=:rep "
                        "WHERE doc_id=:d AND sha256=:s"
                    ),
                    {
                        "v": new["version"],
                        "n": new["chunks"],
                        "p": new["pages"],
                        "rep": json.dumps(new["report"]),
                        "d": r.doc_id,
                        "s": new["sha256"],
                    },
                )
                switched += int(cur.rowcount or 0)
            conn.execute(text("DELETE FROM index_docs WHERE collection=:c"), {"c": collection})
            conn.execute(text("DELETE FROM indexes WHERE state='active'"))
            conn.execute(
                text("UPDATE indexes SET state='active', finished_at=:at WHERE collection=:c"),
                {"at": _now(), "c": collection},
            )
            conn.execute(text("UPDATE meta SET value=value+1 WHERE key='generation'"))
        return switched
