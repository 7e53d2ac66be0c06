"""The Admin page's document metadata: owner, review date and successor for the chosen
documents (one or many), and a document's history (the live and the kept versions)."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from kb.index import Change, Document
from kb.knowledge_base import KnowledgeBase
from kb.security import Principal
from pages.shared.format import lifecycle, ui
from pages.shared.stale_panel import apply_change

HISTORY_COLUMNS = {
    "version": st.column_config.TextColumn("Version", width="small"),
    "state": st.column_config.TextColumn("State", width="small"),
    "indexed": st.column_config.TextColumn("Indexed (UTC)", width="small"),
    "replaced": st.column_config.TextColumn("Replaced (UTC)", width="small"),
    "chunks": st.column_config.NumberColumn("Chunks", width="small"),
    "size_kb": st.column_config.NumberColumn("Size", format="%.1f KB", width="small"),
}


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
                value=(first.owner or "") if len(picked) == 1 else "",
                placeholder="a user name or e-mail address (empty: leave as is)",
            )
            due = st.date_input(
                "Review by",
                value=lifecycle.review_date_of(picked),
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
            apply_change(base, [d.doc_id for d in picked], change, admin, "saved")


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
