"""The audit log: an append-only SQLite table of who did what, when, with a hash chain."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from kb.errors import StoreError


class FileOutcome(Protocol):
    """What the log reads of one file's ingest outcome (kb.ingest's IngestOutcome)."""

    @property
    def name(self) -> str: ...  # noqa: D102
    @property
    def status(self) -> str: ...  # noqa: D102
    @property
    def doc_id(self) -> str | None: ...  # noqa: D102
    @property
    def chunks(self) -> int: ...  # noqa: D102
    @property
    def reason(self) -> str: ...  # noqa: D102


class Passage(Protocol):
    """What the log reads of one retrieved passage (kb.search's Hit)."""

    @property
    def doc_id(self) -> str: ...  # noqa: D102
    @property
    def name(self) -> str: ...  # noqa: D102


ACTIONS = (
    "ask",
    "search",
    "upload",
    "replace",
    "delete",
    "reindex",
    "set_groups",
    "sign_in",
    "sign_in_failed",
    "sign_out",
    "denied",
    "user_add",
    "user_remove",
    "user_passwd",
    "user_set",
    "recover",
    "audit_export",
)
# Triggers make the table append-only for every client of the file, not only for kb's code:
# an UPDATE or DELETE aborts. Each row also carries a sha256 chain over the previous row, so
# a row edited or removed with the triggers dropped shows up in `verify()`.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    chain TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""
_GENESIS = "0" * 64
MAX_TEXT = 2000  # a pasted novel as a question is cut here: the log records, it does not archive


@dataclass(frozen=True)
class AuditEvent:
    """One audited action: when (Unix seconds), who, what, and its details."""

    at: float
    actor: str
    action: str
    detail: dict[str, Any]


def _clip(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return value[:MAX_TEXT] + "…"
    if isinstance(value, list | tuple):
        return [_clip(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _clip(v) for k, v in value.items()}
    return value


def _link(prev: str, at: float, actor: str, action: str, detail: str) -> str:
    payload = json.dumps([prev, at, actor, action, detail], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


class AuditLog:
    """Appends events to `data_dir/audit.sqlite`; reading is for admins (the facade checks)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # One connection for the process, used under the lock: closing the last
            # connection to a WAL database checkpoints it, which cost ~6 ms per question.
            self._db = sqlite3.connect(
                path, timeout=30, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL: an event survives a killed process; only a power cut may lose the last.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the audit log {path}: {exc}") from exc

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._db

    def record(self, actor: str, action: str, **detail: Any) -> AuditEvent:
        """Append one event (in its own transaction, chained to the previous row)."""
        event = AuditEvent(time.time(), str(actor), action, _clip(detail))
        text = json.dumps(event.detail, ensure_ascii=False, default=str, sort_keys=True)
        with self._conn() as conn:
            try:
                conn.execute("BEGIN IMMEDIATE")
                row = conn.execute("SELECT chain FROM events ORDER BY seq DESC LIMIT 1").fetchone()
                chain = _link(row[0] if row else _GENESIS, event.at, event.actor, action, text)
                conn.execute(
                    "INSERT INTO events (at, actor, action, detail, chain) VALUES (?,?,?,?,?)",
                    (event.at, event.actor, action, text, chain),
                )
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise StoreError(f"could not write the audit log {self.path}: {exc}") from exc
        return event

    def events(self, limit: int = 500, action: str | None = None) -> list[AuditEvent]:
        """The newest `limit` events, newest first (optionally of one action)."""
        sql = "SELECT at, actor, action, detail FROM events"
        args: list[Any] = []
        if action:
            sql += " WHERE action=?"
            args.append(action)
        sql += " ORDER BY seq DESC LIMIT ?"
        args.append(max(0, int(limit)))
        with self._conn() as conn:
            rows = conn.execute(sql, args).fetchall()
        return [AuditEvent(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def count(self) -> int:
        """How many events are recorded."""
        with self._conn() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def verify(self) -> list[str]:
        """Breaks in the hash chain (empty: no row was edited or removed)."""
        problems, prev = [], _GENESIS
        with self._conn() as conn:
            for seq, at, actor, action, detail, chain in conn.execute(
                "SELECT seq, at, actor, action, detail, chain FROM events ORDER BY seq"
            ):
                if _link(prev, at, actor, action, detail) != chain:
                    problems.append(f"audit event {seq} was altered or a row before it removed")
                prev = chain
        return problems

    def csv(self, limit: int | None = None) -> str:
        """Every event (or the newest `limit`), oldest first, as CSV with an ISO time column."""
        sql = "SELECT seq, at, actor, action, detail FROM events ORDER BY seq"
        with self._conn() as conn:
            rows = conn.execute(sql).fetchall()
        if limit is not None:
            rows = rows[-limit:]
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["seq", "time_utc", "actor", "action", "detail"])
        for seq, at, actor, action, detail in rows:
            iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))
            writer.writerow([seq, iso, _csv_safe(actor), action, _csv_safe(detail)])
        return out.getvalue()

    def outcomes(self, actor: str, outcomes: Iterable[FileOutcome], default: str) -> None:
        """One event per file of an ingest or re-index (`default`: the action of new files)."""
        for o in outcomes:
            action = {"replaced": "replace", "reindexed": "reindex"}.get(o.status, default)
            self.record(
                actor,
                action,
                name=o.name,
                doc_id=o.doc_id,
                status=o.status,
                chunks=o.chunks,
                reason=o.reason,
            )

    def retrieval(
        self, actor: str, action: str, query: str, hits: Sequence[Passage], **extra: Any
    ) -> None:
        """A search or question, with the documents its hits came from."""
        docs = list(dict.fromkeys(h.doc_id for h in hits))
        names = list(dict.fromkeys(h.name for h in hits))
        self.record(actor, action, query=query, doc_ids=docs, names=names, **extra)


def _csv_safe(text: str) -> str:
    """Defuse spreadsheet formulas: a cell starting with = + - @ is prefixed with a quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
