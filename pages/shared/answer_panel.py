"""The source inspector's last section: how the answer was made (query, prompt, checks, cost)."""

from __future__ import annotations

import streamlit as st

from kb.answer import Answer
from pages.shared.format import answer_text, ui

CHECK_COLUMNS = {
    "sentence": st.column_config.TextColumn("sentence", width="large"),
    "cites": st.column_config.TextColumn("cites", width="medium"),
    "support": st.column_config.NumberColumn("support", format="%.2f", width="small"),
    "verdict": st.column_config.TextColumn("verdict", width="medium"),
}


def render_answer_panel(answer: Answer, min_relevance: float, query: str) -> None:
    """The answer, its method, the prompt or extract, the citation check, timings and tokens."""
    st.subheader("4. The answer and what produced it")
    if answer.error:
        st.warning(answer_text.fallback_line(answer), icon=":material/warning:")
    st.markdown(answer_text.checked_markdown(answer))
    verdict = (
        "answered" if answer.found else f"not answered (best dense score under {min_relevance})"
    )
    st.caption(f"{answer_text.method_line(answer)} Verdict: {verdict}.")
    st.caption(answer_text.cost_line(answer, sum(answer.timings.values())))
    for c in answer.citations:
        for mark in c.stale:
            st.caption(
                f":orange[:material/schedule: [{c.n}] {ui.escape_markdown(c.name)} is stale: "
                f"{ui.escape_markdown(mark)}]"
            )
    if answer.prompt:
        st.markdown("**Citation check** (each sentence against the passage it cites):")
        rows = answer_text.check_rows(answer)
        if rows:
            st.dataframe(rows, column_config=CHECK_COLUMNS, hide_index=True, width="stretch")
        else:
            st.caption("Nothing to check: the model's answer was not used.")
        with st.expander("Prompt sent to the model"):
            st.code(answer.prompt, language=None, wrap_lines=True)
        st.markdown("**The model's own text** (before the check):")
        st.code(answer.raw or "(nothing arrived)", language=None, wrap_lines=True)
    if not answer.prompt or answer.error:
        st.markdown("**Extract** (the sentences picked, their passage and overlap score):")
        st.code(
            answer.extract or "(none: nothing was relevant enough)", language=None, wrap_lines=True
        )
    st.markdown(f"**Passages given to the answer** ({len(answer.hits)}):")
    for n, hit in enumerate(answer.hits, 1):
        with st.container(border=True):
            st.markdown(f"{n}\\. {ui.location(hit.name, hit.page, hit.heading)}")
            st.caption(ui.score_line(hit))
            st.markdown(ui.highlight(hit.text, query))
