"""The facade's record of use: saved conversations, stored answers, feedback, the cases
triage labels, fine-tuning data from approved answers (issue 16), and the audit log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding

from kb.answer import Answer
from kb.errors import NotFoundError, UsageError
from kb.index import ChunkStore, Registry, Snapshot, is_live
from kb.layout import DataDir
from kb.quality import AnswerLog, Case, Feedback, Record, label_case
from kb.quality.clusters import Cluster, cluster
from kb.quality.conversations import Conversation, Conversations
from kb.quality.export import examples, summary
from kb.quality.golden import (
    RunChange,
    add_golden,
    compare,
    golden,
    last_run,
    save_run,
    write_golden_file,
)
from kb.quality.triage import LABELS, holds
from kb.quality.withdraw import as_seen_today, blank_record, lost_access
from kb.security import SYSTEM, AuditEvent, AuditLog, Principal

HOLDER_CANDIDATES = 50  # keyword hits checked for a correction's words: it is a phrase, not a topic


class QualityLoop:
    """Mixed into KnowledgeBase: what users say about answers, and what kb learns from it."""

    registry: Registry
    store: ChunkStore
    audit: AuditLog
    answers: AnswerLog
    embed_model: BaseEmbedding
    chats: Conversations
    paths: DataDir
    snapshot: Callable[[], Snapshot]
    _require_admin: Callable[[Principal, str], None]

    # -- saved conversations ------------------------------------------------------------
    def start_conversation(self, question: str, *, user: Principal) -> str:
        """A new saved chat of `user`, titled by its first question; returns its id."""
        return self.chats.start(user.name, question)

    def conversations(self, *, user: Principal) -> list[Conversation]:
        """`user`'s saved chats, newest first (older than KB_CHAT_RETENTION_DAYS: gone)."""
        return self.chats.of(user.name)

    def conversation(self, cid: str, *, user: Principal) -> list[tuple[str, Answer]]:
        """(answer id, Answer) of one of `user`'s chats, oldest first, as they were given;
        a deleted document's passages show when it was deleted and no text, and an answer
        that used a document `user` may no longer read is withdrawn."""
        return [(i, self.seen_today(a, user=user)) for i, a in self.chats.answers(cid, user.name)]

    def seen_today(self, answer: Answer, *, user: Principal) -> Answer:
        """An earlier answer as `user` may see it now: a deleted document's passages show
        when it was deleted and no text; withdrawn whole if it used a document `user` may
        no longer read (kb.quality.withdraw)."""
        groups = self.snapshot().groups
        used = {c.doc_id for c in answer.citations} | {h.doc_id for h in answer.hits}
        deleted = self.audit.deleted_on({d for d in used if d not in groups})
        return as_seen_today(answer, groups, deleted, user)

    def rename_conversation(self, cid: str, title: str, *, user: Principal) -> None:
        """Give one of `user`'s chats another title."""
        self.chats.rename(cid, user.name, title)

    def delete_conversations(self, cid: str | None = None, *, user: Principal) -> int:
        """Delete one of `user`'s chats, or all of them (None), with their answers and
        feedback; returns how many."""
        gone = self.chats.delete(user.name, cid)
        self.audit.record(user.name, "delete_chats", count=gone)
        return gone

    def answer_record(self, answer_id: str, *, user: Principal = SYSTEM) -> Record:
        """A past answer exactly as it was given (its asker's, or anyone's for an admin).
        One that used a document its asker may no longer read (restricted or deleted since)
        is withdrawn: it would show that document's text."""
        record = self.answers.get(answer_id, user)
        if user.is_admin:
            return record  # the whole trace, deleted passages too: what was said, and why
        groups = self.snapshot().groups
        used = {str(h.get("doc_id", "")) for h in record.given}
        if lost_access(used, groups, user):
            raise NotFoundError(
                f"answer {answer_id} used a document that is no longer available to you; "
                "ask the question again"
            )
        gone = {d for d in used if d not in groups}
        data = blank_record(record.data, gone, self.audit.deleted_on(gone))
        return replace(record, data=data)

    def give_feedback(
        self,
        answer_id: str,
        up: bool,
        *,
        comment: str = "",
        correct: str = "",
        doc: str = "",
        user: Principal = SYSTEM,
    ) -> Feedback:
        """Thumbs up or down on an answer, with an optional comment, correct answer text and
        the document that holds it."""
        fb = self.answers.give(answer_id, user, 1 if up else -1, comment, correct, doc)
        self.audit.record(user.name, "feedback", answer_id=answer_id, vote=fb.vote)
        return fb

    def my_feedback(self, answer_id: str, *, user: Principal) -> Feedback | None:
        """The feedback `user` gave on an answer (shown again when a saved chat reopens)."""
        return self.answers.feedback_of(answer_id, user.name)

    def _holders(self, correct: str) -> list[tuple[str, str]]:
        """(chunk id, document) of the live passages that state `correct`."""
        view = self.snapshot()
        ids = [i for i, _ in view.keyword.search(correct, HOLDER_CANDIDATES) if view.visible(i)]
        chunks = self.store.get(ids)
        return [
            (i, str(chunks[i].meta.get("name", "")))
            for i in ids
            if i in chunks and holds(chunks[i].text, correct)
        ]

    def cases(self, since: str = "", *, actor: Principal = SYSTEM) -> list[Case]:
        """Every thumbs down and declined question since `since`, labelled with evidence
        (admins only), newest first."""
        self._require_admin(actor, "read the quality report")
        context = self._case_context()
        found = (self._case(record, *context) for record in self.answers.all(since))
        return [case for case in found if case is not None][::-1]

    def _case_context(self) -> tuple[Any, ...]:
        """What labelling needs besides the record: feedback, overrides, documents by id and
        by lower-cased name."""
        docs = {d.doc_id: d for d in self.registry.list()}
        by_name = {d.name.lower(): d for d in docs.values()}
        return self.answers.feedback(), self.answers.overrides(), docs, by_name

    def _case(
        self,
        record: Record,
        feedback: dict[str, list[Feedback]],
        overrides: dict[str, Any],
        docs: dict[str, Any],
        by_name: dict[str, Any],
    ) -> Case | None:
        """The case a stored answer makes, labelled (None: answered and not refuted)."""
        votes = feedback.get(record.id, [])
        down = next((f for f in reversed(votes) if f.vote < 0), None)
        if down is None and (record.found or votes):
            return None
        holders = self._holders(down.correct) if down and down.correct else []
        named_doc = (docs.get(down.doc) or by_name.get(down.doc.lower())) if down else None
        named = (named_doc.doc_id, named_doc.name) if named_doc else None
        label, why, evidence = label_case(record, down, holders, named)
        case = Case(
            record.id, record.question, record.user, record.at,
            "thumbs down" if down else "declined", label, why, evidence,
            down.correct if down else "", down.doc if down else "",
        )  # fmt: skip
        if record.id in overrides:
            chosen, case.resolved = overrides[record.id]
            if chosen:
                case.label, case.overridden = chosen, True
                case.why = f"set by an admin (kb said: {label}, {why})"
        return case

    def unanswered(self, since: str = "", *, actor: Principal = SYSTEM) -> list[Cluster]:
        """Declined questions grouped by meaning, largest groups first (admins only)."""
        self._require_admin(actor, "read the quality report")
        declined = [r for r in self.answers.all(since) if not r.found]
        items = [(r.id, r.user, r.question) for r in declined]
        if not items:
            return []
        vectors = self.embed_model.get_text_embedding_batch([q for _, _, q in items])
        return cluster(items, [_unit(v) for v in vectors])

    def set_case(
        self,
        answer_id: str,
        *,
        label: str | None = None,
        resolved: bool | None = None,
        actor: Principal,
    ) -> None:
        """Override a case's label, or mark it resolved (admins only); None keeps either."""
        self._require_admin(actor, "triage cases")
        if label is not None and label not in LABELS:
            raise UsageError(f"a label is one of: {', '.join(LABELS)}")
        self.answers.get(answer_id, actor)
        self.answers.set_case(answer_id, actor.name, label, resolved)
        self.audit.record(actor.name, "triage", answer_id=answer_id, label=label, resolved=resolved)

    def add_to_golden(self, answer_id: str, *, actor: Principal) -> dict[str, Any]:
        """Add a case to the golden set: its question, the document and page that hold the
        answer (from the evidence, or the named document) and the correct text (admins)."""
        self._require_admin(actor, "read the quality report")
        try:  # one record labelled, not every case there is
            case = self._case(self.answers.get(answer_id, actor), *self._case_context())
        except NotFoundError:
            case = None
        if case is None:
            raise NotFoundError(f"no case for answer '{answer_id}'; `kb gaps` lists them")
        holder = next((e for e in case.evidence if e.document), None)
        file = holder.document if holder else case.doc
        if not file:
            raise UsageError(
                "kb cannot tell which document holds this answer: add the document first, "
                "or name it in the feedback"
            )
        page = None
        if holder and holder.chunk_id:
            meta = self.store.get([holder.chunk_id]).get(holder.chunk_id)
            raw = meta.meta.get("page") if meta else None
            page = int(raw) if isinstance(raw, int | float) and raw > 0 else None
        add_golden(self.registry.db, case.question, file, page, case.correct, answer_id, actor.name)
        write_golden_file(self.paths.golden, golden(self.registry.db))
        self.audit.record(actor.name, "golden_add", answer_id=answer_id, file=file)
        return {"question": case.question, "file": file, "page": page, "answer": case.correct}

    def golden_questions(self) -> list[dict[str, Any]]:
        """The golden set kb keeps (grown from cases), for `kb eval golden`."""
        return golden(self.registry.db)

    def record_golden_run(
        self, question_set: str, k: int, outcomes: dict[str, bool]
    ) -> RunChange | None:
        """Keep a `kb eval golden` run's outcome per question; returns what changed since the
        previous run of the same set at the same k (None on the first run)."""
        previous = last_run(self.registry.db, question_set, k)
        save_run(self.registry.db, question_set, k, outcomes)
        return compare(previous[1], outcomes, previous[0]) if previous else None

    def finetune_data(
        self,
        fmt: str = "chat",
        since: str = "",
        *,
        actor: Principal = SYSTEM,
        preview: bool = False,
    ) -> tuple[list[dict[str, object]], str]:
        """Fine-tuning lines from approved answers and behaviour-gap corrections, and a
        summary (admins only); only answers whose sources are still live. A preview (the
        Quality page's summary) is not audited as an export."""
        self._require_admin(actor, "export fine-tuning data")
        if fmt not in ("chat", "dpo"):
            raise UsageError("the export format is chat or dpo")
        cases = {c.answer_id: c for c in self.cases(since, actor=actor)}
        active = self.registry.active_versions()
        lines = examples(
            self.answers.all(since),
            self.answers.feedback(),
            cases,
            lambda chunk_id: is_live(chunk_id, active),
            fmt,
        )
        if not preview:
            self.audit.record(actor.name, "export_finetune", format=fmt, examples=len(lines))
        return lines, summary(lines, fmt)

    # -- audit --------------------------------------------------------------------------
    def record_event(self, actor: Principal | str, action: str, **detail: Any) -> None:
        """Append an event to the audit log (pages record sign-ins this way)."""
        name = actor.name if isinstance(actor, Principal) else str(actor)
        self.audit.record(name, action, **detail)

    def audit_events(self, limit: int = 500, *, actor: Principal) -> list[AuditEvent]:
        """The newest audit events, newest first (admins only)."""
        self._require_admin(actor, "read the audit log")
        return self.audit.events(limit)

    def audit_csv(self, *, actor: Principal) -> str:
        """The whole audit log as CSV, oldest first (admins only)."""
        self._require_admin(actor, "export the audit log")
        text = self.audit.csv()
        self.audit.record(actor.name, "audit_export")
        return text


def _unit(vector: list[float]) -> list[float]:
    norm = sum(x * x for x in vector) ** 0.5 or 1.0
    return [x / norm for x in vector]
