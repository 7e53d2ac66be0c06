"""Under each answer: thumbs up or down, and on a thumbs down what was right (issue 16)."""

from __future__ import annotations

import streamlit as st

from kb.answer import Answer
from kb.errors import KBError
from kb.knowledge_base import KnowledgeBase
from kb.security import Principal
from pages.shared.format import ui


def feedback_panel(base: KnowledgeBase, answer: Answer, key: str, user: Principal) -> None:
    """Thumbs up or down; a thumbs down asks (optionally) for a comment, the correct answer
    and the document that holds it. Stored with the answer's id, for the Quality report."""
    if not answer.answer_id:
        return
    key = answer.answer_id  # not the turn's index: a new chat reuses those
    given = base.my_feedback(key, user=user)  # a reopened chat shows the vote given then
    row = st.container(horizontal=True, vertical_alignment="center")
    vote = row.feedback("thumbs", key=f"vote-{key}",
                        default=None if given is None else int(given.vote > 0))  # fmt: skip
    row.caption(f"answer {answer.answer_id}")
    if vote is None:
        return
    if given and vote == int(given.vote > 0) and f"sent-{key}" not in st.session_state:
        said = f": “{given.correct}”" if given.correct else ""
        st.caption(f":green[:material/check: Your feedback is recorded{ui.escape_markdown(said)}.]")
        return
    if vote == 1:
        _give(base, answer, True, user, key)
        return
    with st.form(f"correction-{key}", border=True):
        st.caption("What was wrong? Everything here is optional; it tells the admins what to fix.")
        comment = st.text_input("Comment", key=f"comment-{key}")
        correct = st.text_area("The correct answer", key=f"correct-{key}", height=68)
        names = [""] + [d.name for d in base.documents(user=user)]
        doc = st.selectbox("The document that holds it", names, key=f"doc-{key}",
                           format_func=lambda n: n or "don't know")  # fmt: skip
        if st.form_submit_button("Send feedback", icon=":material/send:"):
            _give(base, answer, False, user, key, comment=comment, correct=correct, doc=doc)


def _give(
    base: KnowledgeBase, answer: Answer, up: bool, user: Principal, key: str, **detail: str
) -> None:
    sent = f"sent-{key}"
    if st.session_state.get(sent) == (up, detail):
        st.caption(":green[:material/check: Thanks, your feedback was recorded.]")
        return
    try:
        base.give_feedback(answer.answer_id, up, user=user, **detail)
    except KBError as exc:
        st.error(str(exc))
        return
    st.session_state[sent] = (up, detail)
    st.caption(":green[:material/check: Thanks, your feedback was recorded.]")
