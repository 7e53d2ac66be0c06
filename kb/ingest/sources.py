"""Where files to ingest come from: a path on disk, or a name with its bytes (an upload)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kb.backends.blobs import BlobStore
from kb.errors import IngestError, NotFoundError
from kb.index.ids import doc_id_for
from kb.index.registry import Document, Registry
from kb.ingest.blocks import Block
from kb.ingest.sniff import EXTENSIONS


@dataclass
class Source:
    """A file to ingest: a path on disk, or a name with its bytes (an upload)."""

    name: str
    data: bytes | None = None
    path: Path | None = None
    blocks: list[Block] | None = None  # already parsed (benchmarks): skips sniffing and parsing
    # Where it comes from: a file's absolute path (its identity); None for an upload.
    origin: str | None = None
    # The document it is a version of, when that is known already (re-index, recovery).
    doc_id: str | None = None

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


def expand_paths(paths: Sequence[str | Path]) -> list[Source]:
    """Sources for files and folders (folders: every supported file inside, recursively)."""
    sources: list[Source] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for f in sorted(path.rglob("*")):
                rel = f.relative_to(path)
                hidden = any(part.startswith(".") for part in rel.parts)
                if f.is_file() and not hidden and f.suffix.lower() in EXTENSIONS:
                    # Shown by its path inside the folder: hr/notes.md beside it/notes.md.
                    sources.append(Source(rel.as_posix(), path=f, origin=str(f.resolve())))
        elif path.is_file():
            sources.append(Source(path.name, path=path, origin=str(path.resolve())))
        else:
            raise IngestError(f"{path}: no such file or folder")
    return sources


def stored_sources(
    docs: Sequence[Document], originals: BlobStore, key_of: Callable[[Document], str]
) -> list[Source]:
    """Sources for re-indexing documents from their stored originals (NotFoundError names
    the first one missing, before anything is written)."""
    sources = []
    for doc in docs:
        key = key_of(doc)
        if not originals.exists(key):
            raise NotFoundError(f"the stored original of {doc.name} is missing; upload it again")
        # A folder's file is read when its turn comes; S3 bytes are fetched now.
        path = originals.path_of(key)
        data = None if path else originals.read(key)
        sources.append(Source(doc.name, data=data, path=path, origin=doc.source, doc_id=doc.doc_id))
    return sources


def batch_key(source: Source) -> str:
    """The document a source would be, without asking the registry (for batch duplicates)."""
    return source.doc_id or doc_id_for(source.name, source.origin)


def identify(source: Source, registry: Registry) -> str:
    """The id of the document `source` is a version of: given (re-index, recovery), known by
    its source path, or new. A file read from a folder takes over a document of the same
    name that has no source yet: an upload, or a document indexed before identity by source,
    so an upgraded data dir keeps its ids and re-ingesting a folder replaces, not duplicates."""
    if source.doc_id:
        return source.doc_id
    if source.origin is None:
        return doc_id_for(source.name)
    known = registry.by_source(source.origin)
    if known is not None:
        return known.doc_id
    earlier = registry.get(doc_id_for(source.name))
    if earlier is not None and earlier.source is None:
        return earlier.doc_id
    return doc_id_for(source.name, source.origin)
