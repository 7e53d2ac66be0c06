"""kb's Streamlit app: the entry point (the page list) and the chat page."""

from __future__ import annotations

import time

import streamlit as st

from kb import answer_view as view
from kb import ui, ui_trust
from kb.access import Principal
from kb.errors import KBError
from kb.knowledge_base import KnowledgeBase
from pages.shared.common import open_kb, page_setup
from pages.shared.identity import current_principal
from pages.shared.sources import render_sources

EMPTY_HELP = """**The knowledge base has no documents for you yet**, so there is nothing to
answer from.

To add documents:
- an admin uploads them on the **Upload** page (PDF, Word, PowerPoint, Excel, HTML, Markdown,
  text, e-mail or CSV), or
- on the server, run `kb ingest PATH...` with files or folders.

Then come back here and ask away. (Documents an admin restricted to groups you are not in do
not count.)"""


def render_answer(
    base: KnowledgeBase, turn: ui.ChatTurn, key: str, live: set[str], user: Principal
) -> None:
    """An answer: the fallback note, the checked text, its cost, its sources."""
    assert turn.answer is not None
    if turn.answer.error:
        st.warning(view.fallback_line(turn.answer), icon=":material/warning:")
    st.markdown(view.checked_markdown(turn.answer))
    st.caption(view.cost_line(turn.answer, turn.seconds))
    render_sources(base, turn.answer, key, live, user)


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
        if ui_trust.withdrawn(turn.answer, live):
            st.caption(ui_trust.WITHDRAWN)
            return
        render_answer(base, turn, key, live, user)


def ask(
    base: KnowledgeBase,
    question: str,
    key: str,
    live: set[str],
    history: list[ui.ChatTurn],
    user: Principal,
) -> ui.ChatTurn:
    """Answer a new question, streaming the text as it is written, and return it."""
    with st.chat_message("user"):
        st.markdown(ui.escape_markdown(question))
    with st.chat_message("assistant"):
        started = time.perf_counter()
        earlier = [t.answer for t in history if t.answer is not None]
        try:
            stream = base.ask_stream(question, history=earlier, user=user)
            box = st.empty()
            box.write_stream(view.live_markdown(stream))
            answer = stream.answer
            box.empty()  # the checked answer replaces the raw stream
        except KBError as exc:
            st.error(str(exc))
            return ui.ChatTurn(question, None, time.perf_counter() - started, str(exc))
        turn = ui.ChatTurn(question, answer, time.perf_counter() - started)
        render_answer(base, turn, key, live, user)
    return turn


def chat() -> None:
    """The chat page: questions in, answers with numbered sources out."""
    base, user = page_setup("Chat")
    history: list[ui.ChatTurn] = st.session_state.setdefault("history", [])
    st.title("Ask the knowledge base")
    docs = base.documents(user=user)
    if not docs:
        st.info(EMPTY_HELP, icon=":material/library_add:")
        if user.is_admin:
            st.page_link(upload, label="Go to the Upload page", icon=":material/upload:")
        return
    st.caption(
        f"{len(docs)} documents you can ask about. Answers quote them, and every [n] points to its "
        "source below the answer."
    )
    live = {d.doc_id for d in docs}
    for n, turn in enumerate(history):
        render_turn(base, turn, str(n), live, user)
    if question := st.chat_input("Ask a question about the documents"):
        history.append(ask(base, question, str(len(history)), live, history, user))
    # Last, so it is enabled as soon as the first answer is in the history.
    st.sidebar.button(
        "New chat", icon=":material/add_comment:", disabled=not history, on_click=history.clear
    )


# Page files carry their own set-up (page_setup) and keep the URLs their file names give
# (/Upload, /Admin, /Source_inspector); page_setup sends a run that skipped this script here.
upload = st.Page("pages/1_Upload.py", title="Upload", icon=":material/upload:")
pages = {
    "Ask": [
        st.Page(chat, title="Chat", icon=":material/chat:", default=True),
        st.Page(
            "pages/3_Source_inspector.py",
            title="Source inspector",
            icon=":material/search_insights:",
        ),
    ],
    "Manage": [
        upload,
        st.Page("pages/2_Admin.py", title="Admin", icon=":material/admin_panel_settings:"),
    ],
}
# Admin pages are listed for admins only, and each page checks the role again itself (a URL
# typed by hand, or Streamlit running a page file directly, never skips that check).
# Signed out, every page is reachable by its URL and asks for a sign-in (menu hidden).
base = open_kb()
principal = current_principal(base)
signed_out = principal is None and base.settings.require_sign_in
if not signed_out and not (principal and principal.is_admin):
    del pages["Manage"]
st.navigation(pages, position="hidden" if signed_out else "sidebar").run()
