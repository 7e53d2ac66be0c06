"""The chat's sidebar: the signed-in user's saved conversations, newest first, to reopen,
rename or delete (a guest's chat is not saved: guests share one name)."""

from __future__ import annotations

import streamlit as st

from kb.errors import KBError
from kb.knowledge_base import KnowledgeBase
from kb.security import GUEST, Principal
from pages.shared.format import ui

CONVERSATION_KEY = "conversation"  # the id of the saved chat on screen (None: a new one)


def saves(user: Principal) -> bool:
    """Whether this user's chats are saved (a signed-in user; never the shared guest)."""
    return user.name != GUEST.name


def open_conversation(base: KnowledgeBase, cid: str, user: Principal) -> None:
    """Put a saved chat on screen, every answer as it was given."""
    turns = [
        ui.ChatTurn(a.question, a, sum(a.timings.values()))
        for _, a in base.conversation(cid, user=user)
    ]
    st.session_state["history"] = turns
    st.session_state[CONVERSATION_KEY] = cid


def new_chat() -> None:
    """Start afresh: the next question opens a new saved chat."""
    st.session_state["history"] = []
    st.session_state[CONVERSATION_KEY] = None


def conversations_panel(base: KnowledgeBase, user: Principal) -> None:
    """The list of saved chats in the sidebar, with rename and delete for the open one."""
    if not saves(user):
        return
    chats = base.conversations(user=user)
    side = st.sidebar
    side.markdown("**Your conversations**")
    if not chats:
        side.caption("Your chats are saved here.")
        return
    current = st.session_state.get(CONVERSATION_KEY)
    for chat in chats[:30]:
        label = ("▸ " if chat.id == current else "") + chat.title
        if side.button(label, key=f"chat-{chat.id}", width="stretch", type="tertiary"):
            open_conversation(base, chat.id, user)
            st.rerun()
    if current and any(c.id == current for c in chats):
        with side.popover("Rename or delete this chat", icon=":material/edit:"):
            title = st.text_input("Title", value=next(c.title for c in chats if c.id == current))
            if st.button("Rename", icon=":material/save:"):
                _act(lambda: base.rename_conversation(current, title, user=user))
            if st.button("Delete this chat", icon=":material/delete:"):
                _act(lambda: base.delete_conversations(current, user=user), clear=True)
    with side.popover("Delete my history", icon=":material/delete_sweep:"):
        st.caption(f"All {ui.plural(len(chats), 'saved chat')}, their answers and feedback.")
        if st.button("Yes, delete all", type="primary"):
            _act(lambda: base.delete_conversations(user=user), clear=True)


def _act(action: object, clear: bool = False) -> None:
    try:
        action()  # type: ignore[operator]
    except KBError as exc:
        st.error(str(exc))
        return
    if clear:
        new_chat()
    st.rerun()
