"""`kb feedback`, `kb gaps` and `kb export finetune`: the learning loop from scripts."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from kb.cli.common import emit, open_kb
from kb.config import Settings
from kb.errors import UsageError
from kb.security import SYSTEM


def cmd_feedback(args: argparse.Namespace, settings: Settings) -> int:
    """kb feedback add ANSWER_ID --up|--down [--comment] [--correct] [--doc]."""
    if args.up == args.down:
        raise UsageError("give --up or --down")
    fb = open_kb(settings).give_feedback(
        args.answer_id, args.up, comment=args.comment, correct=args.correct, doc=args.doc
    )
    print(f"{'thumbs up' if fb.vote > 0 else 'thumbs down'} recorded on answer {fb.answer_id}")
    return 0


def cmd_gaps(args: argparse.Namespace, settings: Settings) -> int:
    """kb gaps [--json] [--since DATE]: the cases, labelled, with their evidence."""
    base = open_kb(settings)
    if args.golden:
        added = base.add_to_golden(args.golden, actor=SYSTEM)
        page = f", page {added['page']}" if added["page"] else ""
        print(f"added to the golden set: {added['question']} -> {added['file']}{page}")
        return 0
    if args.label or args.resolve:
        answer_id, label = args.label or (args.resolve, None)
        base.set_case(answer_id, label=label, resolved=True if args.resolve else None, actor=SYSTEM)
        print(f"case {answer_id}: " + (f"labelled {label}" if label else "resolved"))
        return 0
    cases = base.cases(args.since or "")
    if args.json:
        emit([c.to_dict() for c in cases])
        return 0
    counts: dict[str, int] = {}
    for c in cases:
        counts[c.label] = counts.get(c.label, 0) + 1
        print(f"{c.at[:16]}  {c.label:<17}  {c.question}  ({c.kind}, answer {c.answer_id})")
        print(f"    {c.why}")
        for e in c.evidence:
            print(f"    evidence: {e.sentence()}")
    print(", ".join(f"{n} {label}" for label, n in sorted(counts.items())) or "no cases")
    groups = base.unanswered(args.since or "")
    if groups:
        print("unanswered, grouped by meaning:")
        for group in groups:
            print(f"    {group.line()}")
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """kb export finetune OUT.jsonl [--format chat|dpo] [--since DATE]."""
    lines, summary = open_kb(settings).finetune_data(args.format, args.since or "")
    out = Path(args.out)
    out.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    print(f"{out}: {summary}")
    return 0


def add_quality_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """The `kb feedback`, `kb gaps` and `kb export` commands."""
    p = sub.add_parser("feedback", parents=[common], help="thumbs up or down on an answer")
    fb = p.add_subparsers(dest="feedback_command", required=True)
    a = fb.add_parser("add", parents=[common], help="record feedback on an answer by its id")
    a.add_argument("answer_id", metavar="ANSWER_ID")
    a.add_argument("--up", action="store_true")
    a.add_argument("--down", action="store_true")
    a.add_argument("--comment", default="")
    a.add_argument("--correct", default="", metavar="TEXT", help="what the answer should say")
    a.add_argument("--doc", default="", metavar="NAME", help="the document that holds it")
    p.set_defaults(func=cmd_feedback)
    p = sub.add_parser("gaps", parents=[common], help="failed answers, labelled: why they failed")
    p.add_argument("--json", action="store_true")
    p.add_argument("--since", metavar="YYYY-MM-DD")
    p.add_argument("--golden", metavar="ANSWER_ID", help="add that case to the golden set")
    p.add_argument("--label", nargs=2, metavar=("ANSWER_ID", "LABEL"),
                   help="override kb's label of a case (an admin's call)")  # fmt: skip
    p.add_argument("--resolve", metavar="ANSWER_ID", help="mark a case resolved")
    p.set_defaults(func=cmd_gaps)
    p = sub.add_parser("export", parents=[common], help="export data (fine-tuning)")
    ex = p.add_subparsers(dest="export_command", required=True)
    f = ex.add_parser("finetune", parents=[common], help="approved answers as fine-tuning data")
    f.add_argument("out", metavar="OUT.jsonl")
    f.add_argument("--format", choices=["chat", "dpo"], default="chat")
    f.add_argument("--since", metavar="YYYY-MM-DD")
    p.set_defaults(func=cmd_export)
