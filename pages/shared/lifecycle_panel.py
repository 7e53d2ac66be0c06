"""The Admin page's lifecycle panels: the stale report with its bulk actions, owner and review
date editing (one document or many), and a document's kept versions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import streamlit as st

from kb.errors import KBError
from kb.index import Change, Document
from kb.ingest import IngestOutcome
from kb.knowledge_base import KnowledgeBase
from kb.security import Principal
from pages.shared.admin_actions import FLASH_KEY, request
from pages.shared.format import lifecycle, ui

STALE_COLUMNS = {
    "name": st.column_config.TextColumn("Document", width="medium"),
    "reasons": st.column_config.TextColumn("Stale because", width="medium"),
    "owner": st.column_config.TextColumn("Owner", width="small"),
    "since": st.column_config.TextColumn("Since", width="small"),
    "cited": st.column_config.NumberColumn("Cited (30 days)", width="small"),
    "details": st.column_config.TextColumn("Details", width="large"),
    "id": None,
}

HISTORY_COLUMNS = {
    "version": st.column_config.TextColumn("Version", width="small"),
    "state": st.column_config.TextColumn("State", width="small"),
    "indexed": st.column_config.TextColumn("Indexed (UTC)", width="small"),
    "replaced": st.column_config.TextColumn("Replaced (UTC)", width="small"),
    "chunks": st.column_config.NumberColumn("Chunks", width="small"),
    "size_kb": st.column_config.NumberColumn("Size", format="%.1f KB", width="small"),
}


def stale_panel(base: KnowledgeBase, docs: Sequence[Document], admin: Principal) -> None:
    """Stale documents, most cited first, and what to do about them."""
    st.subheader("Stale documents", anchor="stale-documents")
    rows = lifecycle.stale_rows(docs, base.stale(user=admin), base.cited())
    if not rows:
        st.caption(":green[:material/check_circle:] No document is stale.")
        return
    st.dataframe(rows, column_config=STALE_COLUMNS, hide_index=True, width="stretch")
    names = {r["id"]: r["name"] for r in rows}
    chosen = st.multiselect(
        "Stale documents to act on",
        list(names),
        format_func=lambda i: names[i],
        placeholder="choose stale documents",
        key="stale_chosen",
    )
    source_col, date_col, reviewed_col, delete_col = st.columns(4, vertical_alignment="bottom")
    if source_col.button(
        "Re-index from source",
        icon=":material/refresh:",
        disabled=not chosen,
        width="stretch",
        key="stale_refresh",
    ):
        _refresh(base, chosen, admin)
    next_review = date_col.date_input(
        "Next review date",
        value=dt.date.today() + dt.timedelta(days=base.settings.review_days or 365),
        min_value=dt.date.today(),
        key="stale_next_review",
    )
    if reviewed_col.button(
        "Mark reviewed",
        icon=":material/task_alt:",
        disabled=not chosen,
        width="stretch",
        key="stale_reviewed",
    ):
        change = Change(review_by=next_review.isoformat(), reviewed=True)
        _apply(base, chosen, change, admin, f"reviewed; next review {next_review}")
    if delete_col.button(
        "Delete", icon=":material/delete:", disabled=not chosen, width="stretch", key="stale_delete"
    ):
        request("delete", chosen)


def _refresh(base: KnowledgeBase, ids: Sequence[str], admin: Principal) -> None:
    bar = st.progress(0.0, text="Re-indexing from source: reading the first file")

    def progress(done: int, total: int, outcome: IngestOutcome) -> None:
        bar.progress(done / total, text=ui.progress_text(done, total, outcome))

    try:
        outcomes = base.refresh(ids, progress, actor=admin)
    except KBError as exc:
        st.error(str(exc))
        return
    lines = "  \n".join(ui.outcome_markdown(o) for o in outcomes)
    level = "success" if all(o.ok for o in outcomes) else "warning"
    st.session_state[FLASH_KEY] = [(level, f"Re-indexed {ui.batch_summary(outcomes)}  \n{lines}")]
    st.rerun()


def _apply(
    base: KnowledgeBase, ids: Sequence[str], change: Change, admin: Principal, what: str
) -> None:
    flash = []
    for doc_id in ids:
        try:
            doc = base.set_lifecycle(doc_id, change, actor=admin)
            flash.append(("success", f"**{ui.escape_markdown(doc.name)}**: {what}."))
        except KBError as exc:
            flash.append(("error", str(exc)))
    st.session_state[FLASH_KEY] = flash
    st.rerun()


def metadata_panel(
    base: KnowledgeBase, chosen: Sequence[str], docs: Sequence[Document], admin: Principal
) -> None:
    """Owner, review date and superseded mark for the documents chosen above."""
    by_id = {d.doc_id: d for d in docs}
    picked = [by_id[i] for i in chosen if i in by_id]
    label = f"Owner and review date ({ui.plural(len(picked), 'document')} chosen)"
    with st.expander(label, expanded=bool(picked), icon=":material/badge:"):
        if not picked:
            st.caption("Choose documents above to set their owner, review date or successor.")
            return
        first = picked[0]
        with st.form("metadata"):
            owner = st.text_input(
                "Owner",
                value=first.owner or "" if len(picked) == 1 else "",
                placeholder="a user name or e-mail address (empty: leave as is)",
            )
            due = st.date_input(
                "Review by",
                value=dt.date.fromisoformat(first.review_by)
                if len(picked) == 1 and first.review_by
                else None,
                key="meta_review_by",
            )
            others = {d.doc_id: d.name for d in docs if d.doc_id not in chosen}
            successor = st.selectbox(
                "Superseded by",
                [""] + list(others),
                format_func=lambda i: others.get(i, "—"),
            )
            saved = st.form_submit_button("Save", type="primary", icon=":material/save:")
        if saved:
            change = Change(
                owner=owner.strip() or None,
                review_by=due.isoformat() if due else None,
                superseded_by=successor or None,
            )
            _apply(base, [d.doc_id for d in picked], change, admin, "saved")


def history_panel(base: KnowledgeBase, doc: Document, admin: Principal) -> None:
    """The live version and the replaced ones kept (openable from earlier answers)."""
    kept = base.versions(doc.doc_id, user=admin)
    st.markdown(f"**History** ({ui.plural(len(kept), 'earlier version')} kept)")
    st.dataframe(
        lifecycle.history_rows(doc, kept),
        column_config=HISTORY_COLUMNS,
        hide_index=True,
        width="stretch",
    )
