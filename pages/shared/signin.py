"""Sign-in for every page: who this session is (users file, bootstrap admin or OIDC)."""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from kb import ui_trust
from kb.access import Principal
from kb.auth import FAILED_SIGN_IN_DELAY, GUEST, Authenticator, SignInError, oidc_providers
from kb.config import Settings
from kb.knowledge_base import KnowledgeBase

SESSION_KEY = "kb_session"  # a kb.auth.Session after a password sign-in
OIDC_SEEN_KEY = "kb_oidc_seen"  # the OIDC identity whose sign-in this session audited
WANTS_SIGN_IN_KEY = "kb_wants_sign_in"  # a guest clicked "Sign in"


@st.cache_resource
def _authenticator(_settings: Settings, key: str) -> Authenticator:
    # One per users file and process: its throttle counts wrong passwords across sessions.
    return Authenticator(_settings)


def authenticator(base: KnowledgeBase) -> Authenticator:
    """The process's Authenticator for this knowledge base's settings."""
    s = base.settings
    return _authenticator(s, f"{s.users_file}|{s.data_dir}|{s.password_min_length}")


def _auth_section() -> dict[str, Any]:
    if not st.secrets.load_if_toml_exists():
        return {}
    section = st.secrets.get("auth")
    return section.to_dict() if hasattr(section, "to_dict") else dict(section or {})


def providers() -> list[str | None]:
    """The OIDC providers configured in .streamlit/secrets.toml (None: the default one)."""
    return oidc_providers(_auth_section())


def _oidc_user() -> dict[str, Any] | None:
    # st.user has no is_logged_in at all without an [auth] section: ask providers() first.
    if not providers():
        return None
    user = st.user.to_dict()
    return user if user.get("is_logged_in") else None


def current_principal(base: KnowledgeBase) -> Principal | None:
    """Who this session is signed in as right now, or None (role and groups are re-read)."""
    claims = _oidc_user()
    if claims is not None:
        email = str(claims.get("email", ""))
        try:
            principal = authenticator(base).oidc_principal(claims)
        except SignInError as exc:
            if st.session_state.get(OIDC_SEEN_KEY) != ("refused", email):
                st.session_state[OIDC_SEEN_KEY] = ("refused", email)
                base.record_event(
                    email or "unknown", "sign_in_failed", method="oidc", reason=str(exc)
                )
            st.session_state["kb_oidc_error"] = str(exc)
            return None
        if st.session_state.get(OIDC_SEEN_KEY) != ("ok", email):
            st.session_state[OIDC_SEEN_KEY] = ("ok", email)
            base.record_event(principal, "sign_in", method="oidc")
        return principal
    return authenticator(base).resume(st.session_state.get(SESSION_KEY))


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
    st.info(why, icon=":material/lock:")
    if error := st.session_state.pop("kb_oidc_error", None):
        st.error(error)
        st.button("Sign out of the identity provider", on_click=st.logout)
    for provider in providers():
        label = ui_trust.provider_label(provider)
        if st.button(f"Sign in with {label}", icon=":material/login:", key=f"oidc-{provider}"):
            st.login(provider)
    if auth.has_password_users():
        _password_form(base, auth)
    elif not providers():
        st.error(ui_trust.NOBODY_CAN_SIGN_IN, icon=":material/person_off:")
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
    st.error(ui_trust.admins_only(principal), icon=":material/block:")
    st.stop()


def sign_out(base: KnowledgeBase, principal: Principal) -> None:
    """End this session's sign-in (and the OIDC cookie)."""
    base.record_event(principal, "sign_out")
    st.session_state.pop(SESSION_KEY, None)
    st.session_state.pop(OIDC_SEEN_KEY, None)
    if _oidc_user() is not None:
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
    st.sidebar.caption(ui_trust.principal_line(principal))
    if st.sidebar.button("Sign out", icon=":material/logout:"):
        sign_out(base, principal)
