"""The audit log: an append-only database table of who did what, when, with a hash chain."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import text

from kb.backends.database import Database


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
    "set_meta",
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
# The database makes the table append-only for every client, not only for kb's code
# (triggers: an UPDATE, DELETE or TRUNCATE aborts; kb.backends.migrations). Each row also
# carries a sha256 chain over the previous row, so a row edited or removed with the triggers
# dropped shows up in `verify()`.
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
    """Appends events to the database's `events` table; reading is for admins (the facade
    checks)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, actor: str, action: str, **detail: Any) -> AuditEvent:
        """Append one event, chained to the previous row. Writers queue (BEGIN IMMEDIATE on
        SQLite, an advisory lock on PostgreSQL): two replicas appending at once would
        otherwise chain to the same previous row and break the chain."""
        event = AuditEvent(time.time(), str(actor), action, _clip(detail))
        body = json.dumps(event.detail, ensure_ascii=False, default=str, sort_keys=True)
        with self.db.write(lock="audit") as conn:
            prev = conn.execute(text("SELECT chain FROM events ORDER BY seq DESC LIMIT 1"))
            chain = _link(prev.scalar() or _GENESIS, event.at, event.actor, action, body)
            conn.execute(
                text(
                    "INSERT INTO events (at, actor, action, detail, chain) "
                    "VALUES (:at, :actor, :action, :detail, :chain)"
                ),
                {
                    "at": event.at,
                    "actor": event.actor,
                    "action": action,
                    "detail": body,
                    "chain": chain,
                },
            )
        return event

    def events(self, limit: int = 500, action: str | None = None) -> list[AuditEvent]:
        """The newest `limit` events, newest first (optionally of one action)."""
        sql = "SELECT at, actor, action, detail FROM events"
        args: dict[str, Any] = {"n": max(0, int(limit))}
        if action:
            sql += " WHERE action=:action"
            args["action"] = action
        with self.db.read() as conn:
            rows = conn.execute(text(sql + " ORDER BY seq DESC LIMIT :n"), args).all()
        return [AuditEvent(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def cited(self, since: float) -> dict[str, int]:
        """doc id -> how many answers since `since` (epoch seconds) cited it."""
        counts: dict[str, int] = {}
        with self.db.read() as conn:
            rows = conn.execute(
                text("SELECT detail FROM events WHERE action='ask' AND at>=:t"), {"t": since}
            )
            for (detail,) in rows:
                for doc_id in set(json.loads(detail).get("cited", [])):
                    counts[doc_id] = counts.get(doc_id, 0) + 1
        return counts

    def deleted_on(self, doc_ids: set[str]) -> dict[str, str]:
        """doc id -> when it was deleted (ISO time, UTC), for those of `doc_ids` deleted."""
        found: dict[str, str] = {}
        if not doc_ids:
            return found
        with self.db.read() as conn:
            rows = conn.execute(
                text("SELECT at, detail FROM events WHERE action='delete' ORDER BY seq")
            )
            for at, detail in rows:
                doc_id = json.loads(detail).get("doc_id")
                if doc_id in doc_ids:
                    found[doc_id] = datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")
        return found

    def count(self) -> int:
        """How many events are recorded."""
        with self.db.read() as conn:
            return int(conn.execute(text("SELECT COUNT(*) FROM events")).scalar_one())

    def verify(self) -> list[str]:
        """Breaks in the hash chain (empty: no row was edited or removed)."""
        problems, prev = [], _GENESIS
        with self.db.read() as conn:
            rows = conn.execute(
                text("SELECT seq, at, actor, action, detail, chain FROM events ORDER BY seq")
            )
            for seq, at, actor, action, detail, chain in rows:
                if _link(prev, at, actor, action, detail) != chain:
                    problems.append(f"audit event {seq} was altered or a row before it removed")
                prev = chain
        return problems

    def csv(self, limit: int | None = None) -> str:
        """Every event (or the newest `limit`), oldest first, as CSV with an ISO time column."""
        sql = "SELECT seq, at, actor, action, detail FROM events ORDER BY seq"
        with self.db.read() as conn:
            rows = conn.execute(text(sql)).all()
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
