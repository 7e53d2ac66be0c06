"""The `kb` command: ingest, docs, reindex, search, ask, users (and eval/bench for measurements)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import kb  # noqa: F401  (sets the offline environment before anything heavy loads)
from kb.cli.bench import add_bench_commands
from kb.cli.common import emit, open_kb
from kb.cli.db import add_db_commands
from kb.cli.docs import add_docs_commands
from kb.cli.eval import add_eval_commands
from kb.cli.progress import ProgressLine
from kb.cli.quality import add_quality_commands
from kb.cli.sync import add_sync_commands
from kb.cli.users import add_users_commands
from kb.config import Settings, load_settings
from kb.errors import KBError, UsageError

if TYPE_CHECKING:  # only types here: `kb --help` loads no engine
    from kb.ingest import IngestOutcome

_ROOT_HELP = "kb: index company documents and answer questions from them, with sources."


def _report(outcomes: list[IngestOutcome], as_json: bool) -> int:
    if as_json:
        emit([o.to_dict() for o in outcomes])
    else:
        for o in outcomes:
            print(o.message())
        counts: dict[str, int] = {}
        for o in outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        print(", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no files")
    return 0 if all(o.ok for o in outcomes) else 1


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """kb ingest PATH...: add or replace files and folders."""
    from kb.ingest import expand_paths  # the ingest stage: loaded by the commands that use it

    sources = expand_paths(args.paths)  # a missing path fails before the model loads
    base = open_kb(settings)
    if args.if_empty and not base.is_empty():
        print(f"{len(base.documents())} documents already indexed; nothing to do")
        return 0
    base.preload()  # parsers and model load in the background while files are read
    line = ProgressLine("ingest")
    return _report(base.ingest(sources, line, status=line.status), args.json)


def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    """kb reindex [ID_OR_NAME...|--all]."""
    if not args.ids and not args.all:
        raise UsageError("name documents to re-index, or pass --all")
    base = open_kb(settings)
    return _report(base.reindex(args.ids, ProgressLine("reindex")), args.json)


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    """kb search QUERY | --queries FILE.jsonl."""
    base = open_kb(settings)
    if args.queries:
        path = Path(args.queries)
        try:
            lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
            queries = [json.loads(ln)["query"] for ln in lines]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UsageError(
                f"cannot read queries from {path}: {exc}; "
                'expected one {"query": ...} object per line'
            ) from exc
        for hits in base.search_many(queries, args.k, args.mode):
            emit([h.to_dict() for h in hits])
        return 0
    if not args.query:
        raise UsageError('give a query, e.g. kb search "leave policy", or --queries FILE.jsonl')
    hits = base.search(args.query, args.k, args.mode)
    if args.json:
        emit([h.to_dict() for h in hits])
        return 0
    for n, h in enumerate(hits, 1):
        page = f" p.{h.page}" if h.page else ""
        sc = h.scores
        dense = "-" if sc["dense"] is None else f"{sc['dense']:.3f}"
        kw = "-" if sc["keyword"] is None else f"{sc['keyword']:.2f}"
        name = f" name={sc['named']:.2f}" if sc.get("named") else ""
        print(
            f"{n}. {h.name}{page}  [{h.heading}]  fused={h.score:.3f} dense={dense} bm25={kw}{name}"
        )
        print("   " + " ".join(h.text.split())[:240])
    if not hits:
        print("no results")
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    """kb ask QUESTION."""
    answer = open_kb(settings).ask(args.question, args.k)
    if args.json:
        emit(answer.to_dict())
        return 0
    if answer.error:
        print(f"note: the language model's answer is not shown: {answer.error}", file=sys.stderr)
    print(answer.text)
    for check in answer.unsupported:
        print(f"  ⚠ not supported: {check.text} ({check.reason})")
    if answer.citations:
        print()
        for c in answer.citations:
            page = f", page {c.page}" if c.page else ""
            print(f"[{c.n}] {c.name}{page} — {c.heading}")
    return 0


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    """kb check: do the registry, Chroma and the keyword index agree?"""
    base = open_kb(settings)
    problems = base.check()
    for p in problems:
        print(p)
    print("consistent" if not problems else f"{len(problems)} problems")
    building = base.indexes.building()
    if building:  # not a disagreement: the active index is whole; a note of unfinished work
        print(
            f"note: a full re-index into {building.collection} (started {building.started_at}) "
            "was interrupted; answers come from the previous index until `kb reindex --all` "
            "resumes it"
        )
    return 0 if not problems else 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (every command takes --data-dir)."""
    # SUPPRESS on the subcommands: otherwise their default (None) overwrites a --data-dir
    # given before the command name.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir", default=argparse.SUPPRESS, help="data folder (overrides KB_DATA_DIR)"
    )
    parser = argparse.ArgumentParser(prog="kb", description=_ROOT_HELP)
    parser.add_argument("--data-dir", default=None, help="data folder (overrides KB_DATA_DIR)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", parents=[common], help="add or replace files and folders")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--json", action="store_true")
    p.add_argument("--if-empty", action="store_true", help="only when nothing is indexed yet")
    p.set_defaults(func=cmd_ingest)

    add_docs_commands(sub, common)
    add_sync_commands(sub, common)

    p = sub.add_parser("reindex", parents=[common], help="parse and index stored originals again")
    p.add_argument("ids", nargs="*", metavar="ID_OR_NAME")
    p.add_argument("--all", action="store_true")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_reindex)

    p = sub.add_parser("search", parents=[common], help="ranked passages for a query")
    p.add_argument("query", nargs="?")
    p.add_argument("-k", type=int, default=None, help="how many hits (default KB_TOP_K)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--queries", metavar="FILE.jsonl", help='one {"query": ...} per line')
    p.add_argument("--mode", choices=["hybrid", "dense", "keyword"], default="hybrid")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", parents=[common], help="a cited answer")
    p.add_argument("question")
    p.add_argument("-k", type=int, default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("check", parents=[common], help="check registry, Chroma and keyword agree")
    p.set_defaults(func=cmd_check)

    add_quality_commands(sub, common)
    add_users_commands(sub, common)
    add_db_commands(sub, common)
    add_eval_commands(sub, common)
    add_bench_commands(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `kb` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        overrides = {"data_dir": Path(args.data_dir)} if args.data_dir else {}
        settings = load_settings(**overrides)
        func: Callable[[argparse.Namespace, Settings], int] = args.func
        return func(args, settings)
    except KBError as exc:
        print(f"kb: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("kb: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
