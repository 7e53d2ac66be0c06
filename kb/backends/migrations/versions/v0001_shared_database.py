"""One database for the shared state: registry, journal, counters, audit, users, throttle.

Revision 0001. Before it, a data dir kept registry.sqlite, audit.sqlite and users.json; when
kb.backends.migrate passes them (attributes["legacy"]), their rows are copied in verbatim,
the audit hash chain included, so it still verifies.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_APPEND_ONLY_SQLITE = [
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
]
# PostgreSQL: the same two refusals, and TRUNCATE too (a statement trigger).
_APPEND_ONLY_POSTGRES = [
    "CREATE FUNCTION kb_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$",
    "CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events "
    "FOR EACH ROW EXECUTE FUNCTION kb_audit_append_only()",
    "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events "
    "FOR EACH STATEMENT EXECUTE FUNCTION kb_audit_append_only()",
]
COUNTERS = ("generation", "acl_generation", "writes")


def upgrade() -> None:
    """Create the tables, copy a legacy data dir's rows in, seed counters and identity."""
    op.create_table(
        "documents",
        sa.Column("doc_id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("version", sa.Text, nullable=False),
        sa.Column("pages", sa.Integer),
        sa.Column("chunks", sa.Integer, nullable=False),
        sa.Column("ingested_at", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("groups", sa.Text, nullable=False, server_default='["everyone"]'),
        sa.Column("report", sa.Text, nullable=False, server_default="{}"),
    )
    op.create_index("documents_name", "documents", [sa.text("lower(name)")])
    op.create_table(
        "meta",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    # Who this registry is: a Chroma collection records the one registry allowed to write it.
    op.create_table("identity", sa.Column("id", sa.Text, primary_key=True))
    op.create_table(
        "pending",
        sa.Column("doc_id", sa.Text, primary_key=True),
        sa.Column("version", sa.Text, primary_key=True),
        sa.Column("op", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("groups", sa.Text, nullable=False),
        sa.Column("started_at", sa.Text, nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Double, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("chain", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("events_action", "events", ["action", "seq"])
    op.create_table(
        "users",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("groups", sa.Text, nullable=False, server_default="[]"),
        sa.Column("password_hash", sa.Text),
        sa.Column("updated_at", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("at", sa.Double, nullable=False),
    )
    op.create_index("sign_in_failures_name", "sign_in_failures", ["name", "at"])

    legacy = context.config.attributes.get("legacy") or {}
    bind = op.get_bind()
    _import_registry(bind, legacy.get("registry"))
    _import_audit(bind, legacy.get("audit"))
    _import_users(bind, legacy.get("users"))
    for key in COUNTERS:
        if not bind.execute(sa.text("SELECT 1 FROM meta WHERE key=:k"), {"k": key}).first():
            bind.execute(sa.text("INSERT INTO meta (key, value) VALUES (:k, 0)"), {"k": key})
    if not bind.execute(sa.text("SELECT 1 FROM identity")).first():
        bind.execute(sa.text("INSERT INTO identity (id) VALUES (:i)"), {"i": uuid.uuid4().hex})
    # After the copy, so an imported chain is never checked against the triggers' refusals.
    for sql in _APPEND_ONLY_POSTGRES if bind.dialect.name == "postgresql" else _APPEND_ONLY_SQLITE:
        bind.execute(sa.text(sql))


def downgrade() -> None:
    """Not offered: the legacy files are kept beside the data dir (*.imported) instead."""
    raise NotImplementedError("kb does not downgrade; restore the *.imported files instead")


def _rows(path: Path | None, sql: str) -> list[dict[str, Any]]:
    if not path or not Path(path).is_file():
        return []
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql)]
    except sqlite3.OperationalError:  # a table this legacy file never had
        return []
    finally:
        conn.close()


def _insert(bind: sa.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        cols = list(rows[0])
        sql = f"INSERT INTO {table} ({','.join(cols)}) VALUES ({','.join(':' + c for c in cols)})"
        bind.execute(sa.text(sql), rows)


def _import_registry(bind: sa.Connection, path: Path | None) -> None:
    docs = _rows(path, "SELECT * FROM documents")
    for d in docs:
        d.setdefault("groups", '["everyone"]')
        d.setdefault("report", "{}")
    _insert(bind, "documents", docs)
    meta = _rows(path, "SELECT key, value FROM meta")
    _insert(bind, "meta", [{"key": m["key"], "value": int(m["value"])} for m in meta])
    _insert(bind, "identity", _rows(path, "SELECT id FROM identity"))
    _insert(bind, "pending", _rows(path, "SELECT * FROM pending"))


def _import_audit(bind: sa.Connection, path: Path | None) -> None:
    events = _rows(path, "SELECT seq, at, actor, action, detail, chain FROM events ORDER BY seq")
    _insert(bind, "events", events)
    if events and bind.dialect.name == "postgresql":  # the serial continues after the copy
        bind.execute(
            sa.text("SELECT setval(pg_get_serial_sequence('events', 'seq'), :n)"),
            {"n": events[-1]["seq"]},
        )


def _import_users(bind: sa.Connection, path: Path | None) -> None:
    if not path or not Path(path).is_file():
        return
    entries = json.loads(Path(path).read_text(encoding="utf-8")).get("users", [])
    rows = [
        {
            "name": str(u["name"]).strip().lower(),
            "role": u["role"],
            "groups": json.dumps(list(u.get("groups", []))),
            "password_hash": u.get("password_hash") or None,
            "updated_at": str(u.get("updated_at", "")),
        }
        for u in entries
    ]
    _insert(bind, "users", rows)
