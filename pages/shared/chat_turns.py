"""The chat's turns: a question, its streamed and checked answer, its sources."""

from __future__ import annotations

import time

import streamlit as st

from kb.answer.extractive import Quote
from kb.errors import KBError
from kb.knowledge_base import KnowledgeBase
from kb.quality.withdraw import WITHDRAWN
from kb.security import Principal
from pages.shared.feedback_panel import feedback_panel
from pages.shared.format import answer_text, ui
from pages.shared.sources import render_sources


def render_answer(
    base: KnowledgeBase, turn: ui.ChatTurn, key: str, live: set[str], user: Principal
) -> None:
    """An answer: the fallback note, the checked text, its cost, its sources."""
    assert turn.answer is not None
    if turn.answer.error:
        st.warning(answer_text.fallback_line(turn.answer), icon=":material/warning:")
    st.markdown(answer_text.checked_markdown(turn.answer))
    if not turn.answer.found and turn.answer.extract:  # declined: say what was looked for
        st.caption(f"Searched for “{ui.escape_markdown(turn.answer.query or turn.question)}”: "
                   f"{ui.escape_markdown(turn.answer.extract)}.")  # fmt: skip
    st.caption(answer_text.cost_line(turn.answer, turn.seconds))
    render_sources(base, turn.answer, key, live, user)
    feedback_panel(base, turn.answer, key, user)


def render_turn(
    base: KnowledgeBase, turn: ui.ChatTurn, key: str, live: set[str], user: Principal
) -> None:
    """One question and its answer, as kept in the session's history."""
    with st.chat_message("user"):
        st.markdown(ui.escape_markdown(turn.question))
    with st.chat_message("assistant"):
        if turn.answer is None:
            st.error(turn.error)
            return
        shown = base.seen_today(turn.answer, user=user)  # a document deleted or restricted since
        if shown.text == WITHDRAWN:
            st.caption(WITHDRAWN)
            return
        render_answer(base, ui.ChatTurn(turn.question, shown, turn.seconds), key, live, user)


def ask(
    base: KnowledgeBase,
    question: str,
    key: str,
    live: set[str],
    history: list[ui.ChatTurn],
    user: Principal,
    conversation: str | None = None,
) -> ui.ChatTurn:
    """Answer a new question, streaming the text as it is written, and return it."""
    with st.chat_message("user"):
        st.markdown(ui.escape_markdown(question))
    with st.chat_message("assistant"):
        started = time.perf_counter()
        earlier = [t.answer for t in history if t.answer is not None]
        try:
            stream = base.ask_stream(
                question, history=earlier, user=user, conversation=conversation
            )
            box, quote, written = st.empty(), None, ""
            for piece in stream:  # with a model: the quotes at once, then its words arrive
                if isinstance(piece, Quote):
                    quote = piece
                else:
                    written += piece
                box.markdown(answer_text.quote_markdown(quote, written) if quote is not None
                             else ui.escape_markdown(written) + " ▌")  # fmt: skip
            answer = stream.answer
            box.empty()  # the checked answer replaces the quotes or the raw stream
        except KBError as exc:
            st.error(str(exc))
            return ui.ChatTurn(question, None, time.perf_counter() - started, str(exc))
        turn = ui.ChatTurn(question, answer, time.perf_counter() - started)
        render_answer(base, turn, key, live, user)
    return turn
