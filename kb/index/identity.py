"""Which documents a question names: its words matched against each document's name.

Real collections name their files after what they are ("3M_2018_10K.pdf",
"hr/2024/leave-policy.docx"), and questions name the same things ("3M's FY2018 capital
expenditure"). A long filing's passages rarely repeat its company and period, so the
passage-level legs cannot tell "3M 2018" from "3M 2022"; the file name can. Pure functions,
unit-tested; kb.search.retrieval adds the scores to the fused ranking.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterator, Mapping, Sequence
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
# Bare numbers shorter than a year are amounts or dates' parts ("20%" beside a file dated
# 2022-05-20), not names.
MIN_DIGITS = 4
_YEAR = re.compile(r"(?:19|20)\d\d")
# A question naming several years ("between FY2021 and FY2022") is about the latest one's
# document, which reports the earlier year beside it (on FinanceBench all 7 such questions).
# Not half: years' idf differ by how many files share a year, which then decided instead.
EARLIER_YEAR = 0.0


def name_words(name: str) -> list[str]:
    """The lower-cased words of a document name, folders included, extension dropped:
    'JOHNSON_JOHNSON_2022Q4_EARNINGS.pdf' -> ['johnson', 'johnson', '2022', 'q4', 'earnings']."""
    return [w.lower() for w in _WORD.findall(split_words(_EXTENSION.sub("", name)))]


def _says_name(word: str, first: bool) -> bool:
    """Whether a question word is written as a name: capitalised (but not merely because it
    starts a sentence), all capitals, mixed case ("JnJ") or with a digit ("Q2", "2023")."""
    if word.isdigit():
        return len(word) >= MIN_DIGITS
    if any(c.isdigit() for c in word) or (len(word) > 1 and word.isupper()):
        return True
    if not word[0].isupper():
        return False
    return not first or any(c.isupper() for c in word[1:])


@dataclass(frozen=True)
class Asked:
    """What a question says as names: whole words, glued runs (prefixes), capitals."""

    words: frozenset[str]  # "orion", "q2", "2023"
    # From each name-like word, the runs starting there, shortest first ("american",
    # "americanwater", "americanwaterworks"): a name word equal to or starting with one.
    glued: tuple[tuple[str, ...], ...]
    capitals: frozenset[str]  # "jj" from "JnJ": initials of consecutive name words
    latest: str = ""  # the latest year named ("2022" of "FY2021 and FY2022"), or ""

    def weight(self, word: str) -> float:
        """How much a matched name word counts: a year before the question's latest, nothing."""
        return EARLIER_YEAR if _YEAR.fullmatch(word) and word < self.latest else 1.0


def asked(question: str) -> Asked:
    """Parse the names out of a question once; matched against every document's name."""
    raw: list[tuple[str, bool]] = []  # (word, starts a sentence)
    for sentence in _SENTENCE.split(split_words(question)):
        raw += [(w, n == 0) for n, w in enumerate(_WORD.findall(sentence))]
    said = [_says_name(w, first) for w, first in raw]
    words = {r.lower() for (r, _), s in zip(raw, said, strict=True) if s}
    glued: list[tuple[str, ...]] = []
    capitals: set[str] = set()
    for i, (word, _) in enumerate(raw):
        if not said[i] or not word[0].isalpha():
            continue
        starting: list[str] = []
        for j in range(1, MAX_RUN + 1):
            if i + j > len(raw) or not all(said[i : i + j]):
                break
            run = "".join(r for r, _ in raw[i : i + j]).lower()
            if len(run) >= MIN_PREFIX:
                starting.append(run)
        if starting:
            glued.append(tuple(starting))
        caps = "".join(c for c in word if c.isupper()).lower()
        if len(caps) >= 2 and caps != word.lower():
            capitals.add(caps)
    latest = max((w for w in words if _YEAR.fullmatch(w)), default="")
    return Asked(frozenset(words), tuple(glued), frozenset(capitals), latest)


def longest(runs: tuple[str, ...], vocab: Sequence[str]) -> str | None:
    """The longest of the runs starting at one word that begins some word of `vocab`
    (sorted): "American Water Works" is AMERICANWATERWORKS, not AMERICANEXPRESS."""
    for run in reversed(runs):
        at = bisect.bisect_left(vocab, run)
        if at < len(vocab) and vocab[at].startswith(run):
            return run
    return None


def runs(words: list[str]) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(initials, words) of each run of 2 to MAX_ACRONYM consecutive name words."""
    for a in range(len(words)):
        for b in range(a + 2, min(a + MAX_ACRONYM, len(words)) + 1):
            yield "".join(w[0] for w in words[a:b]), tuple(words[a:b])


def named(question: str | Asked, words: list[str], vocab: Sequence[str] = ()) -> set[str]:
    """The words of one document name that `question` names.

    Only question words written as names count ("Orion", "MGM", "Q2", "2023"; not "work" or
    "it", which file names are full of). A name word counts when such a word is it, or when
    a run of them glued together is it or starts it ("Best Buy" -> "bestbuy", "MGM" ->
    "mgmresorts"), or when a word's capitals are the initials of consecutive name words
    ("JnJ" -> "johnson johnson", "AmEx" -> "american express"). Of the runs starting at
    one word only the longest found in `vocab` (all documents' name words; by default
    these) counts."""
    q = asked(question) if isinstance(question, str) else question
    return _named(q, _glued(q, vocab or sorted(words)), words)


def _glued(q: Asked, vocab: Sequence[str]) -> set[str]:
    """The question's glued runs that begin a name word: the longest from each word."""
    return {g for g in (longest(r, vocab) for r in q.glued) if g}


def _named(q: Asked, glued: set[str], words: list[str]) -> set[str]:
    found = {w for w in words if w in q.words}
    found.update(w for w in words if not w.isdigit() and any(w.startswith(g) for g in glued))
    for caps, run in runs(words):
        if caps in q.capitals:
            found.update(run)
    return found


@dataclass
class Identities:
    """Every document's name words, with how rare each word is among the documents, and
    indexes from a word, a prefix or initials to the documents (so a question costs what it
    matches, not what the collection holds)."""

    words: dict[str, list[str]]  # doc id -> name words
    idf: dict[str, float] = field(default_factory=dict)
    docs: dict[str, set[str]] = field(default_factory=dict)  # word -> doc ids
    vocab: list[str] = field(default_factory=list)  # sorted, for prefix lookups
    initials: dict[str, set[str]] = field(default_factory=dict)  # initials -> doc ids

    @classmethod
    def of(cls, names: Mapping[str, str]) -> Identities:
        """Identities of documents given as {doc id: name}."""
        words = {d: name_words(n) for d, n in names.items()}
        docs: dict[str, set[str]] = {}
        initials: dict[str, set[str]] = {}
        for d, ws in words.items():
            for w in ws:
                docs.setdefault(w, set()).add(d)
            for caps, _ in runs(ws):
                initials.setdefault(caps, set()).add(d)
        # A word in every name ("pdf" folders, a shared prefix) weighs log 2, not 0: it
        # still separates a named document from an unnamed one when nothing else does.
        idf = {w: math.log(1 + len(words) / len(ds)) for w, ds in docs.items()}
        return cls(words, idf, docs, sorted(docs), initials)

    def scores(self, question: str) -> dict[str, float]:
        """Documents the question names, scored 0-1 (1: the best-named); unnamed ones left out.

        A document scores the idf sum of its name words the question names, so a rare word
        ("Pfizer", "2023Q2") decides more than a common one ("10K")."""
        q = asked(question)
        glued = _glued(q, self.vocab)  # the same for every document: resolved once
        candidates = set().union(*(self.docs.get(w, set()) for w in q.words))
        for g in glued:
            at = bisect.bisect_left(self.vocab, g)
            while at < len(self.vocab) and self.vocab[at].startswith(g):
                candidates |= self.docs[self.vocab[at]]
                at += 1
        candidates |= set().union(*(self.initials.get(c, set()) for c in q.capitals))
        raw = {
            d: sum(self.idf[w] * q.weight(w) for w in _named(q, glued, self.words[d]))
            for d in candidates
        }
        best = max(raw.values(), default=0.0)
        if best <= 0:
            return {}
        return {d: s / best for d, s in raw.items() if s > 0}
