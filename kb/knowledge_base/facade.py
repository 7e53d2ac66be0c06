"""The KnowledgeBase class: ingest, search, ask, delete, re-index, audit."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.llms import LLM
from llama_index.core.vector_stores.types import BasePydanticVectorStore

from kb import backends, logs
from kb.answer import Answer, Answerer, AnswerStream
from kb.backends.llm import build_llm
from kb.config import Settings
from kb.errors import NotFoundError, PermissionDeniedError, UsageError
from kb.index import (
    Checker,
    ChunkStore,
    Document,
    Indexes,
    Lifecycle,
    Registry,
    Snapshot,
    Snapshots,
    Sweeper,
    Versions,
    WriteLock,
)
from kb.index.ownership import foreign, not_owner, require_owner
from kb.ingest import (
    EmbeddingCache,
    Ingestor,
    IngestOutcome,
    Progress,
    Recovery,
    Source,
    expand_paths,
    ocr,
    parsing,
    stored_sources,
)
from kb.ingest.rebuild import model_of, recipe_of
from kb.ingest.sync import Syncer
from kb.knowledge_base.documents import DocumentLifecycle
from kb.knowledge_base.quality import QualityLoop
from kb.knowledge_base.rebuild import query_model, rebuild_all
from kb.layout import DataDir
from kb.quality import AnswerLog
from kb.quality.conversations import Conversations
from kb.search import Hit, Mode, Searcher, Trace
from kb.security import SYSTEM, AuditLog, Principal, normalize_groups, require_admin


class KnowledgeBase(DocumentLifecycle, QualityLoop):
    """Ingest, list, delete, re-index, search and ask; safe to share between threads."""

    def __init__(
        self,
        settings: Settings,
        embed_model: BaseEmbedding | None = None,
        vector_store: BasePydanticVectorStore | None = None,
        cache_path: Path | None = None,
        llm: LLM | None = None,
        embed_models: Sequence[BaseEmbedding] = (),
    ) -> None:
        self.settings = settings
        self.paths = paths = DataDir.of(settings).create()
        # Failed files' tracebacks and the parsing libraries' warnings: never the terminal.
        self.log_path = logs.route_to_file(paths.log)
        if vector_store is None:  # an injected store (tests, benchmarks) is the caller's
            backends.check_topology(settings)  # shared beside private parts would lose data
        self.db = backends.build_database(settings)
        # The model itself loads on first use: listing or checking documents needs none.
        self.embed_model = embed_model or backends.build_embedding(settings)
        # A store built here can be reloaded when another process writes to it.
        self.indexes = Indexes(self.db)
        self.other_models = list(embed_models)  # to query an index built with another model
        self.store = ChunkStore(
            vector_store or self._open_active(),
            None if vector_store else self._open_active,
        )
        self.registry = Registry(self.db)
        self.cache = EmbeddingCache(cache_path or paths.embeddings, self.embed_model.model_name)
        self.originals = backends.build_blob_store(settings)
        self.lock = WriteLock(paths.write_lock, self.db)
        self.audit = AuditLog(self.db)
        self.answers = AnswerLog(self.db)
        self.chats = Conversations(self.db, settings.chat_retention_days)
        self.ingestor = Ingestor(
            settings,
            self.registry,
            self.store,
            self.cache,
            self.embed_model,
            self.originals,
            self.log_path,
        )
        self.snapshots = Snapshots(
            self.registry,
            self.store,
            paths.keyword,
            (settings.bm25_k1, settings.bm25_b),
            shared=self.originals if self.db.shared else None,
        )
        self.searcher = Searcher(
            settings,
            self.store,
            query_model(self.indexes.active(), self.embed_model, self.other_models),
            self.snapshots.get,
            self.registry.stamp,
        )
        # None: answers are extractive. A given `llm` (any LlamaIndex LLM) overrides KB_LLM.
        model = llm if llm is not None else build_llm(settings)
        self.answerer = Answerer(settings, self.searcher, self.embed_model, model)
        self.checker = Checker(
            self.registry, self.store, self.originals, self.snapshots.get, self.lock
        )
        self.sweeper = Sweeper(self.registry, self.store, self.originals, paths.keyword)
        self.recovery = Recovery(self.registry, self.originals, self.ingestor, self.sweeper.sweep)
        self.lifecycle = Lifecycle(self.registry, settings.stale_days)
        self.versions_store = Versions(self.db)
        self.syncer = Syncer(self.registry)
        self.recovered: list[str] = []  # what the last recovery of interrupted work did
        if self.registry.pending():
            # A writer crashed here: finish its work now, unless another writer is busy.
            with self.lock.try_hold() as free:
                if free:
                    with self._writing():
                        pass  # recovery runs on entry

    def _open_active(self) -> BasePydanticVectorStore:
        """The collection answers come from now (a full re-index may have switched it), with
        the model its vectors came from for queries. Fresh: a copy this process cached may
        predate other processes' writes."""
        active = self.indexes.active()  # read once: the collection and its model agree
        name = active.collection if active else self.settings.collection
        store = backends.build_vector_store(self.settings, fresh=True, collection=name)
        if hasattr(self, "searcher"):
            self.searcher.embed_model = query_model(active, self.embed_model, self.other_models)
        return store

    def ocr_status(self) -> str | None:
        """None when scans and images can be read; else why not and how to turn OCR on."""
        return ocr.status(self.settings.ocr_max_pages, self.settings.tesseract)

    def preload(self, background: bool = True) -> None:
        """Load the document parsers and the embedding model ahead of use (in daemon threads
        by default), so the first upload or question does not wait for them."""
        parsing.preload(background=background)
        backends.warm_up(self.embed_model, background)

    # -- what readers see ---------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """The keyword index, live versions and access groups as the registry has them now."""
        return self.snapshots.get()

    # -- writing ------------------------------------------------------------------------
    def _require_admin(self, actor: Principal, action: str) -> None:
        try:
            require_admin(actor, action)
        except PermissionDeniedError:
            self.audit.record(getattr(actor, "name", str(actor)), "denied", attempted=action)
            raise

    def ingest(
        self,
        sources: Iterable[Source],
        progress: Progress | None = None,
        *,
        groups: Sequence[str] | None = None,
        actor: Principal = SYSTEM,
        status: Callable[[str], None] | None = None,
    ) -> list[IngestOutcome]:
        """Add or replace files (admins only); unchanged bytes are skipped, failures reported
        per file. New documents get `groups` (default everyone); a replaced one keeps its
        groups unless `groups` is given. `status` hears of slow steps (OCR), off-thread."""
        self._require_admin(actor, "upload documents")
        wanted = normalize_groups(groups) if groups is not None else None
        with self._writing():
            outcomes = self.ingestor.run(sources, progress, groups=wanted, status=status)
        self.audit.outcomes(actor.name, outcomes, "upload")
        return outcomes

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """The write lock, with interrupted work finished first and the sweep after."""
        with self.lock.hold():
            require_owner(self.store, self.registry.id, self.settings, self.paths.root)
            if self.store.can_reopen():  # which model this index's vectors come from
                name = self.indexes.active_name(self.settings.collection)
                self.indexes.adopt(name, recipe_of(self.settings), model_of(self.embed_model))
            with self.snapshots.writing(finish=self.registry.touch):
                if self.registry.pending():  # a crashed writer's work first, into the audit log
                    self.recovered = self.recovery.run()
                    for line in self.recovered:
                        self.audit.record(SYSTEM.name, "recover", report=line)
                yield
                self.sweeper.sweep()  # chunks and originals of no live version
                self.snapshots.publish()  # the keyword index up to date, shared with replicas

    def repair(self, *, actor: Principal = SYSTEM) -> list[str]:
        """Finish or undo interrupted writes and delete chunks and files of no live version
        (left by a crash or a failed clean-up); returns what was done."""
        self._require_admin(actor, "repair the index")
        self.recovered = []
        with self._writing():
            pass  # recovery on entry, the sweep on exit
        return self.recovered

    def ingest_paths(
        self,
        paths: Sequence[str | Path],
        progress: Progress | None = None,
        *,
        groups: Sequence[str] | None = None,
        actor: Principal = SYSTEM,
    ) -> list[IngestOutcome]:
        """Ingest files and folders from disk (admins only)."""
        self._require_admin(actor, "upload documents")
        return self.ingest(expand_paths(paths), progress, groups=groups, actor=actor)

    def delete(self, id_or_name: str, *, actor: Principal = SYSTEM) -> Document:
        """Remove a document (admins only): registry entry, chunks, keyword entries, stored
        originals, and every kept earlier version."""
        self._require_admin(actor, "delete documents")
        with self._writing():
            doc = self.registry.find(id_or_name)
            kept = self._remove(doc)
        self.audit.record(actor.name, "delete", name=doc.name, doc_id=doc.doc_id, versions=kept)
        return doc

    def set_groups(self, id_or_name: str, groups: Sequence[str], *, actor: Principal) -> Document:
        """Change who may read a document (admins only); the next query of every reader,
        in this process or another, already obeys it."""
        self._require_admin(actor, "change document permissions")
        wanted = normalize_groups(groups)
        with self.lock.hold():
            doc = self.registry.find(id_or_name)
            self.registry.set_groups(doc.doc_id, wanted)
            updated = self.registry.find(doc.doc_id)
        change = {"before": list(doc.groups), "after": list(wanted)}
        self.audit.record(actor.name, "set_groups", name=doc.name, doc_id=doc.doc_id, **change)
        return updated

    def reindex(
        self,
        ids_or_names: Sequence[str] = (),
        progress: Progress | None = None,
        *,
        actor: Principal = SYSTEM,
    ) -> list[IngestOutcome]:
        """Parse, chunk and index stored originals again (admins only). All of them, when none
        are named: built beside the live index, which answers until the one switch."""
        self._require_admin(actor, "re-index documents")
        if not ids_or_names and self.store.can_reopen():
            outcomes = rebuild_all(self, progress)  # beside the live index, then one switch
            self.audit.outcomes(actor.name, outcomes, "reindex")
            return outcomes
        with self._writing():
            docs = (
                [self.registry.find(x) for x in ids_or_names]
                if ids_or_names
                else self.registry.list()
            )
            sources = stored_sources(docs, self.originals, self.ingestor.original_key)
            outcomes = self.ingestor.run(sources, progress, reindex=True)
        self.audit.outcomes(actor.name, outcomes, "reindex")
        return outcomes

    # -- reading ------------------------------------------------------------------------
    def documents(self, *, user: Principal = SYSTEM) -> list[Document]:
        """The registered documents `user` may read (all, for admins)."""
        return [d for d in self.registry.list() if user.can_see(d.groups)]

    def document(self, id_or_name: str, *, user: Principal = SYSTEM) -> Document:
        """One document by id or file name; one `user` may not read is 'not found'."""
        doc = self.registry.find(id_or_name)
        if not user.can_see(doc.groups):
            # The same words as a missing document: a refusal would confirm it exists.
            raise NotFoundError(
                f"no document with id or name '{id_or_name}'; `kb docs list` shows them"
            )
        return doc

    def is_empty(self) -> bool:
        """Whether no document is indexed."""
        return not self.registry.list()

    def never_used(self) -> bool:
        """Whether nothing was ever indexed here (an emptied store does not count)."""
        return self.registry.generation() == 0

    def search(
        self,
        query: str,
        k: int | None = None,
        mode: Mode = "hybrid",
        *,
        user: Principal = SYSTEM,
    ) -> list[Hit]:
        """The top-k passages `user` may read for `query`, with dense, keyword and fused
        scores."""
        hits = self.searcher.search(query, k, mode, user=user)
        self.audit.retrieval(user.name, "search", query, hits, mode=mode)
        return hits

    def search_many(
        self, queries: list[str], k: int | None = None, mode: Mode = "hybrid", *,
        user: Principal = SYSTEM,
    ) -> list[list[Hit]]:  # fmt: skip
        """`search` for a batch of queries, embedded together (much faster per query)."""
        results = self.searcher.search_many(queries, k, mode, user=user)
        for query, hits in zip(queries, results, strict=True):
            self.audit.retrieval(user.name, "search", query, hits, mode=mode)
        return results

    def trace(
        self,
        query: str,
        k: int | None = None,
        mode: Mode = "hybrid",
        *,
        user: Principal = SYSTEM,
    ) -> Trace:
        """The retrieval step by step (dense, keyword, fused) over what `user` may read."""
        trace = self.searcher.trace(query, k, mode, user=user)
        self.audit.retrieval(user.name, "search", query, trace.hits, mode=mode)
        return trace

    def ask(
        self,
        question: str,
        k: int | None = None,
        *,
        history: Sequence[Answer] = (),
        user: Principal = SYSTEM,
        conversation: str | None = None,
    ) -> Answer:
        """A grounded answer from what `user` may read, with [n] citations, or the 'not in
        the knowledge base' reply.

        `history`: the chat's earlier answers, oldest first; a follow-up question is made
        standalone with them before retrieval."""
        stream = self.ask_stream(question, k, history=history, user=user, conversation=conversation)
        return stream.answer

    def ask_stream(
        self,
        question: str,
        k: int | None = None,
        *,
        history: Sequence[Answer] = (),
        user: Principal = SYSTEM,
        conversation: str | None = None,
    ) -> AnswerStream:
        """Like ask(), but the text arrives in pieces as the model writes it; filed under
        `conversation` (one of `user`'s saved chats) when given."""
        question = question.strip()
        if not question:
            raise UsageError("the question is empty; type a question")
        if conversation is not None:
            self.chats.owned(conversation, user.name)  # never into another user's chat
        return AnswerStream(self._audited(question, k, history, user, conversation))

    def _audited(
        self,
        question: str,
        k: int | None,
        history: Sequence[Answer],
        user: Principal,
        conversation: str | None = None,
    ) -> Generator[str, None, Answer]:
        answer = yield from self.answerer.answer(question, k, history, user)
        marks = self.lifecycle.marks({c.doc_id for c in answer.citations})
        for c in answer.citations:  # a stale source says so, whoever wrote the answer
            c.stale = marks.get(c.doc_id, [])
        rewritten = {"rewritten": answer.query} if answer.query not in ("", question) else {}
        self.answers.save(user.name, answer, conversation)  # to reopen, and for feedback
        if conversation is not None:
            self.chats.touch(conversation)
        found, cited = answer.found, sorted({c.doc_id for c in answer.citations})
        self.audit.retrieval(
            user.name, "ask", question, answer.hits, found=found, cited=cited, **rewritten
        )
        return answer

    def stats(self) -> dict[str, Any]:
        """Counts for the admin page and `kb docs list`."""
        return self.checker.stats()

    def check(self) -> list[str]:
        """Disagreements between registry, Chroma, keyword index and originals, and work a
        crash interrupted (empty: consistent)."""
        if foreign(self.store, self.registry.id):  # its chunks are not orphans: not ours
            return [not_owner(self.settings, self.paths.root)]
        return self.checker.check()
