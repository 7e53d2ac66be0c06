"""The Admin page's synced folders: when each was last synced, what changed, and Sync now."""

from __future__ import annotations

import streamlit as st

from kb.errors import KBError
from kb.ingest import IngestOutcome
from kb.knowledge_base import KnowledgeBase
from kb.security import Principal
from pages.shared.format import lifecycle, ui

RESULT_KEY = "sync_result"
FOLDER_COLUMNS = {
    "folder": st.column_config.TextColumn("Folder", width="medium"),
    "last_sync": st.column_config.TextColumn("Last sync (UTC)", width="medium"),
    "outcome": st.column_config.TextColumn("Outcome", width="medium"),
    "changed": st.column_config.TextColumn("What changed", width="large"),
}


def sync_panel(base: KnowledgeBase, admin: Principal) -> None:
    """Synced folders, a Sync now button with a progress bar, and the per-file outcome."""
    st.subheader("Synced folders", anchor="synced-folders")
    folders = base.synced_folders()
    if folders:
        st.dataframe(
            lifecycle.folder_rows(folders),
            column_config=FOLDER_COLUMNS,
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption("No folder synced yet.")
    roots = base.settings.sync_roots
    known = [f.folder for f in folders]
    pick_col, type_col, button_col = st.columns([3, 3, 1], vertical_alignment="bottom")
    picked = pick_col.selectbox(
        "Folder", known, index=0 if known else None, placeholder="a synced folder"
    )
    typed = type_col.text_input(
        "Or another folder on the server",
        placeholder=f"inside {roots}" if roots else "set KB_SYNC_ROOTS to add folders here",
        disabled=not roots,
    )
    folder = typed.strip() or picked
    prune = st.checkbox("Delete documents whose file is gone", key="sync_prune")
    if button_col.button(
        "Sync now", icon=":material/sync:", disabled=not folder, type="primary", width="stretch"
    ):
        _sync(base, str(folder), prune, admin)
    result = st.session_state.get(RESULT_KEY)
    if result:
        folder_done, summary, ok, lines = result
        (st.success if ok else st.warning)(
            f"**{ui.escape_markdown(folder_done)}**: {ui.escape_markdown(summary)}"
        )
        with st.container(height=min(400, 40 + 28 * len(lines)), border=True):
            st.markdown("  \n".join(lines) or "No files.")


def _sync(base: KnowledgeBase, folder: str, prune: bool, admin: Principal) -> None:
    bar = st.progress(0.0, text=f"Syncing {folder}: reading the first file")

    def progress(done: int, total: int, outcome: IngestOutcome) -> None:
        bar.progress(done / total, text=ui.progress_text(done, total, outcome))

    try:
        report = base.sync(folder, progress, prune=prune, actor=admin)
    except KBError as exc:
        st.error(str(exc))
        return
    lines = [lifecycle.sync_line_markdown(line) for line in report.lines]
    st.session_state[RESULT_KEY] = (report.folder, report.summary(), report.ok, lines)
    st.rerun()
