"""`kb eval beir|golden`: retrieval quality, printed beside its baselines.

Each command imports its measurement module when it runs: they load the storage engines and
the model, which `kb --help` and the quick commands must not wait for.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from kb.cli.progress import ProgressLine
from kb.config import Settings
from kb.errors import UsageError


def cmd_eval_beir(args: argparse.Namespace, settings: Settings) -> int:
    """kb eval beir DIR: hybrid vs BM25-only vs dense-only on a BEIR dataset."""
    from kb.eval.beir import report_beir, run_beir  # loads the engines: only when run

    log = (lambda s: print(s, file=sys.stderr)) if args.json else print
    rows: list[Any] = []

    def sweep(base: Any, legs: Any, doc_of_id: dict[str, str], data: Any) -> None:
        from kb.eval.sweep import fusion_sweep

        rows.extend(fusion_sweep(base, legs, doc_of_id, data, log))

    results = run_beir(
        Path(args.dir),
        args.split,
        settings,
        ProgressLine("embed"),
        log,
        sweep if args.sweep else None,
    )
    if args.json:
        sweeps = [{"variant": r.label(), **r.metrics} for r in rows]
        print(json.dumps({"split": args.split, **results, **({"sweep": sweeps} if rows else {})}))
        return 0
    report_beir(results, settings, args.split)
    if rows:
        print(f"\nfusion variants on the same legs ({args.split}), best nDCG@10 first:")
        print(f"{'variant':<56}{'nDCG@10':<10}{'Recall@100':<12}{'MRR@10':<10}")
        for r in rows:
            m = r.metrics
            print(
                f"{r.label():<56}{m['ndcg@10']:<10.4f}{m['recall@100']:<12.4f}{m['mrr@10']:<10.4f}"
            )
    return 0


def cmd_eval_golden(args: argparse.Namespace, settings: Settings) -> int:
    """kb eval golden [FILE]: hit@k and MRR by file and page on your own questions."""
    from kb.eval.golden import GoldenQuestion, evaluate_modes, load_questions
    from kb.knowledge_base import KnowledgeBase

    base = KnowledgeBase(settings)
    if args.baseline:
        return _golden_with_baseline(args, base)
    question_set = "kept golden set"
    if args.file:
        questions = load_questions(Path(args.file))
        question_set = str(Path(args.file).resolve())
    else:  # the golden set kb keeps, grown from cases (`kb gaps --golden ANSWER_ID`)
        questions = [GoldenQuestion(**q) for q in base.golden_questions()]
        if not questions:
            raise UsageError(
                "the golden set is empty: add cases to it (`kb gaps --golden ANSWER_ID`, or the "
                "Quality page), or name a questions file"
            )
    rows = {m: r.to_dict() for m, r in evaluate_modes(base.search, questions, args.k).items()}
    # kb's default pipeline is what a change must not break: its outcomes are kept per run
    change = base.record_golden_run(question_set, args.k, rows["hybrid"]["outcomes"])
    if args.json:
        print(json.dumps({**rows, "change": change.to_dict() if change else None}))
        return 0
    print(f"{len(questions)} questions, k={args.k}")
    print(f"{'pipeline':<10}{'file hit@k':<12}{'file MRR':<10}{'page hit@k':<12}{'page MRR':<10}")
    for mode, r in rows.items():
        print(
            f"{mode:<10}{r['file_hit_rate']:<12.3f}{r['file_mrr']:<10.3f}"
            f"{r['page_hit_rate']:<12.3f}{r['page_mrr']:<10.3f}"
        )
    for miss in rows["hybrid"]["misses"]:
        print(f"  miss: {miss['question']}  expected {miss['expected']}, got {miss['got'][:3]}")
    print("\n".join(change.lines()) if change else "first run of this question set: kept, "
          "so the next run can say which questions changed")  # fmt: skip
    return 0


def _golden_with_baseline(args: argparse.Namespace, base: Any) -> int:
    """kb eval golden FILE --baseline naive [--docs DIR]: both pipelines, indexed in this run."""
    from kb.eval.baseline import compare_with_naive, find_files, report
    from kb.eval.golden import load_questions

    if not args.file:
        raise UsageError("--baseline needs a questions file (and the folder of its files)")
    questions = load_questions(Path(args.file))
    docs = Path(args.docs) if args.docs else Path(args.file).resolve().parent
    files = find_files(questions, docs)
    log = (lambda s: print(s, file=sys.stderr)) if args.json else print
    result = compare_with_naive(base, questions, files, args.k, ProgressLine("index"), log)
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        print("\n".join(report(result)))
    return 0


def cmd_eval_answers(args: argparse.Namespace, settings: Settings) -> int:
    """kb eval answers FILE: does the answer hold the expected fact and cite the right file?"""
    from kb.eval.answers import declines, evaluate_answers
    from kb.eval.golden import load_questions
    from kb.knowledge_base import KnowledgeBase

    update = {"llm": args.llm} if args.llm else {}
    if args.llm_model:
        update["llm_model"] = args.llm_model
    settings = settings.model_copy(update=update)
    questions = load_questions(Path(args.file))
    base = KnowledgeBase(settings)
    r = evaluate_answers(base, questions)
    if args.unanswerable:
        unanswerable = _question_list(Path(args.unanswerable))
        declined, answered = declines(base, unanswerable)
        r["unanswerable_declined"], r["unanswerable_answered"] = declined, answered
        r["unanswerable"] = len(unanswerable)
    if args.json:
        print(json.dumps(r, default=str))
        return 0
    print(f"{r['questions']} questions, KB_LLM={settings.llm} {settings.llm_model}")
    print(f"answer holds the expected fact   {r['fact_rate']:.3f}")
    if settings.llm != "extractive":
        print(f"  (the model's own text, before the check: {r['model_fact_rate']:.3f})")
    print(f"first citation is the right file {r['right_first_citation']:.3f}")
    print(f"'not in the knowledge base'      {r['not_found']} (false declines: every question "
          "has an answer)")  # fmt: skip
    if args.unanswerable:
        missed = r["unanswerable_answered"] or "none"
        print(f"unanswerable questions declined  {r['unanswerable_declined']}/"
              f"{r['unanswerable']} (answered: {missed})")  # fmt: skip
    print(f"fell back to the extractive      {r['fallbacks']}")
    print(f"sentences flagged unsupported    {r['unsupported_sentences']}")
    print(f"first text on screen p50 / p95   {r['first_piece_p50_s']:.2f} s / "
          f"{r['first_piece_p95_s']:.2f} s")  # fmt: skip
    if settings.llm != "extractive":  # the quotes come first; then the model's own words
        print(f"the model's first word p50 / p95 {r['first_model_piece_p50_s']:.2f} s / "
              f"{r['first_model_piece_p95_s']:.2f} s")  # fmt: skip
    print(f"whole answer p50 / p95           {r['total_p50_s']:.2f} s / {r['total_p95_s']:.2f} s")
    print(f"answer tokens (mean)             {r['completion_tokens_mean']:.0f}")
    for row in r["rows"]:
        if not row["fact"] and args.verbose:
            print(f"  miss: {row['question']} -> {row['answer'][:150]!r} {row['error']}")
    return 0


def _question_list(path: Path) -> list[str]:
    import yaml

    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"cannot read {path}: {exc}; expected a YAML list of questions") from exc
    if not isinstance(raw, list) or not all(isinstance(q, str) for q in raw):
        raise UsageError(f"{path} is not a YAML list of questions (one string each)")
    return raw


def cmd_eval_citations(args: argparse.Namespace, settings: Settings) -> int:
    """kb eval citations FILE: support scores of right vs wrong citations, best threshold."""
    from kb.eval.answers import best_threshold, support_samples
    from kb.eval.golden import load_questions
    from kb.knowledge_base import KnowledgeBase

    samples = support_samples(KnowledgeBase(settings), load_questions(Path(args.file)))
    right = sorted(s for s, ok in samples if ok)
    wrong = sorted(s for s, ok in samples if not ok)
    threshold, accuracy = best_threshold(samples)
    print(f"right passage: n={len(right)} min={right[0]:.2f} median={right[len(right) // 2]:.2f}")
    print(f"wrong passage: n={len(wrong)} max={wrong[-1]:.2f} median={wrong[len(wrong) // 2]:.2f}")
    for t in (0.3, 0.4, 0.5, 0.6, 0.7):
        passed = sum(s >= t for s in right) / len(right)
        caught = sum(s < t for s in wrong) / len(wrong)
        print(f"threshold {t:.2f}: right kept {passed:.3f}, wrong flagged {caught:.3f}")
    print(f"best threshold {threshold:.2f} (accuracy {accuracy:.3f}); "
          f"KB_VERIFY_THRESHOLD={settings.verify_threshold}")  # fmt: skip
    return 0


def add_eval_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register `kb eval beir` and `kb eval golden`."""
    p = sub.add_parser("eval", parents=[common], help="measure retrieval quality")
    ev = p.add_subparsers(dest="eval_command", required=True)
    b = ev.add_parser("beir", parents=[common], help="BEIR dataset: nDCG@10, Recall@100, MRR@10")
    b.add_argument("dir")
    b.add_argument("--split", choices=["test", "train", "dev"], default="test")
    b.add_argument("--json", action="store_true")
    b.add_argument(
        "--sweep",
        action="store_true",
        help="also try fusion methods, weights and BM25 k1/b on the same legs (tune on train)",
    )
    b.set_defaults(func=cmd_eval_beir)
    g = ev.add_parser("golden", parents=[common], help="questions file: hit@k and MRR")
    g.add_argument("file", nargs="?", help="a questions file (default: the golden set kb keeps)")
    g.add_argument("-k", type=int, default=5)
    g.add_argument("--json", action="store_true")
    g.add_argument("--baseline", choices=["naive"],
                   help="also build the naive LlamaIndex pipeline over the same files")  # fmt: skip
    g.add_argument("--docs", metavar="DIR", help="the folder of its files (default: its own)")
    g.set_defaults(func=cmd_eval_golden)
    a = ev.add_parser("answers", parents=[common], help="questions file: facts, citations, speed")
    a.add_argument("file")
    a.add_argument("--llm", choices=["extractive", "openai", "ollama", "llamacpp"])
    a.add_argument("--llm-model", help="overrides KB_LLM_MODEL")
    a.add_argument("--json", action="store_true")
    a.add_argument("-v", "--verbose", action="store_true", help="print the misses")
    a.add_argument("--unanswerable", metavar="FILE",
                   help="also ask these questions (a YAML list) no document answers")  # fmt: skip
    a.set_defaults(func=cmd_eval_answers)
    c = ev.add_parser("citations", parents=[common], help="choose the citation-check threshold")
    c.add_argument("file")
    c.set_defaults(func=cmd_eval_citations)
