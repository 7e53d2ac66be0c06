"""How a generated answer is shown: checked sentences, the fallback note, cost, inspector rows."""

from __future__ import annotations

from typing import Any

from kb.answer import Answer
from kb.answer.verify import SentenceCheck, render
from pages.shared.format.ui import answer_markdown, escape_markdown, format_seconds

UNSUPPORTED = "⚠ not supported by the cited source"
ADDED = "source found by kb"


def _sentence_markdown(check: SentenceCheck) -> str:
    md = answer_markdown(render(check))
    if not check.supported:
        md += f" :orange[**{escape_markdown(UNSUPPORTED)}**]"
    elif check.added:
        md += f" :gray[({ADDED})]"
    return md


def checked_markdown(answer: Answer) -> str:
    """The answer as safe markdown; sentences their source does not back are marked visibly."""
    if not answer.checks:
        return answer_markdown(answer.text)
    parts = []
    for check in answer.checks:
        parts.append(_sentence_markdown(check) + ("  \n" if check.sep == "\n" else " "))
    return "".join(parts).strip()


QUOTE_NOTE = "Quoted from the sources while the model writes its answer"


def quote_markdown(quote: str, written: str) -> str:
    """The extractive answer shown at once, marked as quotes, and how far the model has got
    (its answer replaces the quotes once it is checked)."""
    words = len(written.split())
    progress = f" ({words} words so far)" if words else ""
    return f"{escape_markdown(quote)}\n\n:gray[:material/format_quote: {QUOTE_NOTE}{progress}…]"


def fallback_line(answer: Answer) -> str:
    """The one line shown when the model's answer could not be used."""
    return f"The language model's answer is not shown: {answer.error}. Quoting the sources instead."


def tokens_line(tokens: dict[str, int]) -> str:
    """'812 prompt + 45 answer tokens' ('≈' when the server reported none and kb estimated)."""
    if not tokens:
        return ""
    about = "≈" if tokens.get("estimated") else ""
    prompt, completion = tokens.get("prompt", 0), tokens.get("completion", 0)
    return f"{about}{prompt} prompt + {about}{completion} answer tokens"


def cost_line(answer: Answer, seconds: float) -> str:
    """Answer time, where it went (rewrite, retrieval, first token, generation), tokens."""
    line = f"Answered in {format_seconds(seconds)}"
    if answer.timings:
        parts = [f"{k} {format_seconds(v)}" for k, v in answer.timings.items()]
        line += f" ({', '.join(parts)})"
    if answer.tokens:
        line += " · " + tokens_line(answer.tokens)
    return line


def method_line(answer: Answer) -> str:
    """Which generator wrote the answer, and how many sentences its sources back."""
    line = f"Method: {answer.method}"
    if answer.checks:
        backed = sum(c.supported for c in answer.checks)
        line += f"; {backed} of {len(answer.checks)} sentences backed by their cited source"
    if answer.error:
        line += f"; model not used: {answer.error}"
    return line + "."


def query_line(answer: Answer) -> str:
    """What was retrieved for, and whether a follow-up was rewritten (and by what)."""
    if answer.rewrite and answer.query != answer.question:
        return f"Follow-up rewritten ({answer.rewrite}) to: **{escape_markdown(answer.query)}**"
    return f"Retrieved for: **{escape_markdown(answer.query or answer.question)}**"


def check_rows(answer: Answer) -> list[dict[str, Any]]:
    """The citation check, one row per sentence, for the source inspector."""
    names = {c.n: c.name for c in answer.citations}
    return [
        {
            "sentence": c.text,
            "cites": ", ".join(f"[{n}] {names.get(n, '?')}" for n in c.cited) or "—",
            "support": round(c.support, 2),
            "verdict": "supported" if c.supported else c.reason,
            "removed markers": ", ".join(f"[{n}]" for n in c.invented),
        }
        for c in answer.checks
    ]
