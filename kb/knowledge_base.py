"""The KnowledgeBase facade: the one object pages, the CLI and the benchmarks talk to."""

from __future__ import annotations

import mimetypes
import shutil
import threading
import time
from collections.abc import Generator, Iterable, Sequence
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.llms import LLM
from llama_index.core.vector_stores.types import BasePydanticVectorStore

from kb.answer import NOT_FOUND, Answer, extractive_answer, is_relevant
from kb.backends.llm import describe, token_counter
from kb.chunking import search_text
from kb.config import Settings
from kb.embed_cache import EmbeddingCache
from kb.errors import GenerationError, IngestError, KBError, NotFoundError
from kb.generation import (
    AnswerStream,
    check_output,
    generate,
    messages,
    prompt_text,
    rewrite_followup,
)
from kb.ingest import Ingestor, IngestOutcome, Progress, Source
from kb.keyword import KeywordIndex
from kb.locking import WriteLock
from kb.registry import Document, Registry
from kb.retrieval import Hit, HybridRetriever, Mode, Searcher, Trace, View
from kb.sniff import EXTENSIONS
from kb.store import ChunkStore, StoredChunk, is_live, parse_chunk_id


def expand_paths(paths: Sequence[str | Path]) -> list[Source]:
    """Sources for files and folders (folders: every supported file inside, recursively)."""
    sources: list[Source] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for f in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in f.relative_to(path).parts)
                if f.is_file() and not hidden and f.suffix.lower() in EXTENSIONS:
                    sources.append(Source(f.name, path=f))
        elif path.is_file():
            sources.append(Source(path.name, path=path))
        else:
            raise IngestError(f"{path}: no such file or folder")
    return sources


class KnowledgeBase:
    """Ingest, list, delete, re-index, search and ask; safe to share between threads."""

    def __init__(
        self,
        settings: Settings,
        embed_model: BaseEmbedding | None = None,
        vector_store: BasePydanticVectorStore | None = None,
        cache_path: Path | None = None,
        llm: LLM | None = None,
    ) -> None:
        from kb.backends import build_embedding, build_vector_store
        from kb.backends.llm import build_llm

        self.settings = settings
        data = Path(settings.data_dir)
        data.mkdir(parents=True, exist_ok=True)
        self.embed_model = embed_model or build_embedding(settings)
        self.store = ChunkStore(vector_store or build_vector_store(settings))
        self.registry = Registry(data / "registry.sqlite")
        self.cache = EmbeddingCache(
            cache_path or data / "embeddings.sqlite", self.embed_model.model_name
        )
        self.originals = data / "originals"
        self.keyword_dir = data / "keyword"
        self.lock = WriteLock(data / "write.lock")
        self.ingestor = Ingestor(
            settings, self.registry, self.store, self.cache, self.embed_model, self.originals
        )
        self.searcher = Searcher(
            settings, self.store, self.embed_model, self.view, self.registry.generation
        )
        # None: answers are extractive. A given `llm` (any LlamaIndex LLM) overrides KB_LLM.
        self.llm = llm if llm is not None else build_llm(settings)
        self._view: View | None = None
        self._view_lock = threading.Lock()

    # -- what readers see ---------------------------------------------------------------
    def view(self) -> View:
        """The keyword index and live versions for the registry's current generation."""
        generation = self.registry.generation()
        current = self._view
        if current is not None and current.keyword.generation == generation:
            return current
        with self._view_lock:
            if self._view is None or self._view.keyword.generation != generation:
                self._view = self._load_view(generation)
            return self._view

    def _load_view(self, generation: int) -> View:
        active = self.registry.active_versions()
        saved = KeywordIndex.load(self.keyword_dir)
        if saved is None or saved.generation != generation:
            saved = self._rebuild_keyword(generation, active)
        return View(saved, active)

    def _rebuild_keyword(self, generation: int, active: dict[str, str]) -> KeywordIndex:
        ids, texts = [], []
        for chunk in self.store.iter_all():
            if is_live(chunk.id, active):
                ids.append(chunk.id)
                name, heading = str(chunk.meta.get("name", "")), str(chunk.meta.get("heading", ""))
                texts.append(search_text(name, heading, chunk.text))
        index = KeywordIndex.build(ids, texts, generation)
        try:
            # No write lock here: a writer may be waiting on _view_lock while holding it.
            # Saves are atomic renames, and a stale one is caught by its generation on load.
            if self.registry.generation() == generation:
                index.save(self.keyword_dir)
        except OSError:
            pass  # a read-only data dir still serves; the index is rebuilt next start
        return index

    # -- writing ------------------------------------------------------------------------
    def ingest(
        self, sources: Iterable[Source], progress: Progress | None = None
    ) -> list[IngestOutcome]:
        """Add or replace files; unchanged bytes are skipped, failures reported per file."""
        with self.lock.hold():
            outcomes = self.ingestor.run(sources, progress)
            self._after_write()
        return outcomes

    def _after_write(self) -> None:
        """Sweep invisible chunks and bring the keyword index up to date (lock held)."""
        self.repair()
        self.view()

    def repair(self) -> int:
        """Delete chunks of no live version (left by a crash or failed clean-up); returns how
        many. Safe only under the write lock: an ingest in flight owns such chunks."""
        with self.lock.hold():
            active = self.registry.active_versions()
            orphans = [cid for cid in self.store.all_ids() if not is_live(cid, active)]
            if orphans:
                self.store.delete_ids(orphans)
            return len(orphans)

    def ingest_paths(
        self, paths: Sequence[str | Path], progress: Progress | None = None
    ) -> list[IngestOutcome]:
        """Ingest files and folders from disk."""
        return self.ingest(expand_paths(paths), progress)

    def delete(self, id_or_name: str) -> Document:
        """Remove a document: registry entry, chunks, keyword entries and stored original."""
        with self.lock.hold():
            doc = self.registry.find(id_or_name)
            self.registry.remove(doc.doc_id)  # invisible to readers from here on
            self.store.delete_version(doc.doc_id, doc.version)
            shutil.rmtree(self.originals / doc.doc_id, ignore_errors=True)
            self._after_write()
        return doc

    def reindex(
        self, ids_or_names: Sequence[str] = (), progress: Progress | None = None
    ) -> list[IngestOutcome]:
        """Parse, chunk and index stored originals again (all when none are named)."""
        with self.lock.hold():
            docs = (
                [self.registry.find(x) for x in ids_or_names]
                if ids_or_names
                else self.registry.list()
            )
            sources = []
            for doc in docs:
                path = self.ingestor.original_path(doc)
                if not path.exists():
                    raise NotFoundError(
                        f"the stored original of {doc.name} is missing; upload it again"
                    )
                sources.append(Source(doc.name, path=path))
            outcomes = self.ingestor.run(sources, progress, reindex=True)
            self._after_write()
        return outcomes

    # -- reading ------------------------------------------------------------------------
    def documents(self) -> list[Document]:
        """Every registered document."""
        return self.registry.list()

    def document(self, id_or_name: str) -> Document:
        """One document by id or file name."""
        return self.registry.find(id_or_name)

    def is_empty(self) -> bool:
        """Whether no document is indexed."""
        return not self.registry.list()

    def never_used(self) -> bool:
        """Whether nothing was ever indexed here (an emptied store does not count)."""
        return self.registry.generation() == 0

    def chunks(self, ids: Sequence[str]) -> dict[str, StoredChunk]:
        """Stored chunks (text and metadata) by id, for showing retrieval steps."""
        return self.store.get(list(dict.fromkeys(ids)))

    def original(self, id_or_name: str) -> tuple[str, bytes, str]:
        """(file name, bytes, MIME type) of a document's stored original."""
        doc = self.registry.find(id_or_name)
        path = self.ingestor.original_path(doc)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise NotFoundError(f"the stored original of {doc.name} is missing") from exc
        mime = mimetypes.guess_type(doc.name)[0] or "application/octet-stream"
        return doc.name, data, mime

    def search(self, query: str, k: int | None = None, mode: Mode = "hybrid") -> list[Hit]:
        """The top-k passages for `query` with their dense, keyword and fused scores."""
        return self.searcher.search(query, k, mode)

    def trace(self, query: str, k: int | None = None, mode: Mode = "hybrid") -> Trace:
        """The retrieval step by step (dense, keyword, fused), for the source inspector."""
        return self.searcher.trace(query, k, mode)

    def retriever(self, k: int | None = None) -> HybridRetriever:
        """A LlamaIndex retriever over the hybrid search."""
        return HybridRetriever(self.searcher, k)

    def ask(self, question: str, k: int | None = None, *, history: Sequence[Answer] = ()) -> Answer:
        """A grounded answer with [n] citations, or the 'not in the knowledge base' reply.

        `history`: the chat's earlier answers, oldest first; a follow-up question is made
        standalone with them before retrieval."""
        return self.ask_stream(question, k, history=history).answer

    def ask_stream(
        self, question: str, k: int | None = None, *, history: Sequence[Answer] = ()
    ) -> AnswerStream:
        """Like ask(), but the text arrives in pieces as the model writes it."""
        question = question.strip()
        if not question:
            raise KBError("the question is empty; type a question")
        return AnswerStream(self._answer(question, k, history))

    def _answer(
        self, question: str, k: int | None, history: Sequence[Answer]
    ) -> Generator[str, None, Answer]:
        s = self.settings
        timings: dict[str, float] = {}
        t = time.perf_counter()
        past = [(a.question, a.query or a.question, a.text) for a in history]
        query, how = rewrite_followup(question, past, self.llm, s.llm_timeout, describe(s))
        if how:
            timings["rewrite"] = time.perf_counter() - t
        t = time.perf_counter()
        trace = self.searcher.trace(query, k)
        timings["retrieval"] = time.perf_counter() - t
        extra: dict[str, Any] = {"query": query, "rewrite": how, "trace": trace}
        if not is_relevant(trace.hits, s.min_relevance):
            return Answer(question, NOT_FOUND, [], trace.hits, False, timings=timings, **extra)
        if self.llm is not None:
            t = time.perf_counter()
            try:
                answer = yield from self._generated(question, query, trace.hits, timings, extra)
                return answer
            except GenerationError as exc:
                extra["error"] = str(exc)
                timings["model (failed)"] = time.perf_counter() - t
        t = time.perf_counter()
        text, citations, extract = extractive_answer(
            query, trace.hits, self.embed_model.get_text_embedding_batch
        )
        timings["extractive" if "error" in extra else "generation"] = time.perf_counter() - t
        method = "extractive (fallback)" if "error" in extra else "extractive"
        answer = Answer(
            question, text, citations, trace.hits, True, method, extract, timings, **extra
        )
        if "error" not in extra:  # after a failed model, the page shows the final answer
            yield from answer.stream()
        return answer

    def _generated(
        self,
        question: str,
        query: str,
        hits: list[Hit],
        timings: dict[str, float],
        extra: dict[str, Any],
    ) -> Generator[str, None, Answer]:
        assert self.llm is not None
        s = self.settings
        msgs = messages(query, hits)
        extra["prompt"] = prompt_text(msgs)  # shown by the inspector even when the model fails
        raw, tokens, times = yield from generate(
            self.llm, msgs, s.llm_timeout, describe(s), token_counter(self.llm)
        )
        timings.update(times)
        extra.update(tokens=tokens, raw=raw)
        out = check_output(raw, hits, s.verify_threshold)
        method = self._method()
        if not out.found:
            return Answer(question, NOT_FOUND, [], hits, False, method, "", timings, **extra)
        return Answer(
            question, out.text, out.citations, hits, True, method, "", timings,
            checks=out.checks, **extra,
        )  # fmt: skip

    def _method(self) -> str:
        assert self.llm is not None
        return f"model: {Path(self.llm.metadata.model_name).name}"

    def stats(self) -> dict[str, Any]:
        """Counts for the admin page and `kb docs list`."""
        docs = self.registry.list()
        view = self.view()
        by_kind: dict[str, int] = {}
        for d in docs:
            by_kind[d.kind] = by_kind.get(d.kind, 0) + 1
        return {
            "documents": len(docs),
            "chunks": sum(d.chunks for d in docs),
            "stored_chunks": self.store.count(),
            "keyword_entries": len(view.keyword),
            "bytes": sum(d.size for d in docs),
            "by_kind": by_kind,
            "generation": view.keyword.generation,
        }

    def check(self) -> list[str]:
        """Disagreements between registry, Chroma and the keyword index (empty: consistent)."""
        active = self.registry.active_versions()
        problems = []
        stored: dict[str, int] = {}
        live: set[str] = set()
        for cid in self.store.all_ids():
            if not is_live(cid, active):
                problems.append(f"orphan chunk {cid} in Chroma")
                continue
            live.add(cid)
            doc_id = parse_chunk_id(cid)[0]
            stored[doc_id] = stored.get(doc_id, 0) + 1
        for doc in self.registry.list():
            if stored.get(doc.doc_id, 0) != doc.chunks:
                problems.append(
                    f"{doc.name}: registry says {doc.chunks} chunks, Chroma has "
                    f"{stored.get(doc.doc_id, 0)}"
                )
        keyword = set(self.view().keyword.ids)
        if keyword != live:
            problems.append(
                f"keyword index has {len(keyword - live)} extra and "
                f"{len(live - keyword)} missing chunks"
            )
        return problems
