"""The admin page's confirmed actions: delete and re-index, each with a progress bar."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from kb.errors import KBError
from kb.ingest import IngestOutcome
from kb.knowledge_base import KnowledgeBase
from kb.security import Principal
from pages.shared.format import ui

FLASH_KEY = "admin_flash"
# The action awaiting confirmation lives in the session, not in the click that asked for it:
# the dialog must reopen on every rerun until it is answered (AppTest reruns everything).
PENDING_KEY = "admin_pending"


def show_flash() -> None:
    """The result of the last confirmed action, shown once after the page reloads."""
    for level, text in st.session_state.pop(FLASH_KEY, []):
        getattr(st, level)(text)


def _delete(base: KnowledgeBase, ids: Sequence[str], actor: Principal) -> list[tuple[str, str]]:
    bar = st.progress(0.0, text="Deleting")
    flash = []
    for n, doc_id in enumerate(ids, 1):
        try:
            doc = base.delete(doc_id, actor=actor)
            flash.append(
                ("success", f"Deleted **{ui.escape_markdown(doc.name)}** ({doc.chunks} chunks).")
            )
        except KBError as exc:
            flash.append(("error", str(exc)))
        bar.progress(n / len(ids), text=f"{n} of {len(ids)} deleted")
    return flash


def _reindex(base: KnowledgeBase, ids: Sequence[str], actor: Principal) -> list[tuple[str, str]]:
    bar = st.progress(0.0, text="Re-indexing: reading the first file")
    chunks = [0]

    def progress(done: int, total: int, outcome: IngestOutcome) -> None:
        chunks[0] += outcome.chunks
        text = f"{ui.progress_text(done, total, outcome)}; {chunks[0]} chunks so far"
        bar.progress(done / total, text=text)

    try:
        outcomes = base.reindex(ids, progress, actor=actor)
    except KBError as exc:
        return [("error", str(exc))]
    level = "success" if all(o.ok for o in outcomes) else "warning"
    lines = "  \n".join(ui.outcome_markdown(o) for o in outcomes)
    return [(level, f"Re-indexed {ui.batch_summary(outcomes)}  \n{lines}")]


def request(action: str, ids: Sequence[str]) -> None:
    """Ask for confirmation of a delete or re-index (of `ids`; of everything when empty)."""
    st.session_state[PENDING_KEY] = (action, list(ids))


def confirm_pending(base: KnowledgeBase, names: dict[str, str], actor: Principal) -> None:
    """Open the confirmation dialog of the pending action, if there is one."""
    if PENDING_KEY in st.session_state:
        action, ids = st.session_state[PENDING_KEY]
        _confirm(base, action, ids, names, actor)


def _forget() -> None:
    st.session_state.pop(PENDING_KEY, None)


@st.dialog("Please confirm", width="medium", on_dismiss=_forget)
def _confirm(
    base: KnowledgeBase,
    action: str,
    ids: Sequence[str],
    names: dict[str, str],
    actor: Principal,
) -> None:
    listed = "\n".join(f"- {ui.escape_markdown(names.get(i, i))}" for i in ids)
    if action == "delete":
        st.markdown(
            f"Delete {ui.plural(len(ids), 'document')}? Their chunks, keyword entries and stored "
            f"originals are removed. This cannot be undone.\n\n{listed}"
        )
    else:
        what = ui.plural(len(ids), "document") if ids else f"all {len(names)} documents"
        beside = (
            " The new index is built beside the live one, which keeps answering until the "
            "new one is complete; then one switch."
            if not ids
            else ""
        )
        st.markdown(
            f"Re-index {what}? Each stored original is parsed, chunked and embedded "
            f"again.{beside}\n\n{listed}"
        )
    buttons = st.container(horizontal=True)
    if buttons.button(f"Yes, {'delete' if action == 'delete' else 're-index'}", type="primary"):
        _forget()
        runner = _delete if action == "delete" else _reindex
        st.session_state[FLASH_KEY] = runner(base, ids, actor)
        st.rerun()
    if buttons.button("Cancel"):
        _forget()
        st.rerun()
