"""What the Streamlit pages show, computed without Streamlit: markdown, highlights, scores, rows."""

from __future__ import annotations

import math
import mimetypes
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb.answer import Answer, Citation
from kb.index import Document, tokenize
from kb.ingest import EXTENSIONS, IngestOutcome
from kb.search import Fused, Hit

if TYPE_CHECKING:
    from kb.knowledge_base import KnowledgeBase
    from kb.security import Principal

# Every character Streamlit's markdown gives a meaning to: CommonMark punctuation, GFM tables
# and strikethrough, `$` for LaTeX, `:` for colour directives and icons, `=` for setext titles.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:=&^])")
_WORD = re.compile(r"\w+")
_MARKER = re.compile(r"\\\[(\d{1,3})\\\]")  # an [n] citation marker after escaping
HIGHLIGHT = "orange-background"
FORMAT_NAMES = {"pdf": "PDF", "docx": "Word (DOCX)", "pptx": "PowerPoint (PPTX)",
    "xlsx": "Excel (XLSX)", "html": "HTML", "md": "Markdown", "txt": "plain text",
    "eml": "e-mail (EML)", "csv": "CSV", "image": "scans and images, read by OCR"}  # fmt: skip


# -- markdown ---------------------------------------------------------------------------------
def escape_markdown(text: str) -> str:
    """`text` as markdown that shows every character literally (no links, no formatting)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def _by_line(text: str, render: Callable[[str], str]) -> str:
    # Markdown joins single lines and turns indented lines into code: keep the passage's
    # line breaks as hard breaks and drop the indentation.
    paragraphs = []
    for para in re.split(r"\n\s*\n", text.strip()):
        lines = [render(ln.strip()) for ln in para.splitlines() if ln.strip()]
        paragraphs.append("  \n".join(lines))
    return "\n\n".join(p for p in paragraphs if p)


def matched_words(text: str, query: str) -> set[str]:
    """The words of `text` whose stem is a query term ("expenses" matches "expense")."""
    terms = set(tokenize([query])[0]) if query.strip() else set()  # stemmed as BM25 stems
    words = sorted({m.group(0) for m in _WORD.finditer(text)})
    if not terms or not words:
        return set()
    return {w for w, stems in zip(words, tokenize(words), strict=True) if terms & set(stems)}


def highlight(text: str, query: str) -> str:
    """The passage as safe markdown, the words that matched the query highlighted."""
    matched = matched_words(text, query)

    def line(raw: str) -> str:
        parts = re.split(r"(\w+)", raw)  # separators at even indices, words at odd ones
        out, i = [], 0
        while i < len(parts):
            if i % 2 and parts[i] in matched:
                # Adjacent matches share one highlight: "expense claims", not two boxes.
                j = i + 2
                while j < len(parts) and parts[j] in matched and parts[j - 1].isspace():
                    j += 2
                out.append(f":{HIGHLIGHT}[{escape_markdown(''.join(parts[i : j - 1]))}]")
                i = j - 1
            else:
                out.append(escape_markdown(parts[i]))
                i += 1
        return "".join(out)

    return _by_line(text, line)


def answer_markdown(text: str) -> str:
    """The answer as safe markdown, its [n] markers drawn as blue citation marks."""
    return _MARKER.sub(r":blue[**\\[\1\\]**]", escape_markdown(text))


# -- answers and sources ----------------------------------------------------------------------
@dataclass
class ChatTurn:
    """One question of a chat session and what came back."""

    question: str
    answer: Answer | None
    seconds: float
    error: str = ""


def format_seconds(seconds: float) -> str:
    """A duration for people: milliseconds below one second."""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def format_score(value: float | None, kind: str) -> str:
    """A score as shown: BM25 with 2 decimals, cosine and fused with 3, '—' when missing."""
    if value is None or math.isnan(value):
        return "—"
    return f"{value:.2f}" if kind == "keyword" else f"{value:.3f}"


def score_line(hit: Hit) -> str:
    """Fused, dense and keyword scores of a hit with its rank in each leg."""
    named = hit.scores.get("named")
    label = "fused + name" if named else "fused"
    parts = [f"{label} {format_score(hit.score, 'fused')}"]
    for leg, label in (("dense", "dense cosine"), ("keyword", "keyword BM25")):
        value, rank = hit.scores.get(leg), hit.ranks.get(leg)
        if value is None:
            parts.append(f"{label} — (not a {leg} hit)")
        else:
            parts.append(f"{label} {format_score(value, leg)} (#{rank})")
    if named:
        parts.append(f"file name matches the question {named:.2f}")
    return " · ".join(parts)


def location(name: str, page: int | None, heading: str) -> str:
    """'name · page 3 · heading' as safe markdown, the name in bold."""
    parts = [f"**{escape_markdown(name)}**"]
    if page:
        parts.append(f"page {page}")
    if heading:
        parts.append(escape_markdown(heading))
    return " · ".join(parts)


def source_title(citation: Citation) -> str:
    """The header of one entry in the Sources panel: its [n] marker and where it is from."""
    return (
        f":blue[**\\[{citation.n}\\]**] {location(citation.name, citation.page, citation.heading)}"
    )


def hit_for(answer: Answer, citation: Citation) -> Hit | None:
    """The retrieved hit a citation came from (it carries the scores)."""
    return next((h for h in answer.hits if h.chunk_id == citation.chunk_id), None)


def mime_type(name: str) -> str:
    """The MIME type a download of `name` gets."""
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def is_pdf(name: str) -> bool:
    """Whether the browser's PDF viewer can open this file at a page."""
    return Path(name).suffix.lower() == ".pdf"


# -- upload -----------------------------------------------------------------------------------
def accepted_extensions() -> list[str]:
    """File extensions the uploader accepts (without dots)."""
    return sorted(ext.lstrip(".") for ext in EXTENSIONS)


def formats_line() -> str:
    """The accepted formats in words, with their extensions."""
    by_kind: dict[str, list[str]] = {}
    for ext, kind in EXTENSIONS.items():
        by_kind.setdefault(kind, []).append(ext)
    return ", ".join(f"{FORMAT_NAMES[k]} ({' '.join(exts)})" for k, exts in by_kind.items())


def upload_limit_mb(max_upload_mb: float) -> int:
    """The browser-side limit in whole megabytes (kb itself enforces the exact one)."""
    return max(1, math.ceil(max_upload_mb))


# Material icons, not emoji: they render the same in every browser (emoji fonts vary).
_STATUS = {
    "indexed": (":material/check_circle:", "green", "indexed"),
    "replaced": (":material/published_with_changes:", "green", "replaced"),
    "reindexed": (":material/sync:", "green", "re-indexed"),
    "unchanged": (":material/radio_button_unchecked:", "gray", "unchanged"),
    "failed": (":material/error:", "red", "failed"),
}


def compact(n: int) -> str:
    """A count short enough for a metric card (four characters): 950, 9.5k, 11k, 3.4M."""
    if abs(n) < 1_000:
        return str(n)
    # 999,999 is "1M", not "1000k": the unit is picked after rounding.
    limit, suffix = (1_000, "k") if abs(n) < 999_500 else (1_000_000, "M")
    value = n / limit
    return (f"{value:.1f}".removesuffix(".0") if abs(value) < 9.95 else f"{value:.0f}") + suffix


def plural(n: int, word: str) -> str:
    """'1 document', '2 documents'."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def outcome_markdown(outcome: IngestOutcome) -> str:
    """One line per file: indexed (N chunks), unchanged, replaced, or failed with the reason."""
    icon, colour, word = _STATUS.get(outcome.status, (":material/info:", "gray", outcome.status))
    head = f":{colour}[{icon}] **{escape_markdown(outcome.name)}**: :{colour}[**{word}**]"
    if outcome.status == "failed":
        return f"{head} — {escape_markdown(outcome.reason)}"
    if outcome.status == "unchanged":
        return f"{head} (already indexed, {outcome.chunks} chunks)"
    extra = "; old version out of search" if outcome.status == "replaced" else ""
    return f"{head} ({outcome.chunks} chunks{extra})"


def batch_summary(outcomes: Sequence[IngestOutcome]) -> str:
    """'3 files: 2 indexed, 1 failed'."""
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    files = plural(len(outcomes), "file")
    order = [*_STATUS, *sorted(set(counts) - set(_STATUS))]  # the same order every time
    return f"{files}: " + ", ".join(f"{counts[s]} {s}" for s in order if s in counts)


def progress_text(done: int, total: int, outcome: IngestOutcome) -> str:
    """The label of the progress bar after a file finished."""
    return f"{done} of {total} files done (last: {outcome.name}, {outcome.status})"


# -- admin ------------------------------------------------------------------------------------
def ingested_at(doc: Document) -> datetime:
    """When the live version was ingested (UTC)."""
    when = datetime.fromisoformat(doc.ingested_at)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def format_size(size: int) -> str:
    """Bytes for people: B, KB or MB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def document_rows(
    docs: Sequence[Document], stale: Mapping[str, Sequence[str]]
) -> list[dict[str, Any]]:
    """The admin table: one row per document, sizes in KB, owner, review date, and why it
    is stale (`stale`: doc id -> reasons, from KnowledgeBase.stale)."""
    return [
        {
            "name": d.name,
            "type": d.kind.upper(),
            "pages": str(d.pages) if d.pages else "–",  # formats without pages
            "chunks": d.chunks,
            "size_kb": round(d.size / 1024, 1),
            "ingested_at": ingested_at(d),
            "status": d.status,
            "groups": ", ".join(d.groups),
            "owner": d.owner or "",
            "review_by": d.review_by or "",
            "stale": ", ".join(stale.get(d.doc_id, ())),
            "id": d.doc_id,
        }
        for d in docs
    ]


def filter_documents(
    docs: Sequence[Document],
    text: str = "",
    kinds: Sequence[str] = (),
    stale: Mapping[str, Sequence[str]] | None = None,
) -> list[Document]:
    """Documents whose name contains `text`, of the given kinds, and (given `stale`: doc id ->
    reasons) only the stale ones."""
    needle = text.strip().lower()
    return [
        d
        for d in docs
        if needle in d.name.lower()
        and (not kinds or d.kind in kinds)
        and (stale is None or bool(stale.get(d.doc_id)))
    ]


def stats_lines(stats: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs for the collection statistics."""
    return [
        ("Documents", str(stats["documents"])),
        ("Chunks", str(stats["chunks"])),
        ("Stored size", format_size(int(stats["bytes"]))),
    ]


def store_line(stats: dict[str, Any]) -> str:
    """What each store holds: they agree when all three counts are equal."""
    return (
        f"The registry lists {stats['chunks']} chunks, Chroma holds {stats['stored_chunks']} "
        f"vectors and the keyword index {stats['keyword_entries']} entries."
    )


def table_height(rows: int, cap: int = 740) -> int:
    """Pixels for a table to show every row (a header and 35 px per row), up to `cap`."""
    return min(cap, 35 * (rows + 1) + 3)


def formats_summary(stats: dict[str, Any]) -> str:
    """'3 PDF, 1 DOCX' from the statistics' per-format counts."""
    kinds = sorted(stats.get("by_kind", {}).items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{n} {k.upper()}" for k, n in kinds) or "no documents"


# -- source inspector -------------------------------------------------------------------------
@dataclass(frozen=True)
class ChunkInfo:
    """Where a chunk comes from, for the inspector's tables."""

    name: str
    page: int | None
    heading: str
    text: str


def chunk_info(base: KnowledgeBase, ids: Sequence[str], user: Principal) -> dict[str, ChunkInfo]:
    """Name, page, heading and text of the chunks `user` may see, by id (one store read)."""
    out = {}
    for cid, chunk in base.chunks(ids, user=user).items():
        page = chunk.meta.get("page")
        out[cid] = ChunkInfo(
            str(chunk.meta.get("name", "")),
            int(page) if isinstance(page, int | float) and page > 0 else None,
            str(chunk.meta.get("heading", "")),
            chunk.text,
        )
    return out


def _where(cid: str, info: dict[str, ChunkInfo], width: int = 110) -> dict[str, Any]:
    c = info.get(cid) or ChunkInfo("?", None, "", "")
    flat = " ".join(c.text.split())
    passage = flat if len(flat) <= width else flat[: width - 1] + "…"
    return {
        "document": c.name,
        "page": str(c.page) if c.page else "–",  # formats without pages
        "heading": c.heading,
        "passage": passage,
        "chunk": cid,
    }


def leg_rows(
    ranking: Sequence[tuple[str, float]], info: dict[str, ChunkInfo], limit: int
) -> list[dict[str, Any]]:
    """Rows of one retrieval leg (dense or keyword): rank, score, where the chunk is from."""
    return [
        {"rank": n, "score": round(score, 4), **_where(cid, info)}
        for n, (cid, score) in enumerate(ranking[:limit], 1)
    ]


def fused_rows(
    fused: Sequence[Fused], info: dict[str, ChunkInfo], limit: int, k: int
) -> list[dict[str, Any]]:
    """Rows of the fused ranking, with both legs' scores and ranks and whether it made the top k."""
    return [
        {
            "rank": n,
            "fused": round(f.score, 4),
            "dense": None if f.dense is None else round(f.dense, 4),
            "dense rank": f.dense_rank,
            "keyword": None if f.keyword is None else round(f.keyword, 3),
            "keyword rank": f.keyword_rank,
            "name match": None if f.named is None else round(f.named, 3),
            "top k": n <= k,
            **_where(f.id, info),
        }
        for n, f in enumerate(fused[:limit], 1)
    ]
