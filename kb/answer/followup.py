"""Follow-up questions: "and for contractors?" becomes a question retrieval can answer alone."""

from __future__ import annotations

import re
from collections.abc import Sequence

from kb.index.keyword import tokenize

# Openings that lean on the previous question ("and for contractors?", "what about Oslo?").
# Longest first: the regex takes the first alternative that matches, and "and" alone would
# leave "what about" of "and what about ..." in the query.
_OPENINGS = [
    "and what about", "and how about", "what about", "how about", "what if", "same for",
    "and for", "and in", "and at", "and the", "and", "but", "or", "also", "so", "then",
]  # fmt: skip
_CONNECTOR = re.compile(
    r"^\s*(?:(?:" + "|".join(sorted(_OPENINGS, key=len, reverse=True)) + r")\b[\s,]*)+",
    re.IGNORECASE,
)
# Words that point back at something named before.
_BACK_REFERENCES = {
    "it", "its", "that", "this", "these", "those", "they", "them", "their", "there", "he",
    "she", "him", "her", "his", "one", "ones", "same", "else",
}  # fmt: skip
# A question with this few content words rarely stands alone ("and Boston?", "why?").
MAX_ELLIPTICAL_WORDS = 2
_WORD = re.compile(r"[A-Za-z0-9][\w'-]*")
# Question words say what is asked, not about what: the follow-up brings its own.
_QUESTION_WORDS = {
    "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "do", "does",
    "did", "is", "are", "can", "could", "should", "would", "will", "may", "must",
}  # fmt: skip


def is_followup(question: str) -> bool:
    """Whether `question` reads as a follow-up that needs the previous one to be understood.

    An opening like "and what about" alone is not enough: "and what about the hotel cap in
    Tokyo?" names its own subject, and carrying the previous question's words into it pulls
    retrieval back to the old topic."""
    words = {w.lower() for w in _WORD.findall(question)}
    if words & _BACK_REFERENCES:
        return True
    rest = _CONNECTOR.sub("", question).strip() or question
    return len(tokenize([rest])[0]) <= MAX_ELLIPTICAL_WORDS


def without_connector(question: str) -> str:
    """`question` without an opening that only links it to the previous one.

    "and what about the hotel cap in Tokyo?" is searched as "the hotel cap in Tokyo?": the
    opening words carry no meaning of their own but pull the question's embedding away from
    the passage (cosine 0.270 against 0.291 for the sample's per-diem table)."""
    return _CONNECTOR.sub("", question).strip() or question


def content_words(text: str) -> list[str]:
    """The words of `text` that carry meaning (not stop words), in order, without repeats."""
    words = _WORD.findall(text)
    stems = tokenize(words) if words else []
    return list(dict.fromkeys(w for w, s in zip(words, stems, strict=True) if s))


def rewrite_heuristic(question: str, previous: Sequence[str]) -> str:
    """A standalone query for a follow-up, without a model.

    The previous standalone question's content words that the follow-up does not replace
    are added to the follow-up (its own words first: they are what changed)."""
    if not previous or not is_followup(question):
        return question
    rest = _CONNECTOR.sub("", question).strip() or question
    own_words = content_words(rest)
    own = {w.lower() for w in own_words}
    carried = [
        w
        for w in content_words(previous[-1])
        if w.lower() not in own and w.lower() not in _QUESTION_WORDS
    ]
    # Names are judged in the whole question: in "what about Tokyo?" the name opens `rest`.
    if any(_is_name(w, question) for w in own_words):
        # "And for Munich?" after a question about Boston: the new name replaces the old one.
        carried = [w for w in carried if not _is_name(w, previous[-1])]
    return f"{rest.rstrip('?.! ')} {' '.join(carried)}".strip() if carried else question


def _is_name(word: str, text: str) -> bool:
    """Whether `word` is capitalised inside `text` (a name, a place), not as its first word."""
    return word[:1].isupper() and not text.lstrip().startswith(word)


def history_text(turns: Sequence[tuple[str, str]], limit: int = 3, chars: int = 300) -> str:
    """The last `limit` (question, answer) pairs as lines for the rewrite prompt."""
    lines = []
    for q, a in turns[-limit:]:
        lines.append(f"User: {q}")
        short = " ".join(a.split())
        lines.append(f"Assistant: {short[:chars]}{'…' if len(short) > chars else ''}")
    return "\n".join(lines)


def _stems(text: str) -> set[str]:
    words = [w for w in _WORD.findall(text) if w.lower() not in _QUESTION_WORDS]
    return set(tokenize([" ".join(words)])[0])


def clean_rewrite(text: str, question: str, previous: str = "") -> str | None:
    """The model's rewrite as one question, or None when it is unusable: empty, rambling,
    dropping a word of the follow-up, or taking nothing from the previous question."""
    line = next((ln.strip() for ln in text.strip().splitlines() if ln.strip()), "")
    line = re.sub(r"^(?:standalone question|question)\s*:\s*", "", line, flags=re.IGNORECASE)
    line = line.strip().strip('"').strip()
    # 300 characters is a paragraph: a model talking, not rewriting one question.
    if not line or len(line) > 300 or not content_words(line):
        return None
    stems = _stems(line)
    if not _stems(_CONNECTOR.sub("", question)) <= stems:
        return None
    if previous and not (_stems(previous) - _stems(question)) & stems:
        return None
    return line
