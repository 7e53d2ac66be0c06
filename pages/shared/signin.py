"""Sign-in for every page: the form, the role checks, signing out, the sidebar line."""

from __future__ import annotations

import time

import streamlit as st

from kb.errors import SignInError
from kb.knowledge_base import KnowledgeBase
from kb.security import FAILED_SIGN_IN_DELAY, GUEST, Authenticator, Principal
from pages.shared.format import trust
from pages.shared.identity import (
    OIDC_ERROR_KEY,
    OIDC_SEEN_KEY,
    SESSION_KEY,
    WANTS_SIGN_IN_KEY,
    authenticator,
    current_principal,
    oidc_user,
    providers,
)


def _password_form(base: KnowledgeBase, auth: Authenticator) -> None:
    with st.form("sign_in", width=420):
        name = st.text_input("User name", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        if not st.form_submit_button("Sign in", type="primary"):
            return
    try:
        principal, session = auth.sign_in(name, password)
    except SignInError as exc:
        base.record_event(name.strip()[:100] or "(empty)", "sign_in_failed", method="password")
        time.sleep(FAILED_SIGN_IN_DELAY)
        st.error(str(exc))
        return
    st.session_state[SESSION_KEY] = session
    st.session_state.pop(WANTS_SIGN_IN_KEY, None)
    base.record_event(principal, "sign_in", method="password")
    st.rerun()


def sign_in_screen(base: KnowledgeBase, why: str) -> None:
    """The sign-in form (and OIDC buttons), then stop this run."""
    auth = authenticator(base)
    st.title("Company knowledge base")
    st.info(why, icon=":material/lock:", width=420)
    if error := st.session_state.pop(OIDC_ERROR_KEY, None):
        st.error(error)
        st.button("Sign out of the identity provider", on_click=st.logout)
    for provider in providers():
        label = trust.provider_label(provider)
        if st.button(f"Sign in with {label}", icon=":material/login:", key=f"oidc-{provider}"):
            st.login(provider)
    if auth.has_password_users():
        _password_form(base, auth)
    elif not providers():
        st.error(trust.NOBODY_CAN_SIGN_IN, icon=":material/person_off:")
    st.stop()


ADMINS_SIGN_IN = "This page is for admins: sign in with an admin account."


def require_user(base: KnowledgeBase, admin_page: bool = False) -> Principal:
    """The signed-in principal; a guest if sign-in is optional; otherwise the sign-in form."""
    principal = current_principal(base)
    if principal is not None:
        return principal
    if admin_page:
        sign_in_screen(base, ADMINS_SIGN_IN)
    if not base.settings.require_sign_in and not st.session_state.get(WANTS_SIGN_IN_KEY):
        return GUEST
    sign_in_screen(base, "Sign in to use the knowledge base.")
    raise AssertionError("unreachable: sign_in_screen stops the run")


def require_admin(base: KnowledgeBase, principal: Principal) -> None:
    """Let the rest of the page run only for an admin; otherwise say why and stop."""
    if principal.is_admin:
        return
    if principal == GUEST:
        sign_in_screen(base, ADMINS_SIGN_IN)
    base.record_event(principal, "denied", page=st.session_state.get("kb_page", ""))
    st.error(trust.admins_only(principal), icon=":material/block:")
    st.stop()


def sign_out(base: KnowledgeBase, principal: Principal) -> None:
    """End this session's sign-in (and the OIDC cookie)."""
    base.record_event(principal, "sign_out")
    st.session_state.pop(SESSION_KEY, None)
    st.session_state.pop(OIDC_SEEN_KEY, None)
    if oidc_user() is not None:
        st.logout()
    st.rerun()


def sidebar(base: KnowledgeBase, principal: Principal) -> None:
    """In the sidebar: who is signed in, and a way out (or in, for a guest)."""
    if principal == GUEST:
        st.sidebar.caption("Browsing as a guest: you see documents open to everyone.")
        if st.sidebar.button("Sign in", icon=":material/login:"):
            st.session_state[WANTS_SIGN_IN_KEY] = True
            st.rerun()
        return
    st.sidebar.caption(trust.principal_line(principal))
    if st.sidebar.button("Sign out", icon=":material/logout:"):
        sign_out(base, principal)
