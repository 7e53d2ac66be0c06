"""Every answer kept by id with its whole trace, and the feedback users give on it (issue 16).

A record is the answer as it was shown: the question and its rewrite, the retrieval candidates
with their dense, keyword and fused scores and ranks, the passages given to the answer (chunk
id, version, text), the prompt, the model's own text, the shown text, the citation checks,
timings and tokens. It is opened later exactly as it was, never re-run.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from kb.answer import Answer
from kb.backends.database import Database
from kb.errors import NotFoundError, UsageError
from kb.security import Principal

MAX_COMMENT = 2000  # a comment or a correction is a few sentences, never a document


@dataclass(frozen=True)
class Record:
    """A stored answer: who asked, when, and the answer's record (a JSON-ready dict)."""

    id: str
    user: str
    at: str
    question: str
    found: bool
    data: dict[str, Any]

    @property
    def given(self) -> list[dict[str, Any]]:
        """The passages given to the answer (its hits), best first."""
        return list(self.data.get("hits", []))

    @property
    def candidates(self) -> list[dict[str, Any]]:
        """Every fused retrieval candidate, best first (ids, scores and ranks)."""
        trace = self.data.get("trace") or {}
        return list(trace.get("fused", []))


@dataclass(frozen=True)
class Feedback:
    """A user's verdict on an answer: +1 or -1, a comment, the correct text and document."""

    answer_id: str
    user: str
    at: str
    vote: int
    comment: str = ""
    correct: str = ""
    doc: str = ""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def record_of(answer: Answer) -> dict[str, Any]:
    """The JSON-ready record of an answer (its trace included)."""
    return json.loads(json.dumps(asdict(answer), default=str))


class AnswerLog:
    """Answers and feedback in the database (kb.backends.database)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, user: str, answer: Answer, conversation: str | None = None) -> str:
        """Store an answer (in a conversation, when it was asked in one); returns its id."""
        answer_id = uuid.uuid4().hex[:16]
        answer.answer_id = answer_id
        with self.db.write() as conn:
            conn.execute(
                text(
                    "INSERT INTO answers (id, conversation_id, user_name, at, question, found, "
                    "record) VALUES (:i, :c, :u, :at, :q, :f, :r)"
                ),
                {
                    "i": answer_id,
                    "c": conversation,
                    "u": user,
                    "at": _now(),
                    "q": answer.question,
                    "f": int(answer.found),
                    "r": json.dumps(record_of(answer)),
                },
            )
        return answer_id

    def get(self, answer_id: str, user: Principal) -> Record:
        """One answer, for its asker or an admin (anyone else: not found)."""
        with self.db.read() as conn:
            row = conn.execute(text("SELECT * FROM answers WHERE id=:i"), {"i": answer_id}).first()
        if row is None or not (user.is_admin or row.user_name == user.name):
            raise NotFoundError(f"no answer with id '{answer_id}' of yours")
        return _record(row)

    def all(self, since: str = "") -> list[Record]:
        """Every stored answer since `since` (YYYY-MM-DD), oldest first (admins' reports)."""
        with self.db.read() as conn:
            rows = conn.execute(
                text("SELECT * FROM answers WHERE at>=:s ORDER BY at, id"), {"s": since}
            ).all()
        return [_record(r) for r in rows]

    def give(
        self,
        answer_id: str,
        user: Principal,
        vote: int,
        comment: str = "",
        correct: str = "",
        doc: str = "",
    ) -> Feedback:
        """Record `user`'s feedback on an answer they were given (replaces an earlier one)."""
        if vote not in (1, -1):
            raise UsageError("feedback is a thumbs up (+1) or down (-1)")
        if max(len(comment), len(correct), len(doc)) > MAX_COMMENT:
            raise UsageError(f"keep comments and corrections under {MAX_COMMENT} characters")
        self.get(answer_id, user)  # only one's own answers (an admin: any)
        fb = Feedback(answer_id, user.name, _now(), vote, comment.strip(), correct.strip(), doc)
        with self.db.write() as conn:
            conn.execute(
                text("DELETE FROM feedback WHERE answer_id=:a AND user_name=:u"),
                {"a": answer_id, "u": user.name},
            )
            conn.execute(
                text(
                    "INSERT INTO feedback (answer_id, user_name, at, vote, comment, correct, doc) "
                    "VALUES (:a, :u, :at, :v, :c, :x, :d)"
                ),
                {"a": answer_id, "u": user.name, "at": fb.at, "v": vote, "c": fb.comment,
                 "x": fb.correct, "d": doc},
            )  # fmt: skip
        return fb

    def feedback_of(self, answer_id: str, user: str) -> Feedback | None:
        """`user`'s own feedback on one answer, if they gave any."""
        with self.db.read() as conn:
            r = conn.execute(
                text("SELECT * FROM feedback WHERE answer_id=:a AND user_name=:u"),
                {"a": answer_id, "u": user},
            ).first()
        return Feedback(r.answer_id, r.user_name, r.at, r.vote, r.comment, r.correct,
                        r.doc) if r else None  # fmt: skip

    def feedback(self) -> dict[str, list[Feedback]]:
        """answer id -> its feedback, oldest first."""
        out: dict[str, list[Feedback]] = {}
        with self.db.read() as conn:
            rows = conn.execute(text("SELECT * FROM feedback ORDER BY at")).all()
        for r in rows:
            out.setdefault(r.answer_id, []).append(
                Feedback(r.answer_id, r.user_name, r.at, r.vote, r.comment, r.correct, r.doc)
            )
        return out

    def overrides(self) -> dict[str, tuple[str | None, bool]]:
        """answer id -> (the label an admin set, resolved)."""
        with self.db.read() as conn:
            rows = conn.execute(text("SELECT answer_id, label, resolved FROM case_labels"))
            return {r.answer_id: (r.label, bool(r.resolved)) for r in rows}

    def set_case(
        self, answer_id: str, by: str, label: str | None = None, resolved: bool | None = None
    ) -> None:
        """An admin's label for a case and whether it is resolved (None keeps what was set)."""
        with self.db.write() as conn:
            old = conn.execute(
                text("SELECT label, resolved FROM case_labels WHERE answer_id=:a"),
                {"a": answer_id},
            ).first()
            if old is not None:
                label = old.label if label is None else label
                resolved = bool(old.resolved) if resolved is None else resolved
            conn.execute(text("DELETE FROM case_labels WHERE answer_id=:a"), {"a": answer_id})
            conn.execute(
                text(
                    "INSERT INTO case_labels (answer_id, label, resolved, by_name, at) "
                    "VALUES (:a, :l, :r, :b, :at)"
                ),
                {"a": answer_id, "l": label, "r": int(bool(resolved)), "b": by, "at": _now()},
            )


def _record(row: Any) -> Record:
    return Record(row.id, row.user_name, row.at, row.question, bool(row.found),
                  json.loads(row.record))  # fmt: skip
