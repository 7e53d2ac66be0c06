"""Citation checks: every [n] must name a passage that was given, and say what that passage says."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from kb.index.keyword import tokenize

_MARKER = re.compile(r"\[(\d{1,3})\]")
_LEADING_MARKERS = re.compile(r"^(?:\s*\[\d{1,3}\])+")
# A sentence ends at . ! ? followed by space (markers may sit on either side of the stop),
# and at every line break (lists).
_BOUNDARY = re.compile(r"(?<=[.!?])[ \t]+|[ \t]*\n+[ \t]*")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")


@dataclass
class SentenceCheck:
    """One sentence of a generated answer and whether its cited passages back it."""

    text: str  # the sentence without its markers
    cited: list[int]  # markers that name a given passage (kept)
    invented: list[int] = field(default_factory=list)  # markers naming none (removed)
    support: float = 1.0  # share of the sentence's content words found in the cited passages
    supported: bool = True
    reason: str = ""  # why not supported, for the UI and the source inspector
    added: bool = False  # the model cited nothing; kb found the passage that says it
    sep: str = " "  # what followed the sentence in the answer (a space or a line break)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass
class Verification:
    """The checked answer: its sentences, and the text with invented markers removed."""

    sentences: list[SentenceCheck]

    @property
    def text(self) -> str:
        """The answer as shown: each sentence with its kept markers."""
        return "".join(render(s) + s.sep for s in self.sentences).strip()

    @property
    def unsupported(self) -> list[SentenceCheck]:
        """Sentences their cited passages do not back."""
        return [s for s in self.sentences if not s.supported]

    @property
    def invented(self) -> list[int]:
        """Every removed marker, in order."""
        return [n for s in self.sentences for n in s.invented]


def render(s: SentenceCheck) -> str:
    """The sentence with its markers, placed before its final full stop."""
    marks = "".join(f" [{n}]" for n in s.cited)
    if not marks:
        return s.text
    # Markers go before the final full stop, as the prompt's example writes them.
    if s.text[-1:] in ".!?":
        return f"{s.text[:-1]}{marks}{s.text[-1]}"
    return s.text + marks


def split_answer(text: str) -> list[tuple[str, list[int], str]]:
    """(sentence without markers, its markers, the separator after it) for each sentence.

    A marker that opens a sentence ("... 45 days. [1] The rate ...") belongs to the one before."""
    pieces: list[tuple[str, str]] = []
    pos = 0
    for m in _BOUNDARY.finditer(text):
        pieces.append((text[pos : m.start()], "\n" if "\n" in m.group(0) else " "))
        pos = m.end()
    pieces.append((text[pos:], ""))
    out: list[tuple[str, list[int], str]] = []
    for raw, sep in pieces:
        lead = _LEADING_MARKERS.match(raw)
        if lead and out:
            prev_text, prev_marks, _ = out[-1]
            prev_marks.extend(int(n) for n in _MARKER.findall(lead.group(0)))
            out[-1] = (prev_text, prev_marks, out[-1][2])
            raw = raw[lead.end() :]
        marks = [int(n) for n in _MARKER.findall(raw)]
        clean = re.sub(r"\s+([.,;:!?])", r"\1", _MARKER.sub("", raw))
        clean = " ".join(clean.split())
        if clean:
            out.append((clean, marks, sep))
        elif out:  # only markers: they and the line break after them go to the sentence before
            out[-1] = (out[-1][0], out[-1][1] + marks, sep or out[-1][2])
    return [(t, list(dict.fromkeys(m)), s) for t, m, s in out]


def numbers(text: str) -> set[str]:
    """The numbers in `text`, thousands separators dropped ("11,500" and "11500" are equal)."""
    return {n.rstrip(".,:") for n in _NUMBER.findall(_THOUSANDS.sub("", text))}


def _support(words: set[str], nums: set[str], passage: str) -> tuple[float, set[str]]:
    tokens = set(tokenize([passage])[0])
    overlap = len(words & tokens) / len(words) if words else 1.0
    return overlap, nums - numbers(passage)


def _backer(
    words: set[str], nums: set[str], passages: Mapping[int, str], threshold: float
) -> tuple[int, float] | None:
    """(n, support) of the one passage that best backs a sentence on its own, if any does."""
    scored = [(*_support(words, nums, p), n) for n, p in passages.items()]
    backing = [
        (overlap, n) for overlap, missing, n in scored if overlap >= threshold and not missing
    ]
    if not backing:
        return None
    overlap, n = max(backing, key=lambda b: (b[0], -b[1]))
    return n, overlap


def verify_citations(answer: str, passages: Mapping[int, str], threshold: float) -> Verification:
    """Check each sentence of `answer` against the passages it cites by [n].

    A sentence is supported when at least `threshold` of its content words (stemmed, stop
    words dropped) occur in its cited passages and every number in it occurs there too.
    Markers that name no passage are removed; a sentence that cites nothing, or cites a
    passage that does not back it, gets the marker of the passage that does (marked as added
    by kb: small models cite weakly)."""
    checks: list[SentenceCheck] = []
    for text, marks, sep in split_answer(answer):
        cited = [n for n in marks if n in passages]
        invented = [n for n in marks if n not in passages]
        words = set(tokenize([text])[0])
        nums = numbers(text)
        check = SentenceCheck(text, cited, invented, sep=sep)
        if not words and not nums:
            checks.append(check)  # "Yes." or a heading: nothing to check
            continue
        if cited:
            joined = "\n".join(passages[n] for n in cited)
            check.support, missing = _support(words, nums, joined)
            check.supported = check.support >= threshold and not missing
            backer = None if check.supported else _backer(words, nums, passages, threshold)
            if backer is not None:  # a small model's wrong [n]: the passage that says it
                check.cited, check.added, check.supported = [backer[0]], True, True
                check.support = backer[1]
            elif missing:
                check.reason = f"{', '.join(sorted(missing))} is not in the cited source"
            elif not check.supported:
                check.reason = "not supported by the cited source"
        else:
            scored = [(*_support(words, nums, p), n) for n, p in passages.items()]
            best = max(scored, key=lambda s: (s[0], -len(s[1]), -s[2]), default=None)
            if best and best[0] >= threshold and not best[1]:
                check.cited, check.added, check.support = [best[2]], True, best[0]
            else:
                check.support = best[0] if best else 0.0
                check.supported = False
                check.reason = "cites no source, and no source says it"
        checks.append(check)
    return Verification(checks)
