"""`kb bench corpus|ingest|query|all`.

Each command imports its measurement module when it runs: they load the storage engines and
the model, which `kb --help` and the quick commands must not wait for.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from kb.config import Settings

DEFAULT_SCIFACT = "../shared/data/scifact"


def cmd_corpus(args: argparse.Namespace, settings: Settings) -> int:
    """kb bench corpus OUT: write the generated benchmark corpus."""
    from kb.bench.corpus import make_corpus

    paths = make_corpus(Path(args.out), Path(args.scifact), args.docs)
    print(f"wrote {len(paths)} documents to {args.out}")
    return 0


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """kb bench ingest DIR."""
    from kb.bench.ingest import bench_ingest, report_ingest

    result = bench_ingest(
        Path(args.dir), settings, naive=not args.no_naive, floor=not args.no_floor
    )
    print(json.dumps(result)) if args.json else report_ingest(result)
    return 0


def cmd_query(args: argparse.Namespace, settings: Settings) -> int:
    """kb bench query --chunks N; with KB_DATABASE_URL on PostgreSQL, SQLite beside it."""
    from kb.bench.query import bench_query, report_databases, report_query, scratch_database

    url = settings.database_url.get_secret_value() if settings.database_url else None
    for n in args.chunks:
        result = bench_query(n, Path(args.scifact), settings, args.queries)
        print(json.dumps(result)) if args.json else report_query(result)
        if url and url.startswith("postgres"):
            with scratch_database(url) as scratch:
                shared = bench_query(
                    n, Path(args.scifact), settings, args.queries, database=scratch
                )
            print(json.dumps(shared)) if args.json else report_query(shared)
            if not args.json:
                report_databases(result, shared)
    return 0


def cmd_all(args: argparse.Namespace, settings: Settings) -> int:
    """kb bench all [--quick]: every benchmark and evaluation, small sizes with --quick."""
    from kb.bench.corpus import make_corpus
    from kb.bench.ingest import bench_ingest, report_ingest
    from kb.bench.query import bench_query, report_query
    from kb.eval.beir import report_beir, run_beir

    scifact = Path(args.scifact)
    docs, chunks = (40, [10_000]) if args.quick else (200, [10_000, 100_000])
    print("== retrieval quality: SciFact test ==")
    report_beir(run_beir(scifact, "test", settings), settings, "test")
    with tempfile.TemporaryDirectory(prefix="kb-corpus-") as tmp:
        make_corpus(Path(tmp), scifact, docs)
        print(f"\n== ingest: {docs} generated multi-page documents ==")
        report_ingest(bench_ingest(Path(tmp), settings, naive=False))
    print("\n== ingest: sample_docs/ ==")
    report_ingest(bench_ingest(Path(settings.sample_docs_dir), settings, naive=False))
    for n in chunks:
        print(f"\n== query latency at {n} chunks ==")
        report_query(bench_query(n, scifact, settings, 100 if args.quick else 300))
    return 0


def add_bench_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register the `kb bench` subcommands."""
    p = sub.add_parser("bench", parents=[common], help="speed and memory benchmarks")
    b = p.add_subparsers(dest="bench_command", required=True)
    c = b.add_parser("corpus", parents=[common], help="generate the benchmark corpus")
    c.add_argument("out")
    c.add_argument("--docs", type=int, default=200)
    c.add_argument("--scifact", default=DEFAULT_SCIFACT)
    c.set_defaults(func=cmd_corpus)
    i = b.add_parser(
        "ingest", parents=[common], help="ingest speed vs the embedding floor and naive pipeline"
    )
    i.add_argument("dir")
    i.add_argument("--json", action="store_true")
    i.add_argument("--no-naive", action="store_true", help="skip the naive LlamaIndex baseline")
    i.add_argument("--no-floor", action="store_true", help="skip the embedding-only floor")
    i.set_defaults(func=cmd_ingest)
    q = b.add_parser("query", parents=[common], help="retrieval latency vs bare Chroma")
    q.add_argument("--chunks", type=int, nargs="+", default=[10_000])
    q.add_argument("--queries", type=int, default=300)
    q.add_argument("--scifact", default=DEFAULT_SCIFACT)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_query)
    a = b.add_parser("all", parents=[common], help="everything (make bench uses --quick)")
    a.add_argument("--quick", action="store_true")
    a.add_argument("--scifact", default=DEFAULT_SCIFACT)
    a.set_defaults(func=cmd_all)
