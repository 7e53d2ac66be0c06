"""Admin sign-in for the pages: the password form, the session's token, signing out."""

from __future__ import annotations

import time

import streamlit as st

from kb.auth import FAILED_SIGN_IN_DELAY, HOW_TO_CONFIGURE, AdminSecret, admin_secret
from kb.errors import KBError
from kb.knowledge_base import KnowledgeBase

ADMIN_KEY = "admin_token"


def current_secret(base: KnowledgeBase) -> AdminSecret:
    """The admin credential from the environment, else from .streamlit/secrets.toml."""
    secrets = st.secrets.to_dict() if st.secrets.load_if_toml_exists() else {}
    try:
        return admin_secret(base.settings, secrets)
    except KBError as exc:
        st.error(str(exc))
        st.stop()


def is_admin(base: KnowledgeBase) -> bool:
    """Whether this session signed in with the current admin password."""
    return current_secret(base).signed_in(st.session_state.get(ADMIN_KEY))


def require_admin(base: KnowledgeBase) -> None:
    """Let the rest of the page run only for a signed-in admin; otherwise show why and stop."""
    secret = current_secret(base)
    if not secret.configured:
        st.error(HOW_TO_CONFIGURE, icon=":material/lock:")
        st.stop()
    if secret.signed_in(st.session_state.get(ADMIN_KEY)):
        return
    st.info("This page is for admins: sign in with the admin password.", icon=":material/lock:")
    with st.form("sign_in", width=420):
        given = st.text_input("Admin password", type="password")
        if st.form_submit_button("Sign in", type="primary"):
            if secret.verify(given):
                st.session_state[ADMIN_KEY] = secret.session_token()
                st.rerun()
            time.sleep(FAILED_SIGN_IN_DELAY)
            st.error("Wrong password.")
    st.stop()


def sign_out_button(base: KnowledgeBase) -> None:
    """In the sidebar: who is signed in, and a way out."""
    if is_admin(base):
        st.sidebar.caption("Signed in as admin")
        if st.sidebar.button("Sign out", icon=":material/logout:"):
            del st.session_state[ADMIN_KEY]
            st.rerun()
