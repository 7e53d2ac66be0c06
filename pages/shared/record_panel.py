"""The Source inspector's past answers: any answer by its id, exactly as it was given (its
asker's own, or anyone's for an admin), never asked again."""

from __future__ import annotations

import streamlit as st

from kb.errors import KBError
from kb.knowledge_base import KnowledgeBase
from kb.security import Principal
from pages.shared.format import quality, ui


def record_panel(base: KnowledgeBase, user: Principal) -> None:
    """An answer id box (preset by ?answer=ID) and the stored answer it names."""
    wanted = st.query_params.get("answer", "")
    with st.expander("Open a past answer by its id", expanded=bool(wanted),
                     icon=":material/history:"):  # fmt: skip
        answer_id = st.text_input(
            "Answer id", value=wanted, placeholder="shown under each answer in the chat"
        ).strip()
        if not answer_id:
            return
        try:
            record = base.answer_record(answer_id, user=user)
        except KBError as exc:
            st.error(str(exc))
            return
        st.markdown(f"**Question:** {ui.escape_markdown(record.question)}")
        st.caption(quality.record_header(record))
        st.markdown(f"**Answer:** {ui.escape_markdown(str(record.data.get('text', '')))}")
        st.markdown("**Passages given to the answer**")
        st.dataframe(quality.given_rows(record), hide_index=True, width="stretch")
        st.markdown("**Fused candidates, as ranked then**")
        st.dataframe(quality.candidate_rows(record), hide_index=True, width="stretch")
