"""What each chunk is indexed as, by both the dense and the keyword leg."""

from __future__ import annotations

import re

from kb.index.ids import split_chunk_id


def title_of(name: str) -> str:
    """A readable title from a file name: 'travel-per-diem_rates.csv' -> 'travel per diem rates'."""
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return re.sub(r"[-_]+", " ", stem).strip()


def search_text(name: str, heading: str, text: str) -> str:
    """What both legs index for a chunk: its document title and heading give it context
    (a passage under 'Leave' that never says 'leave' still matches a question about leave)."""
    context = " / ".join(p for p in (title_of(name), heading) if p)
    # snake_case column names ("hotel_cap_per_night") must match the words in a question.
    text = text.replace("_", " ")
    return f"{context}\n\n{text}" if context else text


# A page's title is usually among its first words ("3M Company and Subsidiaries Consolidated
# Statement of Cash Flows", 11 words; a slide's title), and the page's later passages no longer
# say it. 16 words held it on FinanceBench; 8 cut it (BENCHMARKS.md, "A page's first words").
PAGE_OPENER_WORDS = 16

PageKey = tuple[str, str, int]  # (doc_id, version, page)


def page_openers(passages: list[tuple[str, int | None, str]]) -> dict[PageKey, tuple[int, str]]:
    """Per page, its first passage's position and the page's first words (read on into the
    next passages when the first is shorter: "AMAZON.COM, INC." alone says little), from
    (chunk id, page, text) triples; a passage without a page is skipped."""
    pages: dict[PageKey, list[tuple[int, str]]] = {}
    for chunk_id, page, text in passages:
        if page is not None:
            doc_id, version, index = split_chunk_id(chunk_id)
            pages.setdefault((doc_id, version, page), []).append((index, text))
    out: dict[PageKey, tuple[int, str]] = {}
    for key, found in pages.items():
        found.sort()
        words: list[str] = []
        for _, text in found:
            words += text.split()[: PAGE_OPENER_WORDS - len(words)]
            if len(words) >= PAGE_OPENER_WORDS:
                break
        out[key] = (found[0][0], " ".join(words))
    return out


def with_page_opener(
    chunk_id: str, page: int | None, indexed: str, openers: dict[PageKey, tuple[int, str]]
) -> str:
    """A passage's indexed text with its page's first words in front, unless it is the page's
    first passage (which says them already) or has no page."""
    if page is None:
        return indexed
    doc_id, version, index = split_chunk_id(chunk_id)
    position, opener = openers.get((doc_id, version, page), (index, ""))
    return indexed if position == index or not opener else f"{opener}\n\n{indexed}"
