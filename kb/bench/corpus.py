"""A generated corpus for ingest benchmarks: multi-page documents built from BEIR abstracts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from kb.errors import ConfigError, DatasetError

FORMATS = ("pdf", "docx", "md", "html", "txt")
ABSTRACTS_PER_DOC = 5  # one abstract per page/section: 5-page documents


def _abstracts(scifact: Path, n: int) -> list[tuple[str, str]]:
    out = []
    try:
        with open(scifact / "corpus.jsonl") as f:
            for line in f:
                row = json.loads(line)
                if row.get("title") and len(row.get("text", "")) > 400:
                    out.append((row["title"], row["text"]))
                if len(out) == n:
                    break
    except OSError as exc:
        raise DatasetError(f"cannot read {scifact}/corpus.jsonl: {exc}") from exc
    return out


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _write(path: Path, fmt: str, sections: list[tuple[str, str]]) -> None:
    if fmt == "pdf":
        from fpdf import FPDF

        pdf = FPDF()
        pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=UTC))  # same bytes on every run
        for title, text in sections:
            pdf.add_page()
            pdf.set_font("helvetica", "B", 14)
            pdf.multi_cell(0, 8, _latin1(title), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("helvetica", size=10)
            pdf.multi_cell(0, 5, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        pdf.output(str(path))
    elif fmt == "docx":
        import docx

        document = docx.Document()
        for title, text in sections:
            document.add_heading(title, level=1)
            document.add_paragraph(text)
        document.save(str(path))
    elif fmt == "md":
        path.write_text("".join(f"## {t}\n\n{x}\n\n" for t, x in sections))
    elif fmt == "html":
        body = "".join(f"<h2>{t}</h2>\n<p>{x}</p>\n" for t, x in sections)
        path.write_text(f"<!DOCTYPE html><html><body>{body}</body></html>")
    else:
        path.write_text("".join(f"{t.upper()}\n\n{x}\n\n" for t, x in sections))


def make_corpus(out: Path, scifact: Path, n_docs: int) -> list[Path]:
    """Write `n_docs` documents (formats in turn) of 5 abstracts each into `out`."""
    try:
        import docx  # noqa: F401
        import fpdf  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            "the benchmark corpus needs the dev extras; run `make test` once"
        ) from exc
    out.mkdir(parents=True, exist_ok=True)
    abstracts = _abstracts(scifact, n_docs * ABSTRACTS_PER_DOC)
    paths = []
    for i in range(n_docs):
        sections = abstracts[i * ABSTRACTS_PER_DOC : (i + 1) * ABSTRACTS_PER_DOC]
        if not sections:
            break
        fmt = FORMATS[i % len(FORMATS)]
        path = out / f"bench-{i:04d}.{fmt}"
        _write(path, fmt, sections)
        paths.append(path)
    return paths
