"""The naive LlamaIndex pipeline, kb's same-run baseline on real documents: pypdf text per page
(what LlamaIndex's PDFReader does), `SentenceSplitter()` defaults, the same embedding model,
LlamaIndex's default in-memory vector index. Nothing of kb's parsing, chunking or storage."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from pathlib import Path

from llama_index.core.base.embeddings.base import BaseEmbedding

from kb.ingest.sniff import TEXT_KINDS, decode_text, sniff


@dataclass
class NaiveRun:
    """What the naive pipeline did, and how long each part took."""

    files: int = 0
    skipped: list[str] = field(default_factory=list)  # files it could not read
    pages: int = 0
    chunks: int = 0
    parse_seconds: float = 0.0
    split_seconds: float = 0.0
    embed_seconds: float = 0.0
    index_seconds: float = 0.0

    @property
    def seconds(self) -> float:
        """The whole run."""
        return self.parse_seconds + self.split_seconds + self.embed_seconds + self.index_seconds


def _documents(path: Path) -> list[object]:
    from llama_index.core import Document

    data = path.read_bytes()
    kind = sniff(data, path.name)
    if kind == "pdf":
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        return [
            Document(text=page.extract_text() or "", metadata={"file": path.name, "page": n})
            for n, page in enumerate(reader.pages, 1)
        ]
    if kind in TEXT_KINDS:
        return [Document(text=decode_text(data), metadata={"file": path.name})]
    raise ValueError(f"the naive pipeline reads PDFs and text only, not {kind}")


def run_naive(paths: list[Path], embed_model: BaseEmbedding) -> NaiveRun:
    """Read, split, embed and index `paths` the naive way; a file it cannot read is skipped
    (and listed), as a default pipeline would leave it out."""
    from llama_index.core import VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.schema import MetadataMode

    run = NaiveRun(files=len(paths))
    docs: list[object] = []
    started = time.perf_counter()
    for path in paths:
        try:
            found = _documents(path)
        except Exception as exc:  # the baseline's own failures are counted, not fixed
            run.skipped.append(f"{path.name}: {type(exc).__name__}: {str(exc)[:80]}")
            continue
        run.pages += len(found)
        docs += found
    run.parse_seconds = time.perf_counter() - started

    started = time.perf_counter()
    nodes = SentenceSplitter().get_nodes_from_documents(docs)  # type: ignore[arg-type]
    run.chunks = len(nodes)
    run.split_seconds = time.perf_counter() - started

    started = time.perf_counter()
    # What VectorStoreIndex would embed: the text with its metadata ("file: ... page: ...").
    texts = [n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]
    vectors = embed_model.get_text_embedding_batch(texts)
    for node, vec in zip(nodes, vectors, strict=True):
        node.embedding = vec
    run.embed_seconds = time.perf_counter() - started

    started = time.perf_counter()
    VectorStoreIndex(nodes, embed_model=embed_model)  # vectors given: nothing re-embedded
    run.index_seconds = time.perf_counter() - started
    return run
