"""Saved conversations (issue 16): each user's chats, kept in the database with every answer
as it was given, reopened after a restart, renamed, deleted, and retired after
KB_CHAT_RETENTION_DAYS."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from kb.answer import Answer, Citation
from kb.answer.verify import SentenceCheck
from kb.backends.database import Database
from kb.errors import NotFoundError, UsageError
from kb.search import Fused, Hit, Trace

MAX_TITLE = 120  # a title is a line in the sidebar


@dataclass(frozen=True)
class Conversation:
    """A saved chat: its id, owner, title, when it began and was last used, its answers."""

    id: str
    user: str
    title: str
    created_at: str
    updated_at: str
    answers: int = 0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def title_of(question: str) -> str:
    """A chat's title from its first question: one line, at most MAX_TITLE characters."""
    line = " ".join(question.split())
    return line if len(line) <= MAX_TITLE else line[: MAX_TITLE - 1] + "…"


def answer_from(data: dict[str, Any]) -> Answer:
    """An Answer rebuilt from its stored record (kb.quality.records.record_of)."""
    fields = dict(data)
    fields["citations"] = [Citation(**c) for c in data.get("citations", [])]
    fields["hits"] = [Hit(**h) for h in data.get("hits", [])]
    fields["checks"] = [SentenceCheck(**c) for c in data.get("checks", [])]
    trace = data.get("trace")
    if trace:
        fields["trace"] = Trace(
            trace["query"],
            [(i, s) for i, s in trace.get("dense", [])],
            [(i, s) for i, s in trace.get("keyword", [])],
            [Fused(**f) for f in trace.get("fused", [])],
            [Hit(**h) for h in trace.get("hits", [])],
            trace.get("timings", {}),
        )
    return Answer(**fields)


class Conversations:
    """The `conversations` table and the answers filed under each."""

    def __init__(self, db: Database, retention_days: int | None = None) -> None:
        self.db, self.retention_days = db, retention_days

    def start(self, user: str, question: str) -> str:
        """A new conversation titled by its first question; returns its id."""
        cid, now = uuid.uuid4().hex[:16], _now()
        with self.db.write() as conn:
            conn.execute(
                text(
                    "INSERT INTO conversations (id, user_name, title, created_at, updated_at) "
                    "VALUES (:i, :u, :t, :now, :now)"
                ),
                {"i": cid, "u": user, "t": title_of(question), "now": now},
            )
        return cid

    def touch(self, cid: str) -> None:
        """Note that the conversation was used now (it moves to the top of the list)."""
        with self.db.write() as conn:
            conn.execute(
                text("UPDATE conversations SET updated_at=:now WHERE id=:i"),
                {"now": _now(), "i": cid},
            )

    def of(self, user: str) -> list[Conversation]:
        """A user's conversations, newest first, with how many answers each holds."""
        self.retire()
        with self.db.read() as conn:
            rows = conn.execute(
                text(
                    "SELECT c.*, (SELECT count(*) FROM answers a WHERE a.conversation_id=c.id) "
                    "AS n FROM conversations c WHERE user_name=:u ORDER BY updated_at DESC, id"
                ),
                {"u": user},
            ).all()
        return [Conversation(r.id, r.user_name, r.title, r.created_at, r.updated_at, r.n)
                for r in rows]  # fmt: skip

    def owned(self, cid: str, user: str) -> Conversation:
        """One conversation of `user` (anyone else's: not found, as if it did not exist)."""
        with self.db.read() as conn:
            row = conn.execute(
                text("SELECT * FROM conversations WHERE id=:i AND user_name=:u"),
                {"i": cid, "u": user},
            ).first()
        if row is None:
            raise NotFoundError(f"no conversation with id '{cid}' of yours")
        return Conversation(row.id, row.user_name, row.title, row.created_at, row.updated_at)

    def answers(self, cid: str, user: str) -> list[tuple[str, Answer]]:
        """(answer id, Answer) of one of `user`'s conversations, oldest first."""
        import json

        self.owned(cid, user)
        with self.db.read() as conn:
            rows = conn.execute(
                text("SELECT id, record FROM answers WHERE conversation_id=:c ORDER BY at, id"),
                {"c": cid},
            ).all()
        return [(r.id, answer_from(json.loads(r.record))) for r in rows]

    def rename(self, cid: str, user: str, title: str) -> None:
        """Give a conversation another title."""
        self.owned(cid, user)
        if not title.strip():
            raise UsageError("a title cannot be empty")
        with self.db.write() as conn:
            conn.execute(
                text("UPDATE conversations SET title=:t WHERE id=:i"),
                {"t": title_of(title), "i": cid},
            )

    def delete(self, user: str, cid: str | None = None) -> int:
        """Delete one of `user`'s conversations, or all (None), with their answers and
        feedback; returns how many conversations went."""
        ids = [c.id for c in self.of(user)] if cid is None else [self.owned(cid, user).id]
        self._drop(ids)
        return len(ids)

    def retire(self) -> int:
        """Delete conversations unused for KB_CHAT_RETENTION_DAYS; returns how many."""
        if not self.retention_days:
            return 0
        cutoff = (datetime.now(UTC) - timedelta(days=self.retention_days)).isoformat()
        with self.db.read() as conn:
            old = [r.id for r in conn.execute(
                text("SELECT id FROM conversations WHERE updated_at<:c"), {"c": cutoff}
            )]  # fmt: skip
        self._drop(old)
        return len(old)

    def _drop(self, ids: list[str]) -> None:
        if not ids:
            return
        with self.db.write() as conn:
            for cid in ids:
                answer_ids = "SELECT id FROM answers WHERE conversation_id=:c"
                for table in ("feedback", "case_labels"):
                    conn.execute(
                        text(f"DELETE FROM {table} WHERE answer_id IN ({answer_ids})"), {"c": cid}
                    )
                conn.execute(text("DELETE FROM answers WHERE conversation_id=:c"), {"c": cid})
                conn.execute(text("DELETE FROM conversations WHERE id=:c"), {"c": cid})
