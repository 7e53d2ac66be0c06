"""Embeddings cached by (model, text hash) so unchanged text is never embedded twice."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from kb.index.ids import text_key


class EmbeddingCache:
    """float32 vectors in SQLite, keyed by model name and the sha256 of the text."""

    def __init__(self, path: Path, model: str) -> None:
        self.path, self.model = path, model
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._conn() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS vectors (model TEXT, key TEXT, vec BLOB, "
                "PRIMARY KEY (model, key))"
            )

    def _conn(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    def get_many(self, texts: Sequence[str]) -> dict[str, list[float]]:
        """Cached vectors of `texts`, by text key; misses are absent."""
        keys = list({text_key(t) for t in texts})
        found: dict[str, list[float]] = {}
        conn = self._conn()
        try:
            for start in range(0, len(keys), 500):  # SQLite caps bound parameters
                part = keys[start : start + 500]
                rows = conn.execute(
                    f"SELECT key, vec FROM vectors WHERE model=? AND key IN "
                    f"({','.join('?' * len(part))})",
                    [self.model, *part],
                ).fetchall()
                for key, blob in rows:
                    found[key] = np.frombuffer(blob, dtype=np.float32).tolist()
        finally:
            conn.close()
        return found

    def put_many(self, texts: Sequence[str], vectors: Sequence[Sequence[float]]) -> None:
        """Store vectors for texts."""
        rows = [
            (self.model, text_key(t), np.asarray(v, dtype=np.float32).tobytes())
            for t, v in zip(texts, vectors, strict=True)
        ]
        conn = self._conn()
        try:
            with conn:
                conn.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)
        finally:
            conn.close()

    def embed(
        self, texts: Sequence[str], embed_batch: Callable[[list[str]], list[list[float]]]
    ) -> tuple[list[list[float]], set[str]]:
        """Vectors for `texts`, embedding only the uncached ones; returns (vectors, the texts
        that were embedded now)."""
        cached = self.get_many(texts)
        missing = list(dict.fromkeys(t for t in texts if text_key(t) not in cached))
        if missing:
            fresh = embed_batch(missing)
            self.put_many(missing, fresh)
            cached.update({text_key(t): v for t, v in zip(missing, fresh, strict=True)})
        return [cached[text_key(t)] for t in texts], set(missing)
