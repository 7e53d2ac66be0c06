"""The document registry: one database row per document, the truth about what is indexed."""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, text

from kb.backends.database import Database
from kb.errors import NotFoundError
from kb.security.principals import EVERYONE


@dataclass(frozen=True)
class Pending:
    """A write in progress (or interrupted, when no writer holds the lock)."""

    doc_id: str
    version: str
    op: str  # "ingest" or "delete"
    name: str
    groups: tuple[str, ...]
    started_at: str
    source: str | None = None


Names = dict[str, tuple[str, int | None]]  # doc id -> (name, pages: None for unpaged formats)


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
    # Where it comes from: the absolute path a folder ingest read; None for uploads.
    source: str | None = None
    owner: str | None = None  # a user name or e-mail address
    review_by: str | None = None  # YYYY-MM-DD
    reviewed_at: str | None = None  # when an admin last marked it reviewed
    superseded_by: str | None = None  # the doc id an admin said replaces it
    admin_set: tuple[str, ...] = ()  # fields an admin set: the file's own metadata never wins

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict of the fields."""
        return asdict(self)


def _doc(row: Any) -> Document:
    fields = dict(row)
    fields["groups"] = tuple(json.loads(fields.get("groups") or "[]")) or (EVERYONE,)
    fields["report"] = json.loads(fields.get("report") or "{}")
    fields["admin_set"] = tuple(json.loads(fields.get("admin_set") or "[]"))
    return Document(**fields)


def _row(doc: Document) -> dict[str, object]:
    fields = doc.to_dict()
    fields["groups"] = json.dumps(list(doc.groups))
    fields["report"] = json.dumps(doc.report)
    fields["admin_set"] = json.dumps(sorted(doc.admin_set))
    return fields


_COLS = [f for f in Document.__dataclass_fields__]
_INSERT = text(
    f"INSERT INTO documents ({','.join(_COLS)}) VALUES ({','.join(':' + c for c in _COLS)})"
)
_NOT_FOUND = "no document with id '{}'; `kb docs list` shows them"


def _bump(conn: Connection, *keys: str) -> None:
    for key in keys:
        conn.execute(text("UPDATE meta SET value=value+1 WHERE key=:k"), {"k": key})


class Registry:
    """Documents in the database (kb.backends.database); every change bumps a generation
    counter so other readers (the keyword index, other processes and replicas) refresh."""

    def __init__(self, db: Database) -> None:
        self.db = db
        with db.read() as conn:
            self.id: str = conn.execute(text("SELECT id FROM identity")).scalar_one()

    def generation(self) -> int:
        """A counter that changes whenever any document is added, replaced or removed."""
        return self.counters()["generation"]

    def counters(self) -> dict[str, int]:
        """generation, acl_generation and writes, read together."""
        with self.db.read() as conn:
            return {k: int(v) for k, v in conn.execute(text("SELECT key, value FROM meta"))}

    def stamp(self) -> tuple[int, int]:
        """(generation, acl_generation), read together: what a reader's view depends on."""
        c = self.counters()
        return c["generation"], c["acl_generation"]

    def touch(self) -> int:
        """Bump the writes counter; returns its new value."""
        with self.db.write() as conn:
            _bump(conn, "writes")
            value = conn.execute(text("SELECT value FROM meta WHERE key='writes'")).scalar_one()
        return int(value)

    def list(self) -> list[Document]:
        """Every document, by name (case-insensitive)."""
        with self.db.read() as conn:
            rows = conn.execute(text("SELECT * FROM documents ORDER BY lower(name), name"))
            return [_doc(r._mapping) for r in rows]

    def get(self, doc_id: str) -> Document | None:
        """The document with this id, if registered."""
        with self.db.read() as conn:
            row = conn.execute(
                text("SELECT * FROM documents WHERE doc_id=:d"), {"d": doc_id}
            ).first()
        return _doc(row._mapping) if row else None

    def by_source(self, source: str) -> Document | None:
        """The document read from this source path, if any."""
        with self.db.read() as conn:
            row = conn.execute(
                text("SELECT * FROM documents WHERE source=:s"), {"s": source}
            ).first()
        return _doc(row._mapping) if row else None

    def find(self, id_or_name: str) -> Document:
        """Look a document up by id, or else by exact file name (any case)."""
        doc = self.get(id_or_name)
        if doc:
            return doc
        with self.db.read() as conn:
            row = conn.execute(
                text("SELECT * FROM documents WHERE lower(name)=lower(:n) ORDER BY name"),
                {"n": id_or_name},
            ).first()
        if row is None:
            raise NotFoundError(
                f"no document with id or name '{id_or_name}'; `kb docs list` shows them"
            )
        return _doc(row._mapping)

    def active_versions(self) -> dict[str, str]:
        """doc_id -> the version readers may see; chunks of any other version are invisible."""
        with self.db.read() as conn:
            rows = conn.execute(text("SELECT doc_id, version FROM documents"))
            return {r.doc_id: r.version for r in rows}

    def snapshot(self) -> tuple[tuple[int, int], dict[str, str], dict[str, tuple[str, ...]], Names]:
        """(stamp, live versions, access groups, {doc id: (name, pages)}) read in one
        consistent transaction."""
        with self.db.read(consistent=True) as conn:
            meta: dict[str, int] = dict(conn.execute(text("SELECT key, value FROM meta")).all())
            rows = conn.execute(
                text("SELECT doc_id, version, groups, name, pages FROM documents")
            ).all()
        stamp = (int(meta["generation"]), int(meta["acl_generation"]))
        versions = {r.doc_id: r.version for r in rows}
        groups = {r.doc_id: tuple(json.loads(r.groups)) for r in rows}
        return stamp, versions, groups, {r.doc_id: (r.name, r.pages) for r in rows}

    def upsert(self, doc: Document, also: Callable[[Connection], object] | None = None) -> None:
        """Make `doc` the live version, in one transaction with the generation bump (and
        `also`'s statements: the old version kept, kb.index.versions)."""
        fields = _row(doc)
        with self.db.write() as conn:
            if also is not None:
                also(conn)
            before = conn.execute(
                text("SELECT groups FROM documents WHERE doc_id=:d"), {"d": doc.doc_id}
            ).scalar()
            conn.execute(text("DELETE FROM documents WHERE doc_id=:d"), {"d": doc.doc_id})
            conn.execute(_INSERT, fields)
            _bump(conn, "generation")
            if before is None or before != fields["groups"]:
                _bump(conn, "acl_generation")

    # -- the write journal: a row per file being written, removed when it is whole ---------
    def begin(
        self,
        doc_id: str,
        version: str,
        op: str,
        name: str,
        groups: Sequence[str],
        source: str | None = None,
    ) -> None:
        """Note that a write of this version starts (before any chunk or file is written)."""
        key = {"d": doc_id, "v": version}
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        with self.db.write() as conn:
            conn.execute(text("DELETE FROM pending WHERE doc_id=:d AND version=:v"), key)
            conn.execute(
                text(
                    "INSERT INTO pending (doc_id, version, op, name, groups, started_at, source) "
                    "VALUES (:d, :v, :op, :name, :groups, :at, :source)"
                ),
                {
                    **key,
                    "op": op,
                    "name": name,
                    "groups": json.dumps(list(groups)),
                    "at": now,
                    "source": source,
                },
            )

    def end(self, doc_id: str, version: str) -> None:
        """Note that the write of this version finished (or was undone)."""
        with self.db.write() as conn:
            conn.execute(
                text("DELETE FROM pending WHERE doc_id=:d AND version=:v"),
                {"d": doc_id, "v": version},
            )

    def pending(self) -> builtins.list[Pending]:
        """Writes begun and not finished, oldest first."""
        with self.db.read() as conn:
            rows = conn.execute(text("SELECT * FROM pending ORDER BY started_at")).all()
        return [
            Pending(
                r.doc_id,
                r.version,
                r.op,
                r.name,
                tuple(json.loads(r.groups)),
                r.started_at,
                r.source,
            )
            for r in rows
        ]

    def set_groups(self, doc_id: str, groups: Sequence[str]) -> None:
        """Change a document's access groups; readers see the change on their next query."""
        with self.db.write() as conn:
            cur = conn.execute(
                text("UPDATE documents SET groups=:g WHERE doc_id=:d"),
                {"g": json.dumps(list(groups)), "d": doc_id},
            )
            if cur.rowcount == 0:
                raise NotFoundError(_NOT_FOUND.format(doc_id))
            _bump(conn, "acl_generation")

    def set_meta(self, doc_id: str, **fields: str | None) -> None:
        """Set lifecycle fields (owner, review_by, reviewed_at, superseded_by) as an admin
        did: they are noted in admin_set, so the file's own metadata never overrides them."""
        allowed = {"owner", "review_by", "reviewed_at", "superseded_by"}
        if not fields or set(fields) - allowed:
            raise ValueError(f"set_meta takes {sorted(allowed)}, got {sorted(fields)}")
        with self.db.write() as conn:
            row = conn.execute(
                text("SELECT admin_set FROM documents WHERE doc_id=:d"), {"d": doc_id}
            ).first()
            if row is None:
                raise NotFoundError(_NOT_FOUND.format(doc_id))
            admin = sorted(set(json.loads(row.admin_set or "[]")) | (set(fields) - {"reviewed_at"}))
            sets = ", ".join(f"{k}=:{k}" for k in fields)
            conn.execute(
                text(f"UPDATE documents SET {sets}, admin_set=:admin WHERE doc_id=:d"),
                {**fields, "admin": json.dumps(admin), "d": doc_id},
            )

    def remove(self, doc_id: str, also: Callable[[Connection], object] | None = None) -> None:
        """Unregister a document (its chunks become invisible at once), with `also`'s
        statements in the same transaction (its kept versions dropped)."""
        with self.db.write() as conn:
            if also is not None:
                also(conn)
            conn.execute(text("DELETE FROM documents WHERE doc_id=:d"), {"d": doc_id})
            _bump(conn, "generation", "acl_generation")
