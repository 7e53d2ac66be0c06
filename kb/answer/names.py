"""Decline when the question's subject is absent (issue 18): the names a question asks about
(places, products, codes: "Lisbon", "Zephyr", "X9", "SEV1") must occur in the passages given
to the answer. A nearby passage about something else scores a fair cosine ("the per-diem for
Lisbon?" finds the per-diem table of other cities); quoting it would answer another question.

A name is a word capitalised inside a sentence, letters with digits (a code) or a version
number ("7.3"); another number is not a name, nor is a date word (a month, a weekday, a holiday:
documents say "the end-of-year closure" where people ask about "the Christmas break"). Only rare
names are checked: a word in more than RARE_SHARE of all passages (the company's own name) says
nothing about which passage answers. A name no passage anywhere holds declines the question; a
name that is elsewhere in the knowledge base declines it only when none of the question's rare
names is in the passages given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from kb.index.keyword import tokenize
from kb.search.retrieval import Hit

# Calibrated on sample_docs/questions.yaml (no sample question declined) and the unanswerable
# set in tests/fixtures/unanswerable.yaml: see BENCHMARKS.md.
RARE_SHARE = 0.05
_WORD = re.compile(r"\d+(?:\.\d+)+|[A-Za-z0-9][\w'’-]*")
_VERSION = re.compile(r"\d+(?:\.\d+)+")
_SENTENCE_END = re.compile(r"[.!?:]\s*$")
# Times, not subjects: asked about by name, written about in other words.
_DATES = (
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday christmas xmas easter "
    "thanksgiving hanukkah ramadan eid diwali midsummer whitsun pentecost halloween"
)
DATE_WORDS = frozenset(_DATES.split())
# Periods and ordinals written as codes are dates too: FY, FY2023, FY23, Q2, Q22023, H1, CY2020,
# 1st, 21st. Filings write "fiscal 2023" or "the quarter ended July 1"; a question's "FY2023"
# is a time, not a subject (on FinanceBench it made 39 of 49 questions look unanswerable).
_ACRONYM = re.compile(r"[A-Z]{2,5}")
_PERIOD = re.compile(r"(?:FY|CY|Q[1-4]|H[12])(?:'?\d{2}|(?:19|20)\d\d)?|\d+(?:st|nd|rd|th)", re.I)


def names_in(question: str) -> list[str]:
    """The words of `question` that name something: capitalised inside a sentence, or
    letters with digits. 'Where is the Zephyr-9 rig in Lisbon?' -> ['Zephyr-9', 'Lisbon']."""
    out: list[str] = []
    starts = True
    for match in _WORD.finditer(question):
        word = match.group().rstrip("'’-")
        before = question[: match.start()]
        starts = not before.strip() or bool(_SENTENCE_END.search(before))
        letters = any(c.isalpha() for c in word)
        coded = letters and any(c.isdigit() for c in word)
        capital = word[:1].isupper() and not starts and word not in ("I", "I'm", "I've")
        dated = word.lower() in DATE_WORDS or bool(_PERIOD.fullmatch(word))
        named = letters and (coded or capital) and not dated
        if (named or _VERSION.fullmatch(word)) and word not in out:
            out.append(word)
    return out


def missing_names(
    question: str, hits: Iterable[Hit], share: Callable[[list[str]], dict[str, float]]
) -> list[str]:
    """The rare names of `question` that no given passage mentions (empty: answer it).
    `share(tokens)` gives each token's share of all indexed passages (0 if unknown)."""
    found = names_in(question)
    if not found:
        return []
    texts = [f"{hit.name} {hit.heading} {hit.text}" for hit in hits]
    # A version is looked for as written ("4.2", not "4.20" or "14.2"); the keyword tokens
    # drop its one-digit parts.
    versions = [v for v in found if _VERSION.fullmatch(v)]
    absent = [v for v in versions if not any(re.search(rf"(?<![\d.]){re.escape(v)}(?![\d])", t)
                                             for t in texts)]  # fmt: skip
    names = {name: tokenize([name])[0] for name in found if name not in versions}
    tokens = sorted({t for ts in names.values() for t in ts})
    shares = share(tokens) if tokens else {}
    rare = {t for t in tokens if shares.get(t, 0.0) <= RARE_SHARE}
    seen = set(tokenize([" ".join(texts)])[0]) if rare else set()
    away = {n for n, ts in names.items() if any(t in rare and t not in seen for t in ts)}
    # A name no passage anywhere holds is not in the knowledge base: decline. A name that is
    # in it but not in the passages given declines only when no other rare name of the
    # question is there either (a capitalised common word, "the Highest EBITDAR", is rare in
    # some collections; retrieval found the rest of the question).
    unknown = {n for n in away if any(shares.get(t, 0.0) == 0.0 for t in names[n])}
    # An abbreviation the documents use somewhere (USD, EBIT, GAAP) is their vocabulary.
    away -= {n for n in away - unknown if _ACRONYM.fullmatch(n)}
    given = {n for n, ts in names.items() if any(t in rare for t in ts)} - away
    if unknown or (away and not given):
        absent += sorted(away, key=found.index)
    return [n for n in found if n in absent]
