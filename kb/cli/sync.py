"""`kb sync DIR`: keep the documents read from a folder in step with it, once or on a timer."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any

from kb.cli.common import emit, open_kb
from kb.cli.progress import ProgressLine
from kb.config import Settings
from kb.errors import KBError

if TYPE_CHECKING:  # only types here: `kb --help` loads no engine
    from kb.ingest.sync import SyncReport
    from kb.knowledge_base import KnowledgeBase


def _print(report: SyncReport, as_json: bool) -> None:
    if as_json:
        emit(report.to_dict())
        return
    for line in report.lines:
        print(line.message())
    print(f"{report.folder}: {report.summary()}")


def _once(base: KnowledgeBase, args: argparse.Namespace) -> int:
    line = ProgressLine("sync")
    report = base.sync(args.folder, line, prune=args.prune, dry_run=args.dry_run)
    _print(report, args.json)
    return 0 if report.ok else 1


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    """kb sync DIR [--prune] [--dry-run] [--json] [--every 15m]."""
    from kb.ingest.sync import parse_interval

    every = parse_interval(args.every) if args.every else None
    base = open_kb(settings)
    if args.if_empty and not base.is_empty():
        print(f"{len(base.documents())} documents already indexed; nothing to do")
        return 0
    if every is None:
        return _once(base, args)
    while True:  # a service: one failed run is reported, the next one comes anyway
        started = time.monotonic()
        try:
            _once(base, args)
        except KBError as exc:
            print(f"kb sync: {exc}", file=sys.stderr)
        sys.stdout.flush()
        time.sleep(max(0.0, every - (time.monotonic() - started)))


def add_sync_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """The `kb sync` command."""
    p = sub.add_parser(
        "sync", parents=[common], help="index a folder's new and changed files, report gone ones"
    )
    p.add_argument("folder", metavar="DIR")
    p.add_argument("--prune", action="store_true", help="delete documents whose file is gone")
    p.add_argument("--dry-run", action="store_true", help="say what would change; change nothing")
    p.add_argument("--json", action="store_true")
    p.add_argument("--if-empty", action="store_true", help="only when nothing is indexed yet")
    p.add_argument(
        "--every", metavar="INTERVAL", help="keep running, syncing every INTERVAL (15m, 1h, 1d)"
    )
    p.set_defaults(func=cmd_sync)
