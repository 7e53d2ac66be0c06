"""Ingestion: bytes -> blocks -> chunks -> embeddings -> Chroma + registry, one file at a time,
parsing the next file while the current one embeds."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

from kb.access import EVERYONE
from kb.chunking import Chunk, chunk_blocks, search_text
from kb.config import Settings
from kb.embed_cache import EmbeddingCache
from kb.errors import IngestError, KBError
from kb.guards import check_pdf, check_text, check_zip, display_name
from kb.ids import chunk_id, doc_id_for, sha256_hex
from kb.parsing import PAGED_KINDS, Block, parse
from kb.registry import Document, Registry
from kb.sniff import decode_text, sniff
from kb.store import ChunkStore

log = logging.getLogger(__name__)

# Bump when parsing or chunking changes the chunks a file yields: it changes every version
# tag, so `kb reindex --all` rebuilds everything while unchanged text keeps its cached vectors.
PIPELINE_VERSION = "5"
PREFETCH = 2  # files parsed ahead of the one being embedded
# Small files are embedded together: the model is ~2x faster per text in batches of 64 than 4.
EMBED_GROUP = 64
ZIP_KINDS = {"docx", "pptx", "xlsx"}


@dataclass
class Source:
    """A file to ingest: a path on disk, or a name with its bytes (an upload)."""

    name: str
    data: bytes | None = None
    path: Path | None = None
    blocks: list[Block] | None = None  # already parsed (benchmarks): skips sniffing and parsing

    def size(self) -> int:
        """The file's size in bytes, without reading a file on disk."""
        if self.data is not None:
            return len(self.data)
        assert self.path is not None
        try:
            return self.path.stat().st_size
        except OSError as exc:
            raise IngestError(f"cannot read {self.path}: {exc.strerror}") from exc

    def read(self) -> bytes:
        """The file's bytes."""
        if self.data is not None:
            return self.data
        assert self.path is not None
        try:
            return self.path.read_bytes()
        except OSError as exc:
            raise IngestError(f"cannot read {self.path}: {exc.strerror}") from exc


@dataclass
class IngestOutcome:
    """What happened to one file: indexed, unchanged, replaced, reindexed or failed."""

    name: str
    status: str
    doc_id: str | None = None
    chunks: int = 0
    embedded: int = 0
    reason: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the file is in the index as it should be."""
        return self.status != "failed"

    def message(self) -> str:
        """One line for people."""
        if self.status == "failed":
            return f"{self.name}: failed: {self.reason}"
        if self.status == "unchanged":
            return f"{self.name}: unchanged (already indexed)"
        extra = " (old version removed)" if self.status == "replaced" else ""
        return f"{self.name}: {self.status} ({self.chunks} chunks){extra}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass
class _Prepared:
    source: Source
    data: bytes
    doc_id: str
    sha: str
    version: str
    kind: str
    chunks: list[Chunk]
    pages: int | None
    old: Document | None


Progress = Callable[[int, int, IngestOutcome], None]


_SAFE_SUFFIX = re.compile(r"\.[a-z0-9]{1,10}")


def original_file(folder: Path, doc_id: str, version: str, name: str, kind: str) -> Path:
    """The stored original of a version: folder/doc_id/version + a safe extension."""
    suffix = PurePath(name.replace("\\", "/")).suffix.lower()
    if not _SAFE_SUFFIX.fullmatch(suffix):
        suffix = f".{kind}"
    return folder / doc_id / f"{version}{suffix}"


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file whole or not at all: a temporary file renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class Ingestor:
    """Adds, replaces and re-indexes documents so readers always see one whole version."""

    def __init__(
        self,
        settings: Settings,
        registry: Registry,
        store: ChunkStore,
        cache: EmbeddingCache,
        embed_model: BaseEmbedding,
        originals: Path,
    ) -> None:
        self.settings, self.registry, self.store = settings, registry, store
        self.cache, self.embed_model, self.originals = cache, embed_model, originals
        self._groups: tuple[str, ...] | None = None  # of the run in progress (None: keep)

    def version_for(self, sha: str) -> str:
        """Version tag: the bytes plus the chunking settings and pipeline that cut them."""
        s = self.settings
        recipe = f"{PIPELINE_VERSION}:{s.chunk_size}:{s.chunk_overlap}"
        return f"{sha[:12]}{hashlib.sha1(recipe.encode()).hexdigest()[:4]}"

    def original_path(self, doc: Document) -> Path:
        """Where a version's original bytes are kept: named by id and version only, so the
        uploaded file name (display data) never becomes part of a path."""
        return original_file(self.originals, doc.doc_id, doc.version, doc.name, doc.kind)

    def _check_size(self, size: int) -> None:
        limit = self.settings.max_upload_bytes
        if size > limit:
            raise IngestError(
                f"the file is {size / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB limit "
                "(KB_MAX_UPLOAD_MB); split it or raise the limit"
            )

    def _prepare(self, source: Source, reindex: bool) -> _Prepared | IngestOutcome:
        self._check_size(source.size())  # before reading: a huge file is never loaded
        data = source.read()
        self._check_size(len(data))  # it may have grown since
        doc_id, sha = doc_id_for(source.name), sha256_hex(data)
        version = self.version_for(sha)
        old = self.registry.get(doc_id)
        if old and old.version == version and not reindex:
            if self._groups is not None and self._groups != old.groups:
                self.registry.set_groups(doc_id, self._groups)
                reason = f"access groups set to {', '.join(self._groups)}"
                return IngestOutcome(source.name, "unchanged", doc_id, old.chunks, reason=reason)
            return IngestOutcome(source.name, "unchanged", doc_id, old.chunks)
        if source.blocks is not None:
            kind, blocks = "txt", source.blocks
        else:
            kind = sniff(data, source.name)
            if kind in ZIP_KINDS:
                check_zip(data, self.settings)
            elif kind == "pdf":
                check_pdf(data)
            else:
                check_text(len(decode_text(data)), self.settings)  # before parsing it
            blocks = parse(kind, data, source.name)
        check_text(sum(len(b.text) for b in blocks), self.settings)
        chunks = chunk_blocks(blocks, self.settings.chunk_size, self.settings.chunk_overlap)
        pages = [c.page for c in chunks if c.page] if kind in PAGED_KINDS else []
        return _Prepared(
            source, data, doc_id, sha, version, kind, chunks, max(pages, default=None), old
        )

    def _nodes(self, p: _Prepared, vectors: list[list[float]]) -> list[TextNode]:
        name = p.source.name
        nodes = []
        for i, (c, vec) in enumerate(zip(p.chunks, vectors, strict=True)):
            meta: dict[str, Any] = {
                "doc_id": p.doc_id,
                "name": name,
                "version": p.version,
                "kind": p.kind,
                "heading": c.heading,
                "element_types": ",".join(c.element_types),
                "chunk_index": i,
            }
            if c.page:
                meta["page"] = c.page  # Chroma metadata cannot hold None
            nodes.append(
                TextNode(
                    id_=chunk_id(p.doc_id, p.version, i),
                    text=c.text,
                    embedding=vec,
                    metadata=meta,
                    # LlamaIndex writes the source's id as Chroma's `doc_id` field (and would
                    # write "None" over ours without it): deletes and hits rely on it.
                    relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=p.doc_id)},
                    excluded_embed_metadata_keys=list(meta),
                    excluded_llm_metadata_keys=list(meta),
                )
            )
        return nodes

    def _commit(self, p: _Prepared, vectors: list[list[float]]) -> IngestOutcome:
        name = p.source.name
        nodes = self._nodes(p, vectors)
        doc = Document(
            doc_id=p.doc_id,
            name=name,
            kind=p.kind,
            size=len(p.data),
            sha256=p.sha,
            version=p.version,
            pages=p.pages,
            chunks=len(nodes),
            ingested_at=datetime.now(UTC).isoformat(timespec="seconds"),
            # New documents are open to everyone unless the uploader said otherwise; a new
            # version keeps the groups of the one it replaces.
            groups=self._groups or (p.old.groups if p.old else (EVERYONE,)),
        )
        same_version = p.old is not None and p.old.version == p.version
        path = self.original_path(doc)
        # The journal row names the work until it is whole: a crash anywhere below leaves it,
        # and recovery (kb.integrity) resumes from the saved original or reports it.
        self.registry.begin(p.doc_id, p.version, "ingest", name, doc.groups)
        try:
            write_atomic(path, p.data)
            if same_version:
                # A forced re-index of identical chunks: rewrite them in place, ids unchanged,
                # so readers never see the document missing.
                self.store.upsert(nodes)
            else:
                self.store.add(nodes)
            self.registry.upsert(doc)  # the switch: from here readers see the new version
        except BaseException:
            if not same_version:
                self.store.delete_version(p.doc_id, p.version)
                path.unlink(missing_ok=True)
            self.registry.end(p.doc_id, p.version)
            raise
        status = "indexed"
        if p.old and not same_version:
            # The new version is live; a failed clean-up leaves only invisible chunks,
            # which KnowledgeBase.repair() removes after the batch.
            try:
                self.store.delete_version(p.old.doc_id, p.old.version)
                self.original_path(p.old).unlink(missing_ok=True)
            except (KBError, OSError) as exc:
                log.warning("clean-up of the old version of %s failed: %s", name, exc)
            status = "replaced" if p.old.sha256 != p.sha else "reindexed"
        elif same_version:
            status = "reindexed"
        self.registry.end(p.doc_id, p.version)
        return IngestOutcome(name, status, p.doc_id, len(nodes))

    def run(
        self,
        sources: Iterable[Source],
        progress: Progress | None = None,
        reindex: bool = False,
        groups: tuple[str, ...] | None = None,
    ) -> list[IngestOutcome]:
        """Ingest every source (new ones open to `groups`, default everyone; None keeps a
        replaced document's groups); a failed file is reported and the rest go on."""
        self._groups = groups
        try:
            return self._run(list(sources), progress, reindex)
        finally:
            self._groups = None

    def _run(
        self, items: list[Source], progress: Progress | None, reindex: bool
    ) -> list[IngestOutcome]:
        # Names are labels from here on: cleaned once, never joined to a path.
        items = [replace(s, name=display_name(s.name)) for s in items]
        outcomes: list[IngestOutcome] = []
        last = {doc_id_for(s.name): n for n, s in enumerate(items)}
        for n, s in enumerate(items):
            if last[doc_id_for(s.name)] != n:
                reason = "another file in this batch has the same name; the last one was used"
                outcomes.append(IngestOutcome(s.name, "failed", reason=reason))
        items = [s for n, s in enumerate(items) if last[doc_id_for(s.name)] == n]
        total = len(items) + len(outcomes)

        def done(outcome: IngestOutcome, started: float) -> None:
            outcome.seconds = time.perf_counter() - started
            outcomes.append(outcome)
            if progress:
                progress(len(outcomes), total, outcome)

        group: list[tuple[_Prepared, float]] = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kb-parse") as pool:
            for source, future, started in self._prefetch(pool, items, reindex):
                try:
                    prepared = future.result()
                except KBError as exc:
                    done(IngestOutcome(source.name, "failed", reason=str(exc)), started)
                    continue
                if isinstance(prepared, IngestOutcome):
                    done(prepared, started)
                    continue
                group.append((prepared, started))
                if sum(len(p.chunks) for p, _ in group) >= EMBED_GROUP:
                    self._commit_group(group, done)
                    group = []
            self._commit_group(group, done)
        return outcomes

    def _commit_group(
        self, group: list[tuple[_Prepared, float]], done: Callable[[IngestOutcome, float], None]
    ) -> None:
        """Embed the chunks of several small files in one batch, then commit each file."""
        if not group:
            return
        texts = [search_text(p.source.name, c.heading, c.text) for p, _ in group for c in p.chunks]
        try:
            vectors, fresh = self.cache.embed(texts, self.embed_model.get_text_embedding_batch)
        except Exception as exc:  # the model failing fails these files, not the batch
            for p, started in group:
                done(
                    IngestOutcome(p.source.name, "failed", reason=f"embedding failed: {exc}"),
                    started,
                )
            return
        offset = 0
        for p, started in group:
            mine = vectors[offset : offset + len(p.chunks)]
            own = set(texts[offset : offset + len(p.chunks)])
            offset += len(p.chunks)
            try:
                outcome = self._commit(p, mine)
            except KBError as exc:
                outcome = IngestOutcome(p.source.name, "failed", reason=str(exc))
            # A text shared by two files was embedded once: count it for the first of them.
            outcome.embedded = len(own & fresh)
            fresh -= own
            done(outcome, started)

    def _prefetch(
        self,
        pool: ThreadPoolExecutor,
        items: list[Source],
        reindex: bool,
    ) -> Iterator[tuple[Source, Future[_Prepared | IngestOutcome], float]]:
        queue: deque[tuple[Source, Future[_Prepared | IngestOutcome], float]] = deque()
        for source in items:
            queue.append((source, pool.submit(self._prepare, source, reindex), time.perf_counter()))
            if len(queue) > PREFETCH:
                yield queue.popleft()
        while queue:
            yield queue.popleft()
