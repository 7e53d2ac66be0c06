"""kb's Streamlit app: the entry point (the page list) and the chat page."""

from __future__ import annotations

import streamlit as st

from pages.shared.chat_turns import ask, render_turn
from pages.shared.common import open_kb, page_setup
from pages.shared.conversations_panel import (
    CONVERSATION_KEY,
    conversations_panel,
    new_chat,
    saves,
)
from pages.shared.format import ui
from pages.shared.identity import current_principal

EMPTY_HELP = """**The knowledge base has no documents for you yet**, so there is nothing to
answer from.

To add documents:
- an admin uploads them on the **Upload** page (PDF, Word, PowerPoint, Excel, HTML, Markdown,
  text, e-mail or CSV), or
- on the server, run `kb ingest PATH...` with files or folders.

Then come back here and ask away. (Documents an admin restricted to groups you are not in do
not count.)"""


def chat() -> None:
    """The chat page: questions in, answers with numbered sources out."""
    base, user = page_setup("Chat")
    history: list[ui.ChatTurn] = st.session_state.setdefault("history", [])
    st.title("Ask the knowledge base")
    docs = base.documents(user=user)
    if not docs:  # nothing to ask; saved chats still open (from the sidebar)
        st.info(EMPTY_HELP, icon=":material/library_add:")
        if user.is_admin:
            st.page_link(upload, label="Go to the Upload page", icon=":material/upload:")
    else:
        st.caption(
            f"{ui.plural(len(docs), 'document')} you can ask about. Answers quote them, and "
            "every [n] points to its source below the answer."
        )
    live = {d.doc_id for d in docs}
    for n, turn in enumerate(history):
        render_turn(base, turn, str(n), live, user)
    if docs and (question := st.chat_input("Ask a question about the documents")):
        cid = st.session_state.get(CONVERSATION_KEY)
        if cid is None and saves(user):
            cid = st.session_state[CONVERSATION_KEY] = base.start_conversation(question, user=user)
        history.append(ask(base, question, str(len(history)), live, history, user, cid))
    # Last, so it is enabled as soon as the first answer is in the history.
    st.sidebar.button(
        "New chat", icon=":material/add_comment:", disabled=not history, on_click=new_chat
    )
    conversations_panel(base, user)


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
        st.Page("pages/4_Quality.py", title="Quality", icon=":material/troubleshoot:"),
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
