"""Ingestion: bytes -> blocks -> chunks -> embeddings -> Chroma + registry, one file at a time,
in three overlapping stages: a thread parses the files ahead, the caller's thread embeds, and
a thread commits what was embedded (Chroma, originals, registry) while the next group embeds."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from llama_index.core.base.embeddings.base import BaseEmbedding

from kb.backends.blobs import BlobStore
from kb.config import Settings
from kb.errors import IngestError, KBError
from kb.index.ids import sha256_hex
from kb.index.registry import Document, Registry
from kb.index.store import ChunkStore
from kb.index.text import search_text
from kb.ingest import ocr
from kb.ingest.chunking import chunk_blocks
from kb.ingest.commit import Committer, IngestOutcome, Prepared
from kb.ingest.docmeta import stated_metadata
from kb.ingest.embed_cache import EmbeddingCache
from kb.ingest.guards import check_pdf, check_text, check_zip, display_name
from kb.ingest.parsing import PAGED_KINDS, Parsed, ParseOptions, parse_document
from kb.ingest.report import ParseReport, table_warnings
from kb.ingest.sniff import decode_text, sniff
from kb.ingest.sources import Source, batch_key, identify
from kb.logs import log_failure
from kb.security.principals import EVERYONE

log = logging.getLogger(__name__)

# Bump when parsing or chunking changes the chunks a file yields: it changes every version
# tag, so `kb reindex --all` rebuilds everything while unchanged text keeps its cached vectors.
PIPELINE_VERSION = "7"
# Files parsed ahead of the one being embedded: a group of small files (EMBED_GROUP chunks)
# is ~12 files, and a shallower queue left the embedder waiting for the parser 15 % of the
# time. The byte budget bounds the memory a queue of large files can take.
PREFETCH = 16
PREFETCH_BYTES = 64 * 1024 * 1024
# Embedded groups waiting for their commit: the commit thread is mostly waiting on Chroma and
# the disk, so one group in flight hides it; more would only hold vectors in memory.
COMMITS_IN_FLIGHT = 2
# Small files are embedded together: the model is ~2x faster per text in batches of 64 than
# 4, and sorting 128 texts by length (kb.backends.embedding) wastes ~20 % less on padding than
# 64. Larger groups would move the progress bar in bigger jumps for little more.
EMBED_GROUP = 128
# The first group is smaller so that the first files of an upload show as done within a second
# or two instead of after 128 chunks (~5 s here).
FIRST_GROUP = 24
ZIP_KINDS = {"docx", "pptx", "xlsx"}


Progress = Callable[[int, int, IngestOutcome], None]


class Ingestor:
    """Adds, replaces and re-indexes documents so readers always see one whole version."""

    def __init__(
        self,
        settings: Settings,
        registry: Registry,
        store: ChunkStore,
        cache: EmbeddingCache,
        embed_model: BaseEmbedding,
        originals: BlobStore,
        log_path: Path,
    ) -> None:
        self.settings, self.registry, self.store = settings, registry, store
        self.cache, self.embed_model, self.originals = cache, embed_model, originals
        self.log_path = log_path  # where failed files' tracebacks go
        keep = (settings.keep_versions, settings.keep_version_days)
        self.committer = Committer(registry, store, originals, settings.review_days, keep)
        self._groups: tuple[str, ...] | None = None  # of the run in progress (None: keep)
        self._status: Callable[[str], None] | None = None  # of the run in progress

    def version_for(self, sha: str) -> str:
        """Version tag: the bytes plus the chunking settings and pipeline that cut them."""
        s = self.settings
        recipe = f"{PIPELINE_VERSION}:{s.chunk_size}:{s.chunk_overlap}"
        return f"{sha[:12]}{hashlib.sha1(recipe.encode()).hexdigest()[:4]}"

    def original_key(self, doc: Document) -> str:
        """The blob key of a version's original bytes (see Committer.original_key)."""
        return self.committer.original_key(doc)

    def _check_size(self, size: int) -> None:
        limit = self.settings.max_upload_bytes
        if size > limit:
            raise IngestError(
                f"the file is {size / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB limit "
                "(KB_MAX_UPLOAD_MB); split it or raise the limit"
            )

    def _prepare(self, source: Source, reindex: bool) -> Prepared | IngestOutcome:
        self._check_size(source.size())  # before reading: a huge file is never loaded
        data = source.read()
        self._check_size(len(data))  # it may have grown since
        doc_id, sha = identify(source, self.registry), sha256_hex(data)
        version = self.version_for(sha)
        old = self.registry.get(doc_id)
        if old and old.version == version and not reindex:
            if self._groups is not None and self._groups != old.groups:
                self.registry.set_groups(doc_id, self._groups)
                reason = f"access groups set to {', '.join(self._groups)}"
                return IngestOutcome(source.name, "unchanged", doc_id, old.chunks, reason=reason)
            return IngestOutcome(source.name, "unchanged", doc_id, old.chunks)
        started = time.perf_counter()
        if source.blocks is not None:
            kind, parsed = "txt", Parsed(source.blocks, "given")
        else:
            kind = sniff(data, source.name)
            if kind in ZIP_KINDS:
                check_zip(data, self.settings)
            elif kind == "pdf":
                check_pdf(data, self.settings.max_pages)
            elif kind != "image":
                check_text(len(decode_text(data)), self.settings)  # before parsing it
            parsed = self._parse(kind, data, source.name)
        blocks = parsed.blocks
        characters = sum(len(b.text) for b in blocks)
        check_text(characters, self.settings)
        chunks = chunk_blocks(blocks, self.settings.chunk_size, self.settings.chunk_overlap)
        pages = [c.page for c in chunks if c.page] if kind in PAGED_KINDS else []
        report = ParseReport(
            kind=kind,
            parser=parsed.parser,
            pages=parsed.pages or max(pages, default=None),
            pages_with_text=parsed.pages_with_text,
            ocr_pages=parsed.ocr_pages,
            tables=sum(1 for b in blocks if b.kind == "Table"),
            characters=characters,
            chunks=len(chunks),
            warnings=parsed.warnings + table_warnings(blocks),
            parse_seconds=round(time.perf_counter() - started, 3),
        )
        return Prepared(
            source.name,
            data,
            doc_id,
            sha,
            version,
            kind,
            chunks,
            report.pages,
            old,
            report,
            source.origin or (old.source if old else None),
            stated_metadata(kind, data),
        )

    def _parse(self, kind: str, data: bytes, name: str) -> Parsed:
        """Parse in a thread of its own, given up after KB_PARSE_TIMEOUT: a pathological file
        becomes a refusal instead of a hang. (Python cannot stop the thread; kb's PDF reader
        checks the same deadline between pages, so it stops soon after.)"""
        s = self.settings
        binary = ocr.find(s.tesseract) if s.ocr_max_pages else None
        options = ParseOptions(s.ocr_max_pages, s.parse_timeout, binary, self._status)
        box: dict[str, object] = {}

        def work() -> None:
            try:
                box["result"] = parse_document(kind, data, name, options)
            except BaseException as exc:  # handed to the caller's thread, raised there
                box["error"] = exc

        worker = threading.Thread(target=work, name=f"kb-parse-{name[:40]}", daemon=True)
        worker.start()
        worker.join(s.parse_timeout + 1)  # the PDF reader's own deadline fires first
        if worker.is_alive():
            raise IngestError(
                f"parsing took longer than {s.parse_timeout:.0f} s (KB_PARSE_TIMEOUT) and was "
                "stopped; split the document, or raise the limit if it is simply very long"
            )
        if "error" in box:
            raise box["error"]  # type: ignore[misc]
        return box["result"]  # type: ignore[return-value]

    def run(
        self,
        sources: Iterable[Source],
        progress: Progress | None = None,
        reindex: bool = False,
        groups: tuple[str, ...] | None = None,
        status: Callable[[str], None] | None = None,
    ) -> list[IngestOutcome]:
        """Ingest every source (new ones open to `groups`, default everyone; None keeps a
        replaced document's groups); a failed file is reported and the rest go on. `status`
        hears of slow steps inside a file (OCR pages), from the parsing thread."""
        self._groups, self._status = groups, status
        try:
            return self._run(list(sources), progress, reindex)
        finally:
            self._groups, self._status = None, None

    def _run(
        self, items: list[Source], progress: Progress | None, reindex: bool
    ) -> list[IngestOutcome]:
        # Names are labels from here on: cleaned once, never joined to a path.
        items = [replace(s, name=display_name(s.name, s.origin is not None)) for s in items]
        outcomes: list[IngestOutcome] = []
        last = {batch_key(s): n for n, s in enumerate(items)}
        for n, s in enumerate(items):
            if last[batch_key(s)] != n:
                reason = "another file in this batch has the same name; the last one was used"
                outcomes.append(IngestOutcome(s.name, "failed", reason=reason))
        items = [s for n, s in enumerate(items) if last[batch_key(s)] == n]
        total = len(items) + len(outcomes)

        def done(outcome: IngestOutcome, started: float) -> None:
            outcome.seconds = time.perf_counter() - started
            outcomes.append(outcome)
            if progress:
                progress(len(outcomes), total, outcome)

        # The files since the last embedding, in order: parsed ones and ones already decided
        # (failed, unchanged), so that outcomes are reported in the order of the files.
        group: list[tuple[Prepared | IngestOutcome, float]] = []
        pending: deque[tuple[Future[list[tuple[IngestOutcome, float]]], Group]] = deque()
        limit = FIRST_GROUP

        def report(wait: int) -> None:
            # Outcomes are reported here, on the caller's thread, in order: progress callbacks
            # (a Streamlit bar) must not run on a worker thread.
            while pending and (len(pending) > wait or pending[0][0].done()):
                future, members = pending.popleft()
                for outcome, started in self._outcomes(future, members):
                    done(outcome, started)

        with (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="kb-parse") as parser,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="kb-commit") as committer,
        ):
            for source, future, started in self._prefetch(parser, items, reindex):
                try:
                    group.append((future.result(), started))
                except KBError as exc:
                    reason = self._reason(source.name, exc)
                    group.append((IngestOutcome(source.name, "failed", reason=reason), started))
                except Exception as exc:  # any error of one file fails that file only
                    reason = log_failure(self.log_path, source.name, "reading the file", exc)
                    group.append((IngestOutcome(source.name, "failed", reason=reason), started))
                if _chunks(group) >= limit or (not pending and _chunks(group) == 0):
                    first = limit == FIRST_GROUP and _chunks(group) > 0
                    limit = EMBED_GROUP if _chunks(group) else limit
                    pending.append((self._embed_group(group, committer), group))
                    group = []
                    if first:
                        report(0)  # one commit's wait (~50 ms) to show the first files now
                report(COMMITS_IN_FLIGHT)
            if group:
                pending.append((self._embed_group(group, committer), group))
            report(0)
        return outcomes

    def _reason(self, name: str, exc: KBError) -> str:
        """A refusal's reason; when a library's error is behind it, its traceback is logged."""
        cause = exc.__cause__
        if cause is None or isinstance(cause, KBError):
            return str(exc)
        log_failure(self.log_path, name, "reading the file", cause)
        return f"{exc} (details in {self.log_path})"

    def _outcomes(
        self, future: Future[list[tuple[IngestOutcome, float]]], group: Group
    ) -> list[tuple[IngestOutcome, float]]:
        """A committed group's outcomes; if committing raised, its files fail, not the batch."""
        try:
            return future.result()
        except Exception as exc:
            names = ", ".join(p.name for p in _parsed(group))
            reason = log_failure(self.log_path, names, "storing the file", exc)
            return [
                (o if isinstance(o, IngestOutcome) else _failed(o, reason), t) for o, t in group
            ]

    def _embed_group(
        self, group: list[tuple[Prepared | IngestOutcome, float]], committer: ThreadPoolExecutor
    ) -> Future[list[tuple[IngestOutcome, float]]]:
        """Embed the chunks of several small files in one batch, then hand them to the commit
        thread; the future holds each file's outcome, in order."""
        texts = [search_text(p.name, c.heading, c.text) for p in _parsed(group) for c in p.chunks]
        decided: Future[list[tuple[IngestOutcome, float]]] = Future()
        if not texts:
            decided.set_result([(o, t) for o, t in group if isinstance(o, IngestOutcome)])
            return decided
        started = time.perf_counter()
        try:
            vectors, fresh = self.cache.embed(texts, self.embed_model.get_text_embedding_batch)
        except Exception as exc:  # the model failing fails these files, not the batch
            reason = log_failure(self.log_path, f"{len(texts)} chunks", "embedding", exc)
            decided.set_result(
                [(o if isinstance(o, IngestOutcome) else _failed(o, reason), t) for o, t in group]
            )
            return decided
        spent = time.perf_counter() - started
        for p in _parsed(group):  # each file's share of the group's embedding time
            if p.report:
                p.report.embed_seconds = round(spent * len(p.chunks) / len(texts), 3)
        return committer.submit(self._commit_group, group, texts, vectors, fresh)

    def _commit_group(
        self,
        group: list[tuple[Prepared | IngestOutcome, float]],
        texts: list[str],
        vectors: list[list[float]],
        fresh: set[str],
    ) -> list[tuple[IngestOutcome, float]]:
        """Commit each file of an embedded group; a failed commit fails that file only."""
        items = []
        offset = 0
        for parsed in _parsed(group):
            n = len(parsed.chunks)
            items.append((parsed, vectors[offset : offset + n], self._groups_of(parsed)))
            offset += n
        committed = iter(self.committer.commit_many(items))
        results = []
        offset = 0
        for p, started in group:
            if isinstance(p, IngestOutcome):
                results.append((p, started))
                continue
            result = next(committed)
            own = set(texts[offset : offset + len(p.chunks)])
            offset += len(p.chunks)
            if isinstance(result, KBError):
                result = _failed(p, str(result))
            elif isinstance(result, Exception):
                result = _failed(p, log_failure(self.log_path, p.name, "storing the file", result))
            # A text shared by two files was embedded once: count it for the first of them.
            result.embedded = len(own & fresh)
            fresh -= own
            results.append((result, started))
        return results

    def _groups_of(self, p: Prepared) -> tuple[str, ...]:
        # New documents are open to everyone unless the uploader said otherwise; a new
        # version keeps the groups of the one it replaces.
        return self._groups or (p.old.groups if p.old else (EVERYONE,))

    def _prefetch(
        self,
        pool: ThreadPoolExecutor,
        items: list[Source],
        reindex: bool,
    ) -> Iterator[tuple[Source, Future[Prepared | IngestOutcome], float]]:
        queue: deque[tuple[Source, Future[Prepared | IngestOutcome], float, int]] = deque()
        queued_bytes = 0
        for source in items:
            size = _size_or_zero(source)
            future = pool.submit(self._prepare, source, reindex)
            queue.append((source, future, time.perf_counter(), size))
            queued_bytes += size
            while queue and (len(queue) > PREFETCH or queued_bytes > PREFETCH_BYTES):
                head, fut, started, head_size = queue.popleft()
                queued_bytes -= head_size
                yield head, fut, started
        for head, fut, started, _ in queue:
            yield head, fut, started


Group = list[tuple[Prepared | IngestOutcome, float]]


def _parsed(group: Group) -> list[Prepared]:
    return [p for p, _ in group if isinstance(p, Prepared)]


def _chunks(group: list[tuple[Prepared | IngestOutcome, float]]) -> int:
    return sum(len(p.chunks) for p in _parsed(group))


def _failed(p: Prepared, reason: str) -> IngestOutcome:
    return IngestOutcome(p.name, "failed", reason=reason)


def _size_or_zero(source: Source) -> int:
    """A file's size for the prefetch budget; unreadable files are reported by _prepare."""
    try:
        return source.size()
    except IngestError:
        return 0
