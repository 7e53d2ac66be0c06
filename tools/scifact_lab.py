"""Offline fusion lab on BEIR SciFact: every variant of BENCHMARKS.md's 2026-12 table, tuned on
train and reported on test, over kb's own chunker, BM25 tokenizer, embedding cache and metrics.

An experiment, not part of kb. Each document is scored exactly (numpy over all vectors).

    .venv/bin/python tools/scifact_lab.py --cache DATA/embeddings.sqlite [--windows]

Point --cache at the data dir of an earlier `kb eval beir` run so the chunk vectors come from
its cache; --windows also embeds sentence windows (about as many tokens as the chunks).
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable
from pathlib import Path

import bm25s
import numpy as np

from kb.backends.embedding import MiniLMEmbedding
from kb.config import Settings
from kb.eval.beir import corpus_sources, load_beir
from kb.eval.metrics import mean, mrr_at_k, ndcg_at_k, recall_at_k
from kb.index.keyword import tokenize
from kb.index.text import search_text, title_of
from kb.ingest.chunking import chunk_blocks, split_sentences
from kb.ingest.embed_cache import EmbeddingCache
from kb.ingest.nlp import sent_tokenize

CANDIDATES = 100  # per leg, kb's KB_CANDIDATES

Legs = dict[str, np.ndarray]  # view name -> (queries, docs) scores


def per_doc_max(scores: np.ndarray, owner: np.ndarray, n_docs: int) -> np.ndarray:
    """(queries, units) -> (queries, docs): each document's best unit."""
    out = np.full((scores.shape[0], n_docs), -np.inf, dtype=np.float32)
    for j in range(scores.shape[0]):
        np.maximum.at(out[j], owner, scores[j])
    return out


def norm(x: np.ndarray, how: str, k: int = CANDIDATES) -> np.ndarray:
    """Per query: scale the top `k` scores, the rest 0 (a leg that missed a document)."""
    out = np.zeros_like(x)
    for j in range(x.shape[0]):
        row = x[j]
        top = np.argpartition(-row, k)[:k]
        v = row[top]
        if how == "minmax":
            lo, hi = v.min(), v.max()
            s = (v - lo) / (hi - lo) if hi > lo else np.ones_like(v)
        elif how == "max":  # theoretical minimum 0 (TM2C2 of Bruch et al.)
            s = np.clip(v, 0, None) / max(v.max(), 1e-9)
        elif how == "z":
            s = (v - v.mean()) / (v.std() + 1e-9)
            s = s - s.min()
        elif how == "rank":
            s = 1.0 / (60 + np.argsort(np.argsort(-v)) + 1)
        else:
            raise ValueError(how)
        out[j, top] = s
    return out


def evaluate(
    scores: np.ndarray, qids: list[str], docs: list[str], qrels: dict[str, dict[str, int]]
) -> tuple[float, float, float]:
    """Mean nDCG@10, Recall@100, MRR@10 of a (queries, docs) score matrix."""
    nd, rc, mr = [], [], []
    for j, q in enumerate(qids):
        top = np.argpartition(-scores[j], 100)[:100]
        ranked = [docs[i] for i in top[np.argsort(-scores[j][top], kind="stable")]]
        nd.append(ndcg_at_k(ranked, qrels[q], 10))
        rc.append(recall_at_k(ranked, qrels[q], 100))
        mr.append(mrr_at_k(ranked, qrels[q], 10))
    return mean(nd), mean(rc), mean(mr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data/scifact"))
    ap.add_argument("--cache", type=Path, default=Path("data/embeddings.sqlite"))
    ap.add_argument("--windows", type=int, default=0, help="sentences per window (0: none)")
    ap.add_argument(
        "--chunk-windows",
        type=int,
        default=0,
        help="sentences per window cut inside each chunk, with its context (0: none)",
    )
    ap.add_argument("--ideas", action="store_true", help="skip the grid; run the PRF ideas")
    ap.add_argument(
        "--stack",
        action="store_true",
        help="with --chunk-windows: every leg at once, tuned on train and on test (the bound)",
    )
    args = ap.parse_args()
    s = Settings()
    splits = {sp: load_beir(args.data, sp) for sp in ("train", "test")}
    data = splits["test"]
    docs = list(data.corpus)
    pos = {d: i for i, d in enumerate(docs)}
    n = len(docs)
    chunks, c_own, doc_texts = [], [], []
    windows, w_own = [], []
    cwin: list[str] = []
    cw_chunk: list[int] = []
    for src in corpus_sources(data):
        did = src.name[: -len(".txt")]
        for c in chunk_blocks(src.blocks, s.chunk_size, s.chunk_overlap):
            chunks.append(search_text(src.name, c.heading, c.text))
            c_own.append(pos[did])
            if args.chunk_windows:
                body = c.text
                if c.heading and body.startswith(c.heading):
                    body = body[len(c.heading) :]
                sents = split_sentences(body) or [c.text]
                for i in range(0, len(sents), args.chunk_windows):
                    cwin.append(
                        search_text(
                            src.name, c.heading, " ".join(sents[i : i + args.chunk_windows])
                        )
                    )
                    cw_chunk.append(len(chunks) - 1)
        title, text = data.corpus[did]
        doc_texts.append(f"{title_of(src.name)}\n\n{title}\n\n{text}")
        if args.windows:
            sents = [x.strip() for x in sent_tokenize(text) if x.strip()] or [title]
            for i in range(0, len(sents), args.windows):
                windows.append(f"{title}\n\n" + " ".join(sents[i : i + args.windows]))
                w_own.append(pos[did])
    model = MiniLMEmbedding(embed_batch_size=s.embed_batch_size)
    cache = EmbeddingCache(args.cache, model.model_name)

    def vectors(texts: list[str], what: str) -> np.ndarray:
        t = time.perf_counter()
        got, fresh = cache.embed(texts, model.get_text_embedding_batch)
        print(
            f"{what}: {len(texts)} texts, {len(fresh)} embedded in {time.perf_counter() - t:.0f}s",
            flush=True,
        )
        return np.asarray(got, dtype=np.float32)

    C = vectors(chunks, "chunks")
    W = vectors(windows, "windows") if windows else None
    co, wo = np.array(c_own), np.array(w_own)
    CW = vectors(cwin, "chunk windows") if cwin else None
    if CW is not None:
        cwc = np.array(cw_chunk)
        cwo = co[cwc]
        CM = np.zeros_like(C)
        np.add.at(CM, cwc, CW)
        CM /= np.linalg.norm(CM, axis=1, keepdims=True)

    def bm25_legs(
        qtexts: list[str], k1: float, b: float, method: str, units: list[str], owner: np.ndarray
    ) -> np.ndarray:
        r = bm25s.BM25(k1=k1, b=b, method=method)
        r.index(tokenize(units), show_progress=False)
        toks = tokenize(qtexts)
        out = np.zeros((len(qtexts), n), dtype=np.float32)
        for j, t in enumerate(toks):
            if t:
                sc = r.get_scores(t)
                np.maximum.at(out[j], owner, sc.astype(np.float32))
        return out

    legs_by_split: dict[str, Legs] = {}
    Qs: dict[str, np.ndarray] = {}
    qids_by_split: dict[str, list[str]] = {}
    for sp, d in splits.items():
        qids = list(d.qrels)
        qtexts = [d.queries[q] for q in qids]
        Q = vectors(qtexts, f"{sp} queries")
        legs: Legs = {"chunk": per_doc_max(Q @ C.T, co, n)}
        if CW is not None:
            legs["cwin"] = per_doc_max(Q @ CW.T, cwo, n)
            legs["cmean"] = per_doc_max(Q @ CM.T, co, n)
        if W is not None:
            legs["win"] = per_doc_max(Q @ W.T, wo, n)
            # A document vector from its windows: their normalised mean.
            pass
        for k1, b in [(1.5, 0.75), (1.2, 0.75), (0.9, 0.4), (0.9, 0.5), (1.2, 0.5)]:
            legs[f"bm25 {k1}/{b}"] = bm25_legs(qtexts, k1, b, "lucene", chunks, co)
        legs["bm25doc 1.2/0.75"] = bm25_legs(qtexts, 1.2, 0.75, "lucene", doc_texts, np.arange(n))
        legs["bm25doc 0.9/0.4"] = bm25_legs(qtexts, 0.9, 0.4, "lucene", doc_texts, np.arange(n))
        legs_by_split[sp], qids_by_split[sp] = legs, qids
        Qs[sp] = Q
        print(f"{sp}: legs ready", flush=True)

    def report(label: str, fn: Callable[[Legs], np.ndarray]) -> None:
        out = []
        for sp in ("train", "test"):
            out.append(evaluate(fn(legs_by_split[sp]), qids_by_split[sp], docs, splits[sp].qrels))
        (tr, trr, _), (te, ter, tem) = out
        print(
            f"{label:60} train {tr:.4f} R {trr:.4f} | test {te:.4f} R {ter:.4f} MRR {tem:.4f}",
            flush=True,
        )

    for name in legs_by_split["train"]:
        report(f"single: {name}", lambda L, name=name: L[name])
    dense_views = ["chunk"] + (["win", "chunk+win"] if W is not None else [])

    def dense(L: Legs, view: str) -> np.ndarray:
        if view == "chunk+win":
            return 0.5 * L["chunk"] + 0.5 * L["win"]
        return L[view]

    if W is not None:
        report("single: chunk+win", lambda L: dense(L, "chunk+win"))
    if CW is not None and args.stack:
        stack(legs_by_split, qids_by_split, splits, docs)
        return
    if CW is not None:
        kw = "bm25 0.9/0.5"
        for a, b_ in [("chunk", "cwin"), ("cmean", "cwin")]:
            for mix in (0.3, 0.5, 0.7):
                report(
                    f"single: {mix} {a} + {1 - mix:.1f} {b_}",
                    lambda L, a=a, b_=b_, mix=mix: mix * L[a] + (1 - mix) * L[b_],
                )
                for w in (0.4, 0.5, 0.6):
                    for how in ("z", "minmax"):
                        report(
                            f"{mix} {a} + {1 - mix:.1f} {b_} + {kw} {how} w={w}",
                            lambda L, a=a, b_=b_, mix=mix, w=w, how=how: (
                                w * norm(mix * L[a] + (1 - mix) * L[b_], how)
                                + (1 - w) * norm(L[kw], how)
                            ),
                        )
        return
    kws = [k for k in legs_by_split["train"] if k.startswith("bm25")]
    memo: dict[tuple[int, str, str], np.ndarray] = {}

    def normed(L: Legs, view: str, how: str) -> np.ndarray:
        key = (id(L), view, how)
        if key not in memo:
            memo[key] = norm(dense(L, view) if view in dense_views else L[view], how)
        return memo[key]

    if args.ideas:
        ideas(legs_by_split, qids_by_split, Qs, C, co, n, report, normed)
        return
    for view, kw, how, w in itertools.product(
        dense_views, kws, ["minmax", "max", "z"], [0.3, 0.4, 0.5, 0.6]
    ):
        report(
            f"{view} + {kw}, {how} w={w}",
            lambda L, view=view, kw=kw, how=how, w=w: (
                w * normed(L, view, how) + (1 - w) * normed(L, kw, how)
            ),
        )


def ideas(legs_by_split, qids_by_split, Qs, C, co, n, report, normed):  # type: ignore[no-untyped-def]
    """Pseudo-relevance feedback from the hybrid's own top documents into the dense query."""
    D = np.zeros((n, C.shape[1]), dtype=np.float32)
    np.add.at(D, co, C)
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    kw = "bm25 0.9/0.5"
    base = lambda L: 0.5 * normed(L, "chunk", "z") + 0.5 * normed(L, kw, "z")  # noqa: E731
    report("base: chunk + bm25 0.9/0.5, z w=0.5", base)
    for sp, L in legs_by_split.items():
        F = base(L)
        for m, beta in [(1, 0.3), (3, 0.3), (3, 0.6), (5, 0.5), (10, 0.5), (3, 1.0)]:
            top = np.argsort(-F, axis=1)[:, :m]
            Qp = Qs[sp] + beta * D[top].mean(axis=1)
            Qp /= np.linalg.norm(Qp, axis=1, keepdims=True)
            L[f"prf {m}/{beta}"] = per_doc_max(Qp @ C.T, co, n)
    for m, beta in [(1, 0.3), (3, 0.3), (3, 0.6), (5, 0.5), (10, 0.5), (3, 1.0)]:
        name = f"prf {m}/{beta}"
        for w in (0.4, 0.5, 0.6):
            report(
                f"{name} + bm25 0.9/0.5 z w={w}",
                lambda L, name=name, w=w: w * normed(L, name, "z") + (1 - w) * normed(L, kw, "z"),
            )
        report(
            f"chunk+{name} + bm25 z .25/.25/.5",
            lambda L, name=name: (
                0.25 * normed(L, name, "z")
                + 0.25 * normed(L, "chunk", "z")
                + 0.5 * normed(L, kw, "z")
            ),
        )
    report(
        "chunk + bm25chunk + bm25doc z .5/.25/.25",
        lambda L: (
            0.5 * normed(L, "chunk", "z")
            + 0.25 * normed(L, kw, "z")
            + 0.25 * normed(L, "bm25doc 0.9/0.4", "z")
        ),
    )


def stack(legs_by_split, qids_by_split, splits, docs):  # type: ignore[no-untyped-def]
    """Chunk vectors, sentence windows, chunk BM25 and document BM25 fused at once (z-scores),
    every weight tried: the best on train with its test figure, and the best on test itself,
    an upper bound no choice of these weights can beat."""
    rows = []
    z = {sp: {} for sp in legs_by_split}
    for sp, L in legs_by_split.items():
        z[sp]["mix"] = norm(0.3 * L["chunk"] + 0.7 * L["cwin"], "z")
        for name in ("chunk", "cwin", "bm25 0.9/0.5", "bm25doc 0.9/0.4"):
            z[sp][name] = norm(L[name], "z")
    grid = itertools.product(
        [0.3, 0.4, 0.5, 0.6],
        [0.1, 0.2, 0.3, 0.4, 0.5],
        [0.0, 0.1, 0.2, 0.3],
        ["chunk", "mix", "cwin"],
    )
    for wd, wb, wbd, dense in grid:
        out = []
        for sp in ("train", "test"):
            Z = z[sp]
            F = wd * Z[dense] + wb * Z["bm25 0.9/0.5"] + wbd * Z["bm25doc 0.9/0.4"]
            out.append(evaluate(F, qids_by_split[sp], docs, splits[sp].qrels))
        rows.append((out[0][0], out[1][0], out[1][1], f"{dense} {wd} + bm25 {wb} + bm25doc {wbd}"))
    for label, key in (("best on train", 0), ("best on test (the bound)", 1)):
        tr, te, ter, name = max(rows, key=lambda r: r[key])
        print(f"{label:26} {name:40} train {tr:.4f} | test {te:.4f} R {ter:.4f}", flush=True)


if __name__ == "__main__":
    main()
