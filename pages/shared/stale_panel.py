"""The Admin page's stale report: each stale document's reasons, owner, since when and recent
citations, with its bulk actions (re-index from source, mark reviewed, delete)."""

from __future__ import annotations

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
        value=lifecycle.next_review_default(base.settings.review_days),
        min_value=lifecycle.today(),
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
        apply_change(base, chosen, change, admin, f"reviewed; next review {next_review}")
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


def apply_change(
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
