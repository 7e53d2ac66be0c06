"""The Quality page's case queue and its actions (open the trace, set the label, mark it
resolved, add it to the golden set, add a document), and the fine-tuning data download."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from kb.errors import KBError
from kb.knowledge_base import KnowledgeBase
from kb.quality import Case
from kb.security import Principal
from pages.shared.format import quality, ui


def case_actions(base: KnowledgeBase, cases: Sequence[Case], admin: Principal) -> None:
    """Pick a case; act on it."""
    if not cases:
        return
    by_id = {c.answer_id: c for c in cases}
    chosen = st.selectbox(
        "Case", list(by_id), format_func=lambda i: f"{by_id[i].label}: {by_id[i].question}"
    )
    case = by_id[chosen]
    meaning = quality.LABEL_HELP.get(case.label, "")
    st.caption(f"**{case.label}**: {meaning}. Why: {ui.escape_markdown(case.why)}.")
    row = st.container(horizontal=True, vertical_alignment="bottom")
    row.page_link(
        "pages/3_Source_inspector.py",
        label="Open the trace",
        icon=":material/search_insights:",
        query_params={"answer": case.answer_id},
    )
    row.page_link("pages/1_Upload.py", label="Add a document", icon=":material/upload:")
    label = row.selectbox("Label", list(quality.LABEL_HELP), index=None,
                          placeholder="override the label")  # fmt: skip
    if row.button("Set label", disabled=label is None):
        _do(lambda: base.set_case(case.answer_id, label=label, actor=admin), f"labelled {label}")
    if row.button("Mark resolved", icon=":material/task_alt:", disabled=case.resolved):
        _do(lambda: base.set_case(case.answer_id, resolved=True, actor=admin), "resolved")
    if row.button("Add to the golden set", icon=":material/star:"):
        _do(lambda: base.add_to_golden(case.answer_id, actor=admin), "added to the golden set")


def export_panel(base: KnowledgeBase, admin: Principal, since: str) -> None:
    """Download fine-tuning data: approved answers and behaviour-gap corrections."""
    st.subheader("Fine-tuning data")
    st.caption(
        "Thumbs-up answers, and corrections backed by a passage the answer was given "
        "(behaviour gaps), with their sources as the model saw them. A correction for missing "
        "knowledge is never exported: it is a task for the documents."
    )
    fmt = st.radio("Format", ["chat", "dpo"], horizontal=True,
                   captions=["OpenAI chat fine-tuning", "preference pairs"])  # fmt: skip
    try:
        lines, summary = base.finetune_data(fmt, since, actor=admin, preview=True)
    except KBError as exc:
        st.error(str(exc))
        return
    st.caption(ui.escape_markdown(summary))
    st.download_button(
        f"Download {fmt} JSONL",
        data=lambda: quality.jsonl(base.finetune_data(fmt, since, actor=admin)[0]),  # audited
        file_name=f"kb-finetune-{fmt}.jsonl",
        mime="application/jsonl",
        icon=":material/download:",
        disabled=not lines,
        on_click="ignore",
    )


def _do(action: object, what: str) -> None:
    try:
        action()  # type: ignore[operator]
    except KBError as exc:
        st.error(str(exc))
        return
    st.session_state["quality_flash"] = f"Case {what}."
    st.rerun()
