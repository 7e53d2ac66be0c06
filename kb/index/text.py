"""What each chunk is indexed as, by both the dense and the keyword leg."""

from __future__ import annotations

import re


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
