"""The naive LlamaIndex pipeline, as a same-run baseline for `kb eval golden --baseline naive`.

Exactly what a LlamaIndex user gets from the quick start, with kb's embedding model:
`SimpleDirectoryReader` (for PDFs, llama-index-readers-file's `PDFReader`: pypdf text, one
document per page), `VectorStoreIndex.from_documents` with its default transformation
(`SentenceSplitter()`: 1,024 tokens, 200 overlap) into the in-memory vector store, and a
dense retriever (`similarity_top_k=k`). Nothing else: no keyword leg, no reranking.

`kb/bench/naive.py` times the same steps phase by phase for `kb bench ingest` (parse, split,
embed, index); this one is what a LlamaIndex user would type, retrieval included.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.node_parser import SentenceSplitter

from kb.search.retrieval import Hit


def physical_pages(path: Path) -> dict[str, int]:
    """A PDF's page labels ("iii", "F-1", "12") -> 1-based page index, the first of each.

    PDFReader records a page's *label*; the golden files count pages from 1, so a label
    is mapped back to where it stands, or the baseline would be scored on the wrong page."""
    from pypdf import PdfReader

    out: dict[str, int] = {}
    for n, label in enumerate(PdfReader(str(path)).page_labels, 1):
        out.setdefault(str(label), n)
    return out


@dataclass
class NaivePipeline:
    """The built baseline: its retriever, and what building it cost."""

    index: Any
    seconds: float
    pages: int
    chunks: int
    labels: dict[str, dict[str, int]]

    def search(self, query: str, k: int) -> list[Hit]:
        """The top `k` chunks by cosine, as kb's Hit (file name and 1-based page)."""
        hits = []
        for n in self.index.as_retriever(similarity_top_k=k).retrieve(query):
            meta = n.node.metadata
            name = str(meta.get("file_name", ""))
            label = str(meta.get("page_label", ""))
            page = self.labels.get(name, {}).get(label)
            if page is None and label.isdigit():
                page = int(label)
            hits.append(Hit(n.node.node_id, name, name, page, "", n.node.get_content(),
                            float(n.score or 0.0)))  # fmt: skip
        return hits


def build_naive(files: list[Path], embed_model: BaseEmbedding) -> NaivePipeline:
    """Read, split, embed and index `files` the LlamaIndex default way; timed."""
    started = time.perf_counter()
    documents = SimpleDirectoryReader(input_files=[str(f) for f in files]).load_data()
    splitter = SentenceSplitter()  # the default transformation, passed explicitly
    index = VectorStoreIndex.from_documents(
        documents, embed_model=embed_model, transformations=[splitter]
    )
    seconds = time.perf_counter() - started
    labels = {f.name: physical_pages(f) for f in files if f.suffix.lower() == ".pdf"}
    chunks = len(index.docstore.docs)
    return NaivePipeline(index, seconds, len(documents), chunks, labels)
