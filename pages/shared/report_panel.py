"""The Admin page's parse report: how a chosen document was read (pages, OCR, tables, chunks,
warnings, time), so a bad parse is seen before users ask about it."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from kb.index import Document
from kb.ingest import summary
from kb.security import Principal
from pages.shared.format import ui


def report_panel(docs: Sequence[Document], admin: Principal) -> Document | None:
    """A document picker (preset by ?doc=ID, as the Upload page links it) and its report;
    returns the document shown."""
    st.subheader("Parse report and history", anchor="parse-report")
    if not docs:
        st.caption("No documents yet.")
        return None
    ids = [d.doc_id for d in docs]
    wanted = st.query_params.get("doc")
    by_id = {d.doc_id: d for d in docs}
    chosen = st.selectbox(
        "Document",
        ids,
        index=ids.index(wanted) if wanted in by_id else 0,
        format_func=lambda i: by_id[i].name,
        key="report_doc",
    )
    doc = by_id[chosen]
    report = doc.report
    if not report:
        st.info(summary(report))
        return doc
    figures = [
        ("Pages", str(report.get("pages") or "-")),
        ("Text layer", str(report.get("pages_with_text") if report.get("pages") else "-")),
        ("By OCR", str(report.get("ocr_pages", 0))),
        ("Tables", str(report.get("tables", 0))),
        ("Characters", ui.compact(int(report.get("characters", 0)))),
        ("Chunks", str(report.get("chunks", 0))),
        ("Parse", _seconds(report.get("parse_seconds", 0))),
        ("Embed", _seconds(report.get("embed_seconds", 0))),
    ]
    for col, (label, value) in zip(st.columns(len(figures)), figures, strict=True):
        col.metric(label, value, border=True)
    st.caption(
        f"Read by **{ui.escape_markdown(str(report.get('parser', '?')))}** as "
        f"{str(report.get('kind', doc.kind)).upper()}; version {doc.version}, "
        f"indexed {doc.ingested_at}."
    )
    warnings = report.get("warnings") or []
    if warnings:
        st.warning("\n".join(f"- {ui.escape_markdown(w)}" for w in warnings))
    else:
        st.caption(":green[:material/check_circle:] No warnings: every page yielded text.")
    return doc


def _seconds(value: float) -> str:
    # Four characters fit a card of eight: "9.4 s", "12 s".
    return f"{value:.1f} s" if value < 9.95 else f"{value:.0f} s"
