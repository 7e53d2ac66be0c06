"""Who this session is: a password sign-in (kb's users, bootstrap admin) or an OIDC identity."""

from __future__ import annotations

from typing import Any

import streamlit as st

from kb.config import Settings
from kb.errors import SignInError
from kb.knowledge_base import KnowledgeBase
from kb.security import Authenticator, Principal, oidc_providers

SESSION_KEY = "kb_session"  # a kb.security.auth.Session after a password sign-in
OIDC_SEEN_KEY = "kb_oidc_seen"  # the OIDC identity whose sign-in this session audited
WANTS_SIGN_IN_KEY = "kb_wants_sign_in"  # a guest clicked "Sign in"
OIDC_ERROR_KEY = "kb_oidc_error"  # why the provider's identity was refused


@st.cache_resource
def _authenticator(_settings: Settings, key: str) -> Authenticator:
    # One per database and process (the throttle itself is kept in the database).
    return Authenticator(_settings)


def authenticator(base: KnowledgeBase) -> Authenticator:
    """The process's Authenticator for this knowledge base's settings."""
    s = base.settings
    # The data dir is in the key too: without KB_DATABASE_URL the database is its kb.sqlite.
    url = s.database_url.get_secret_value() if s.database_url else ""
    return _authenticator(s, f"{url}|{s.data_dir}|{s.password_min_length}")


def _auth_section() -> dict[str, Any]:
    if not st.secrets.load_if_toml_exists():
        return {}
    section = st.secrets.get("auth")
    return section.to_dict() if hasattr(section, "to_dict") else dict(section or {})


def providers() -> list[str | None]:
    """The OIDC providers configured in .streamlit/secrets.toml (None: the default one)."""
    return oidc_providers(_auth_section())


def oidc_user() -> dict[str, Any] | None:
    # st.user has no is_logged_in at all without an [auth] section: ask providers() first.
    if not providers():
        return None
    user = st.user.to_dict()
    return user if user.get("is_logged_in") else None


def current_principal(base: KnowledgeBase) -> Principal | None:
    """Who this session is signed in as right now, or None (role and groups are re-read)."""
    claims = oidc_user()
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
            st.session_state[OIDC_ERROR_KEY] = str(exc)
            return None
        if st.session_state.get(OIDC_SEEN_KEY) != ("ok", email):
            st.session_state[OIDC_SEEN_KEY] = ("ok", email)
            base.record_event(principal, "sign_in", method="oidc")
        return principal
    return authenticator(base).resume(st.session_state.get(SESSION_KEY))
