"""Where files to ingest come from: a path on disk, or a name with its bytes (an upload)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kb.backends.blobs import BlobStore
from kb.errors import IngestError, NotFoundError
from kb.index.registry import Document
from kb.ingest.blocks import Block
from kb.ingest.sniff import EXTENSIONS


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
        sources.append(Source(doc.name, data=None if path else originals.read(key), path=path))
    return sources
