"""Which documents a question names: its words matched against each document's name.

Real collections name their files after what they are ("3M_2018_10K.pdf",
"hr/2024/leave-policy.docx"), and questions name the same things ("3M's FY2018 capital
expenditure"). A long filing's passages rarely repeat its company and period, so the
passage-level legs cannot tell "3M 2018" from "3M 2022"; the file name can. Pure functions,
unit-tested; kb.search.retrieval adds the scores to the fused ranking (kb.search.retrieval).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from kb.index.keyword import split_words

_WORD = re.compile(r"[A-Za-z0-9&]+")
_SENTENCE = re.compile(r"(?<=[.!?:;])\s+|\n+")
# A prefix shorter than this matches too much ("Co" -> "Costco"); three letters is the
# shortest company short name seen in FinanceBench's questions ("MGM" -> "MGMRESORTS").
MIN_PREFIX = 3
# The longest run of question words read as one glued name ("American Water Works" ->
# "AMERICANWATERWORKS"), and the longest run of name words an acronym stands for.
MAX_RUN = 3
MAX_ACRONYM = 4
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}$")  # every file has one: it names no document


def name_words(name: str) -> list[str]:
    """The lower-cased words of a document name, folders included, extension dropped:
    'JOHNSON_JOHNSON_2022Q4_EARNINGS.pdf' -> ['johnson', 'johnson', '2022', 'q4', 'earnings']."""
    return [w.lower() for w in _WORD.findall(split_words(_EXTENSION.sub("", name)))]


def _says_name(word: str, first: bool) -> bool:
    """Whether a question word is written as a name: capitalised (but not merely because it
    starts a sentence), all capitals, mixed case ("JnJ") or with a digit ("Q2", "2023")."""
    if any(c.isdigit() for c in word) or (len(word) > 1 and word.isupper()):
        return True
    if not word[0].isupper():
        return False
    return not first or any(c.isupper() for c in word[1:])


def named(question: str, words: list[str]) -> set[str]:
    """The words of one document name that `question` names.

    Only question words written as names count ("Orion", "MGM", "Q2", "2023"; not "work" or
    "it", which file names are full of). A name word counts when such a word is it, or when
    a run of them glued together is it or starts it ("Best Buy" -> "bestbuy", "MGM" ->
    "mgmresorts"), or when a word's capitals are the initials of consecutive name words
    ("JnJ" -> "johnson johnson", "AmEx" -> "american express")."""
    raw: list[tuple[str, bool]] = []  # (word, starts a sentence)
    for sentence in _SENTENCE.split(split_words(question)):
        raw += [(w, n == 0) for n, w in enumerate(_WORD.findall(sentence))]
    said = [_says_name(w, first) for w, first in raw]
    found = {
        w for w in words if any(s and w == r.lower() for (r, _), s in zip(raw, said, strict=True))
    }
    for i, (word, _) in enumerate(raw):
        if not said[i] or not word[0].isalpha():
            continue
        for j in range(1, MAX_RUN + 1):
            run = raw[i : i + j]
            if len(run) < j or not all(said[i : i + j]):
                break
            glued = "".join(r for r, _ in run).lower()
            if len(glued) < MIN_PREFIX:
                continue
            found.update(w for w in words if w.startswith(glued) and not w.isdigit())
        capitals = "".join(c for c in word if c.isupper()).lower()
        if len(capitals) >= 2 and capitals != word.lower():
            for a in range(len(words)):
                for b in range(a + 2, min(a + MAX_ACRONYM, len(words)) + 1):
                    if "".join(w[0] for w in words[a:b]) == capitals:
                        found.update(words[a:b])
    return found


@dataclass
class Identities:
    """Every document's name words, with how rare each word is among the documents."""

    words: dict[str, list[str]]  # doc id -> name words
    idf: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, names: Mapping[str, str]) -> Identities:
        """Identities of documents given as {doc id: name}."""
        words = {d: name_words(n) for d, n in names.items()}
        df: dict[str, int] = {}
        for ws in words.values():
            for w in set(ws):
                df[w] = df.get(w, 0) + 1
        # A word in every name ("pdf" folders, a shared prefix) weighs log 2, not 0: it
        # still separates a named document from an unnamed one when nothing else does.
        idf = {w: math.log(1 + len(words) / c) for w, c in df.items()}
        return cls(words, idf)

    def scores(self, question: str) -> dict[str, float]:
        """Documents the question names, scored 0-1 (1: the best-named); unnamed ones left out.

        A document scores the idf sum of its name words the question names, so a rare word
        ("Pfizer", "2023Q2") decides more than a common one ("10K")."""
        raw = {d: sum(self.idf[w] for w in named(question, ws)) for d, ws in self.words.items()}
        best = max(raw.values(), default=0.0)
        if best <= 0:
            return {}
        return {d: s / best for d, s in raw.items() if s > 0}
