"""Admin page (admins): documents, filters, delete and re-index, owners and review dates, the
stale report, synced folders, parse reports and history, access groups, the audit log."""

from __future__ import annotations

import streamlit as st

from pages.shared.access_panel import access_panel
from pages.shared.admin_actions import confirm_pending, request, show_flash
from pages.shared.audit_panel import audit_panel
from pages.shared.common import page_setup
from pages.shared.format import ui
from pages.shared.metadata_panel import history_panel, metadata_panel
from pages.shared.report_panel import report_panel
from pages.shared.stale_panel import stale_panel
from pages.shared.sync_panel import sync_panel

COLUMNS = {
    "name": st.column_config.TextColumn("Name", width="medium"),
    "type": st.column_config.TextColumn("Type", width="small"),
    "pages": st.column_config.TextColumn("Pages", width="small"),
    "chunks": st.column_config.NumberColumn("Chunks", width="small"),
    "size_kb": st.column_config.NumberColumn("Size", format="%.1f KB", width="small"),
    "ingested_at": st.column_config.DatetimeColumn("Indexed", format="YYYY-MM-DD"),
    "status": None,  # always "ready" for a live version: room for owner and stale reasons
    "groups": st.column_config.TextColumn("Visible to", width="small"),
    "owner": st.column_config.TextColumn("Owner", width="small"),
    "review_by": st.column_config.TextColumn("Review by", width="small"),
    "stale": st.column_config.TextColumn("Stale because", width="medium"),
    "id": None,  # the CLI takes names too; ids only widen the table
}

base, admin = page_setup("Admin", "wide", admin=True)
settings = base.settings
st.title("Admin")
show_flash()

docs = base.documents(user=admin)
stats = base.stats()
reasons = {d: [s.reason for s in r] for d, r in base.stale(user=admin).items()}
metrics = [*ui.stats_lines(stats), ("Stale", str(len(reasons)))]
for col, (label, value) in zip(st.columns(len(metrics)), metrics, strict=True):
    col.metric(label, value, border=True)
st.caption(f"By format: {ui.formats_summary(stats)}. {ui.store_line(stats)}")

# Arrived from an Upload outcome line (?doc=ID): the report it links to comes first.
linked = "doc" in st.query_params
if linked and (shown_doc := report_panel(docs, admin)):
    history_panel(base, shown_doc, admin)

st.subheader("Documents")
name_col, kind_col, stale_col = st.columns([3, 2, 1], vertical_alignment="bottom")
text = name_col.text_input("Filter by name", placeholder="part of a file name")
kinds = kind_col.multiselect(
    "Type", sorted({d.kind for d in docs}), format_func=str.upper, placeholder="all types"
)
stale_only = stale_col.checkbox(
    "Only stale",
    help="Review overdue, source changed or missing, superseded, or with no review date and "
    f"indexed over {settings.stale_days} days ago (KB_STALE_DAYS). `kb docs list --stale` "
    "prints the same with the details.",
)
shown = ui.filter_documents(docs, text, kinds, reasons if stale_only else None)
st.dataframe(
    ui.document_rows(shown, reasons),
    column_config=COLUMNS,
    hide_index=True,
    width="stretch",
    height=ui.table_height(len(shown)),
)
st.caption(f"{len(shown)} of {len(docs)} documents shown; {len(reasons)} stale.")

st.subheader("Actions")
names = {d.doc_id: d.name for d in docs}
chosen = st.multiselect(
    "Documents to act on",
    [d.doc_id for d in shown],
    format_func=lambda i: names.get(i, i),
    placeholder="choose one or more documents from the table",
)
delete_col, reindex_col, all_col, check_col = st.columns(4)
if delete_col.button("Delete", icon=":material/delete:", disabled=not chosen, width="stretch"):
    request("delete", chosen)
if reindex_col.button("Re-index", icon=":material/refresh:", disabled=not chosen, width="stretch"):
    request("reindex", chosen)
if all_col.button("Re-index all", icon=":material/sync:", disabled=not docs, width="stretch"):
    request("reindex", [])
if check_col.button("Check consistency", icon=":material/fact_check:", width="stretch"):
    problems = base.check()
    if problems:
        st.warning(
            "Registry, Chroma and keyword index disagree:\n\n"
            + "\n".join(f"- {ui.escape_markdown(p)}" for p in problems)
        )
    else:
        st.success("Registry, Chroma and the keyword index agree.")
metadata_panel(base, chosen, docs, admin)
stale_panel(base, docs, admin)
confirm_pending(base, names, admin)
sync_panel(base, admin)
if not linked and (shown_doc := report_panel(shown or docs, admin)):
    history_panel(base, shown_doc, admin)
access_panel(base, docs, admin)
audit_panel(base, admin)
