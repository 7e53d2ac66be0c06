"""The keyword leg: a BM25 index (bm25s) over chunk texts, saved beside the registry."""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from kb.index.ids import split_chunk_id

# Stemming and English stop words: "expenses" finds "expense", "the" finds nothing.
_STEMMER = Stemmer.Stemmer("english")
# Lucene's 33 English stop words. A longer list with question words ("how", "many", "do")
# measured worse on sample_docs/questions.yaml (page MRR 0.892 vs 0.917, 42 vs 44 answers
# holding the fact) and no better on SciFact train (keyword nDCG@10 0.691 vs 0.690).
_STOPWORDS = "en"
_stem_lock = threading.Lock()  # PyStemmer objects are not thread-safe
# Bumped whenever tokenize() or the indexed text changes: a saved index of another version is
# rebuilt on load.
# 2: underscores split words, so a spreadsheet column "hotel_cap_per_night" matches "hotel cap".
# 3: a fiscal period glued to its year splits ("FY2018" -> "FY 2018", "2023Q2" -> "2023 Q2"),
#    so a question about FY2018 matches a filing of 2018.
# 4: a page's later passages are indexed after the page's first words (kb.index.text).
TOKENIZER_VERSION = 4
# Two or more letters before a year, or a year before a letter: never "3M" or "10K", which
# would split into single characters and vanish.
_GLUED_YEAR = re.compile(
    r"(?<=[A-Za-z]{2})(?=(?:19|20)\d\d(?!\d))|(?<=(?<!\d)(?:19|20)\d\d)(?=[A-Za-z])"
)


def split_words(text: str) -> str:
    """Words as the keyword leg sees them: underscores and glued years split."""
    return _GLUED_YEAR.sub(" ", text.replace("_", " "))


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, stop-word-free, stemmed tokens of each text (underscores and glued years
    split words)."""
    with _stem_lock:
        return bm25s.tokenize(  # type: ignore[no-any-return]
            [split_words(t) for t in texts],
            stopwords=_STOPWORDS,
            stemmer=_STEMMER,
            return_ids=False,
            show_progress=False,
        )


Params = tuple[float, float]  # BM25's (k1, b), from Settings.bm25_k1 and bm25_b


class KeywordIndex:
    """An immutable BM25 index over chunk ids; writers build a new one and swap it in."""

    def __init__(
        self,
        ids: list[str],
        retriever: bm25s.BM25 | None,
        generation: int,
        params: Params,
    ) -> None:
        self.ids = ids
        self.retriever = retriever
        self.generation = generation
        self.params = params
        self._pos = {cid: i for i, cid in enumerate(ids)}
        self._docs: np.ndarray | None = None

    def mask(self, allowed: set[str] | None, forbidden: set[str]) -> np.ndarray | None:
        """One bool per id: True where the chunk's document is allowed (None: no mask)."""
        if allowed is None:
            return None
        if self._docs is None:
            # Each chunk's document, worked out once per index rather than per query.
            self._docs = np.array([split_chunk_id(cid)[0] for cid in self.ids], dtype=object)
        if len(forbidden) < len(allowed):
            return ~np.isin(self._docs, list(forbidden))
        return np.isin(self._docs, list(allowed))

    @classmethod
    def build(
        cls, ids: list[str], texts: list[str], generation: int, params: Params
    ) -> KeywordIndex:
        """Index `texts` (one per id) with BM25 `params` (k1, b)."""
        if not ids:
            return cls([], None, generation, params)
        retriever = bm25s.BM25(k1=params[0], b=params[1])
        retriever.index(tokenize(texts), show_progress=False)
        return cls(ids, retriever, generation, params)

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Up to `k` (chunk id, BM25 score) pairs with a score above 0, best first;
        `mask` (one bool per id) hides chunks the caller may not see."""
        if self.retriever is None or not self.ids:
            return []
        tokens = tokenize([query])[0]
        if not tokens:
            return []
        scores = self.retriever.get_scores(tokens)
        if mask is not None:
            # Masked chunks score 0 before top-k is taken, and 0s are never returned.
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(self.ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def share(self, tokens: Sequence[str]) -> dict[str, float]:
        """Each (already tokenized) term's share of the indexed passages that hold it (0 for
        a term no passage holds)."""
        r = self.retriever
        if r is None or not self.ids:
            return dict.fromkeys(tokens, 0.0)
        indptr, vocab = r.scores["indptr"], r.vocab_dict
        out = {}
        for t in tokens:
            i = vocab.get(t)
            out[t] = 0.0 if i is None else float(indptr[i + 1] - indptr[i]) / len(self.ids)
        return out

    def save(self, folder: Path) -> None:
        """Write the index to `folder` atomically (a new folder renamed into place)."""
        tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}-{threading.get_ident()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self.retriever is not None:
            self.retriever.save(str(tmp / "bm25"))
        meta = {
            "generation": self.generation,
            "tokenizer": TOKENIZER_VERSION,
            "bm25": list(self.params),
            "ids": self.ids,
        }
        (tmp / "ids.json").write_text(json.dumps(meta))
        old = folder.with_name(f"{folder.name}.old-{os.getpid()}-{threading.get_ident()}")
        try:
            if folder.exists():
                folder.rename(old)
            tmp.rename(folder)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)  # another saver won the race: fine
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path, params: Params) -> KeywordIndex | None:
        """The saved index, or None when there is none, it is unreadable or it was built by
        another version of tokenize() or with other BM25 `params`."""
        try:
            meta = json.loads((folder / "ids.json").read_text())
            if meta.get("tokenizer") != TOKENIZER_VERSION or meta.get("bm25") != list(params):
                return None
            ids = meta["ids"]
            retriever = bm25s.BM25.load(str(folder / "bm25")) if ids else None
            return cls(ids, retriever, int(meta["generation"]), params)
        except (OSError, ValueError, KeyError):
            return None
