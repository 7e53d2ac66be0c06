"""The admin page's audit section: the log, filtered, and its CSV export."""

from __future__ import annotations

import streamlit as st

from kb.errors import KBError
from kb.knowledge_base import KnowledgeBase
from kb.security import ACTIONS, Principal
from pages.shared.format import trust, ui

SHOWN = 500  # newest events read into the table; the CSV export has them all
COLUMNS = {
    "at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss"),
    "actor": st.column_config.TextColumn("Who", width="small"),
    "action": st.column_config.TextColumn("Action", width="small"),
    "details": st.column_config.TextColumn("Details", width="large"),
}


def audit_panel(base: KnowledgeBase, actor: Principal) -> None:
    """The newest audit events with filters, and a download of the whole log."""
    st.subheader("Audit log")
    try:
        events = base.audit_events(SHOWN, actor=actor)
    except KBError as exc:
        st.error(str(exc))
        return
    who_col, what_col, text_col = st.columns([2, 2, 3], vertical_alignment="bottom")
    actors = who_col.multiselect(
        "Who", sorted({e.actor for e in events}), placeholder="everyone", key="audit_actors"
    )
    actions = what_col.multiselect("Action", ACTIONS, placeholder="all", key="audit_actions")
    text = text_col.text_input(
        "Details contain", placeholder="a question, a file name...", key="audit_text"
    )
    shown = trust.filter_audit(events, actors, actions, text)
    st.dataframe(
        trust.audit_rows(shown),
        column_config=COLUMNS,
        hide_index=True,
        width="stretch",
        height=ui.table_height(len(shown), cap=420),
    )
    st.caption(f"{len(shown)} of the newest {len(events)} events shown.")
    st.download_button(
        "Export the whole log (CSV)",
        data=lambda: base.audit_csv(actor=actor),
        file_name="kb-audit.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )
