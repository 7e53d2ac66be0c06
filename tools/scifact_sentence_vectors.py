"""Reproduce BENCHMARKS.md's "sentence-level dense vectors" table on BEIR SciFact.

An experiment, not part of kb: does scoring a document by its best sentence, beside its best
chunk, help the hybrid? Every document is scored exactly (numpy over all vectors), so the
figures are upper bounds for an approximate index. Chunks come from kb's own chunker, the
keyword leg is kb's BM25, the metrics are kb's.

Usage, from the repository root (after `make install`):

    .venv/bin/python tools/scifact_sentence_vectors.py [--data ../shared/data/scifact]
        [--cache DATA/embeddings.sqlite]

Vectors are cached by model and text in --cache (kb's embedding cache: point it at the data
dir of an earlier `kb eval beir` run to reuse the chunk vectors). A cold run embeds ~10k
chunks and ~90k sentences: about 30 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from kb.backends.embedding import MiniLMEmbedding
from kb.config import Settings
from kb.eval.beir import BeirData, corpus_sources, load_beir
from kb.eval.metrics import mean, ndcg_at_k, recall_at_k
from kb.index.keyword import KeywordIndex
from kb.ingest.chunking import chunk_blocks, search_text
from kb.ingest.embed_cache import EmbeddingCache
from kb.ingest.nlp import sent_tokenize

CANDIDATES = 100  # per leg, as kb's default KB_CANDIDATES


def best_per_doc(scores: np.ndarray, owner: np.ndarray, n_docs: int) -> np.ndarray:
    """Each document's best score among its units (chunks or sentences)."""
    out = np.full(n_docs, -np.inf, dtype=np.float32)
    np.maximum.at(out, owner, scores.astype(np.float32))
    return out


def top_minmax(x: np.ndarray, k: int) -> np.ndarray:
    """Min-max over the top `k`; the rest 0, as a leg that missed a document contributes."""
    top = np.argpartition(-x, k)[:k]
    lo, hi = x[top].min(), x[top].max()
    out = np.zeros_like(x)
    out[top] = (x[top] - lo) / (hi - lo) if hi > lo else 1.0
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data/scifact"))
    ap.add_argument("--cache", type=Path, default=Path("data/embeddings.sqlite"))
    args = ap.parse_args()
    s = Settings()
    splits = {sp: load_beir(args.data, sp) for sp in ("train", "test")}
    data: BeirData = splits["test"]
    docs = list(data.corpus)
    pos = {d: i for i, d in enumerate(docs)}
    chunks, chunk_owner, sents, titled, sent_owner = [], [], [], [], []
    for src in corpus_sources(data):
        did = src.name[: -len(".txt")]
        for c in chunk_blocks(src.blocks, s.chunk_size, s.chunk_overlap):
            chunks.append(search_text(src.name, c.heading, c.text))
            chunk_owner.append(pos[did])
        title, text = data.corpus[did]
        for sentence in [x.strip() for x in sent_tokenize(text) if x.strip()] or [title]:
            sents.append(sentence)
            titled.append(f"{title}: {sentence}")
            sent_owner.append(pos[did])
    model = MiniLMEmbedding(embed_batch_size=s.embed_batch_size)
    cache = EmbeddingCache(args.cache, model.model_name)

    def vectors(texts: list[str], what: str) -> np.ndarray:
        print(f"{what}: {len(texts)} texts", flush=True)
        got, _ = cache.embed(texts, model.get_text_embedding_batch)
        return np.asarray(got, dtype=np.float32)

    C, S, T = vectors(chunks, "chunks"), vectors(sents, "sentences"), vectors(titled, "titled")
    c_own, s_own = np.array(chunk_owner), np.array(sent_owner)
    keyword = KeywordIndex.build([str(i) for i in range(len(chunks))], chunks, 1, (1.5, 0.75))
    n = len(docs)

    def run(split: str, combine) -> tuple[float, float]:  # type: ignore[no-untyped-def]
        d = splits[split]
        qids = list(d.qrels)
        Q = np.asarray(model.get_text_embedding_batch([d.queries[q] for q in qids]))
        nd, rc = [], []
        for qv, q in zip(Q, qids, strict=True):
            bm = np.zeros(n, dtype=np.float32)
            for cid, sc in keyword.search(d.queries[q], 1000):
                j = c_own[int(cid)]
                bm[j] = max(bm[j], sc)
            legs = {
                "chunk": best_per_doc(C @ qv, c_own, n),
                "sent": best_per_doc(S @ qv, s_own, n),
                "titled": best_per_doc(T @ qv, s_own, n),
                "bm25": bm,
            }
            ranked = [docs[i] for i in np.argsort(-combine(legs))[:100]]
            nd.append(ndcg_at_k(ranked, d.qrels[q], 10))
            rc.append(recall_at_k(ranked, d.qrels[q], 100))
        return mean(nd), mean(rc)

    def hybrid(dense_of, w: float):  # type: ignore[no-untyped-def]
        return lambda L: (
            w * top_minmax(dense_of(L), CANDIDATES) + (1 - w) * top_minmax(L["bm25"], CANDIDATES)
        )

    rows = [
        ("best chunk only (dense leg alone)", lambda L: L["chunk"]),
        ("best sentence only (dense leg alone)", lambda L: L["sent"]),
        ("best titled sentence only (dense leg alone)", lambda L: L["titled"]),
        (
            "0.5 chunk + 0.5 sentence (dense leg alone)",
            lambda L: 0.5 * L["chunk"] + 0.5 * L["sent"],
        ),
        ("hybrid: best chunk, fused 0.4 / 0.6", hybrid(lambda L: L["chunk"], 0.4)),
        ("hybrid: best titled sentence, fused 0.5 / 0.5", hybrid(lambda L: L["titled"], 0.5)),
        (
            "hybrid: 0.5 chunk + 0.5 sentence, fused 0.5 / 0.5",
            hybrid(lambda L: 0.5 * L["chunk"] + 0.5 * L["sent"], 0.5),
        ),
    ]
    print(
        f"{'SciFact, document-level':55} {'train nDCG@10':>14} {'test nDCG@10':>13} {'test R@100':>11}"
    )
    for label, combine in rows:
        (tr, _), (te, te_r) = run("train", combine), run("test", combine)
        print(f"{label:55} {tr:14.4f} {te:13.4f} {te_r:11.4f}", flush=True)


if __name__ == "__main__":
    main()
