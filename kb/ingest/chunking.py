"""Split parsed Blocks into chunks at semantic boundaries: titles, pages, paragraphs, rows."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kb.ingest.parsing import Block
from kb.ingest.tables import markdown_table

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_ENDS_PARAGRAPH = re.compile(r"[.!?:;\"')\]]$")


@dataclass
class Chunk:
    """A passage to embed and index, with where it came from."""

    text: str
    page: int | None
    heading: str
    element_types: list[str] = field(default_factory=list)


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`; lines are boundaries too (lists, addresses, table rows)."""
    out: list[str] = []
    for line in text.splitlines():
        out.extend(s.strip() for s in _SENTENCE_END.split(line) if s.strip())
    return out


def _split_long(text: str, size: int, overlap: int) -> list[str]:
    """Pieces of at most `size` chars cut at sentence ends, each repeating ~`overlap` chars."""
    sentences: list[str] = []
    for s in split_sentences(text):
        # A sentence longer than a chunk (no punctuation at all) is cut at word boundaries.
        while len(s) > size:
            cut = s.rfind(" ", 0, size)
            cut = cut if cut > size // 2 else size
            sentences.append(s[:cut].strip())
            s = s[cut:].strip()
        if s:
            sentences.append(s)
    pieces: list[str] = []
    current: list[str] = []
    for s in sentences:
        if current and len(" ".join(current + [s])) > size:
            pieces.append(" ".join(current))
            tail: list[str] = []
            for prev in reversed(current):
                if len(" ".join([prev] + tail)) > overlap:
                    break
                tail.insert(0, prev)
            current = tail
        current.append(s)
    if current:
        pieces.append(" ".join(current))
    return pieces


def _table_chunks(block: Block, size: int) -> list[str]:
    """Render a table as Markdown, split by rows, each piece repeating the header row."""
    rows = list(block.rows or ((block.text,),))
    header, body = rows[0], rows[1:]
    if not body:
        return [markdown_table(header, [])]
    pieces: list[str] = []
    group: list[tuple[str, ...]] = []
    for row in body:
        if group and len(markdown_table(header, group + [row])) > size:
            pieces.append(markdown_table(header, group))
            group = []
        group.append(row)
    pieces.append(markdown_table(header, group))
    return pieces


class _Builder:
    """Accumulates blocks of one section and page into chunks no longer than `size`."""

    def __init__(self, size: int, overlap: int) -> None:
        self.size, self.overlap = size, overlap
        self.chunks: list[Chunk] = []
        self.parts: list[str] = []
        self.types: list[str] = []
        self.page: int | None = None
        self.heading = ""

    def flush(self) -> None:
        text = "".join(self.parts).strip()
        if text:
            self.chunks.append(Chunk(text, self.page, self.heading, sorted(set(self.types))))
        self.parts, self.types = [], []

    def emit(self, text: str, kind: str, page: int | None) -> None:
        types = [kind]
        if self.types and all(t == "Title" for t in self.types):
            # A bare heading is no passage: it leads the table or paragraph it introduces.
            text = "".join(self.parts).strip() + "\n\n" + text
            types.append("Title")
            self.parts, self.types = [], []
        self.flush()
        self.chunks.append(Chunk(text, page, self.heading, sorted(types)))

    def add(self, block: Block) -> None:
        text = block.text.strip()
        if not self.parts:
            self.page = block.page
            joiner = ""
        elif block.kind == "ListItem":
            joiner = "\n- " if self.types and self.types[-1] == "ListItem" else "\n\n- "
        elif _ENDS_PARAGRAPH.search(self.parts[-1]) or self.types[-1] == "Title":
            joiner = "\n\n"
        else:
            joiner = " "  # PDF lines of one paragraph arrive as separate elements
        if block.kind == "ListItem" and not self.parts:
            text = "- " + text
        if len(text) > self.size:
            if not all(t == "Title" for t in self.types):
                self.flush()
            for piece in _split_long(text, self.size, self.overlap):
                self.emit(piece, block.kind, block.page)
            return
        if self.parts and len("".join(self.parts)) + len(joiner) + len(text) > self.size:
            self.flush()
            self.page = block.page
            joiner = ""
            text = ("- " + block.text.strip()) if block.kind == "ListItem" else text
        self.parts.append(joiner + text)
        self.types.append(block.kind)


def chunk_blocks(blocks: list[Block], size: int = 1000, overlap: int = 150) -> list[Chunk]:
    """Chunks that start at every title and page, keep paragraphs whole where they fit,
    and keep tables as tables with their header row."""
    b = _Builder(size, overlap)
    stack: list[tuple[int, str]] = []  # (depth, title) of the enclosing headings
    for block in blocks:
        if not block.text.strip() and not block.rows:
            continue
        page_changed = b.parts and block.page != b.page
        if block.kind == "Title":
            only_titles = bool(b.types) and all(t == "Title" for t in b.types)
            if not only_titles or page_changed:
                b.flush()
            stack = [(d, t) for d, t in stack if d < block.depth] + [(block.depth, block.text)]
            b.heading = " > ".join(t for _, t in stack)
            b.add(block)
            continue
        if page_changed:
            b.flush()
        if block.kind == "Table":
            for piece in _table_chunks(block, size):
                b.emit(piece, "Table", block.page)
            continue
        b.add(block)
    b.flush()
    return b.chunks
