"""The golden set that grows from use, and what changed since the last run of a question set.

Admins add cases to the golden set (question, the document and page that hold the answer,
the correct text). It lives in the database, so every replica sees it, and is mirrored to
`KB_DATA_DIR/golden.yaml` in the format of `sample_docs/questions.yaml`. Each `kb eval golden`
run keeps every question's outcome, so the next run can say "3 questions that passed now fail":
the check before changing chunking, weights or the model.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import text

from kb.backends.database import Database


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def add_golden(
    db: Database, question: str, file: str, page: int | None, answer: str, answer_id: str, by: str
) -> None:
    """Put a question in the golden set kb keeps (replacing one with the same question)."""
    with db.write() as conn:
        conn.execute(text("DELETE FROM golden WHERE question=:q"), {"q": question})
        conn.execute(
            text(
                "INSERT INTO golden (question, file, page, answer, answer_id, added_by, added_at) "
                "VALUES (:q, :f, :p, :a, :i, :b, :at)"
            ),
            {"q": question, "f": file, "p": page, "a": answer, "i": answer_id, "b": by,
             "at": _now()},
        )  # fmt: skip


def golden(db: Database) -> list[dict[str, Any]]:
    """The golden set kb keeps, in the questions.yaml shape (question, file, page, answer)."""
    with db.read() as conn:
        rows = conn.execute(text("SELECT * FROM golden ORDER BY added_at, question")).all()
    return [{"question": r.question, "file": r.file, "page": r.page, "answer": r.answer}
            for r in rows]  # fmt: skip


def write_golden_file(path: Path, questions: list[dict[str, Any]]) -> None:
    """Mirror the golden set to a questions file (written whole, then renamed into place)."""
    rows = [{k: v for k, v in q.items() if v not in (None, "")} for q in questions]
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(
        "# The golden set kb keeps, grown from cases on the Quality page (`kb gaps --golden`).\n"
        "# Written by kb on each addition; `kb eval golden` runs on it by default.\n"
        + yaml.safe_dump(rows, sort_keys=False, allow_unicode=True)
    )
    tmp.replace(path)


@dataclass(frozen=True)
class RunChange:
    """How a run's outcomes differ from the previous run of the same question set."""

    previous_at: str
    now_fail: list[str] = field(default_factory=list)
    now_pass: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """What to print: the regressions first, each question on its own line."""
        out = [f"compared with the previous run ({self.previous_at[:16].replace('T', ' ')}):"]
        out.append(f"  {_n(self.now_fail)} that passed now fail" + (":" if self.now_fail else ""))
        out += [f"    - {q}" for q in self.now_fail]
        out.append(f"  {_n(self.now_pass)} that failed now pass" + (":" if self.now_pass else ""))
        out += [f"    + {q}" for q in self.now_pass]
        if self.new:
            out.append(f"  {_n(self.new)} new since then")
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"previous_at": self.previous_at, "now_fail": self.now_fail,
                "now_pass": self.now_pass, "new": self.new}  # fmt: skip


def _n(items: list[str]) -> str:
    return f"{len(items)} question{'' if len(items) == 1 else 's'}"


def compare(previous: dict[str, bool], current: dict[str, bool], previous_at: str) -> RunChange:
    """Questions that passed before and fail now, the reverse, and those not asked before."""
    return RunChange(
        previous_at,
        [q for q, ok in current.items() if not ok and previous.get(q) is True],
        [q for q, ok in current.items() if ok and previous.get(q) is False],
        [q for q in current if q not in previous],
    )


def last_run(db: Database, question_set: str, k: int) -> tuple[str, dict[str, bool]] | None:
    """(when, outcomes) of the latest run of `question_set` at the same k, or None."""
    with db.read() as conn:
        row = conn.execute(
            text(
                "SELECT at, outcomes FROM golden_runs WHERE question_set=:s AND k=:k "
                "ORDER BY at DESC LIMIT 1"
            ),  # fmt: skip
            {"s": question_set, "k": k},
        ).first()
    return (row.at, json.loads(row.outcomes)) if row else None


def save_run(db: Database, question_set: str, k: int, outcomes: dict[str, bool]) -> None:
    """Keep a run's outcomes for the next run to compare with."""
    with db.write() as conn:
        conn.execute(
            text("INSERT INTO golden_runs (id, question_set, at, k, outcomes) "
                 "VALUES (:i, :s, :at, :k, :o)"),  # fmt: skip
            {"i": uuid.uuid4().hex, "s": question_set, "k": k,
             "at": datetime.now(UTC).isoformat(),  # to the microsecond: runs can be 1 s apart
             "o": json.dumps(outcomes)},
        )  # fmt: skip
