"""Streamlit glue every page shares: the cached KnowledgeBase, first-run indexing, admin sign-in."""

from __future__ import annotations

import time
from typing import NoReturn

import streamlit as st

from kb import ui
from kb.auth import FAILED_SIGN_IN_DELAY, HOW_TO_CONFIGURE, AdminSecret, admin_secret
from kb.config import load_settings
from kb.errors import KBError
from kb.ingest import IngestOutcome
from kb.knowledge_base import KnowledgeBase

ADMIN_KEY = "admin_token"


@st.cache_resource(show_spinner="Loading the knowledge base and the embedding model…")
def get_kb() -> KnowledgeBase:
    """The one KnowledgeBase of this process, shared by every session (it is thread-safe)."""
    return KnowledgeBase(load_settings())


@st.cache_resource
def _sample_runs() -> set[str]:
    # Data dirs whose first-run indexing this process already tried: a batch that failed
    # entirely must not be retried on every rerun of every session.
    return set()


def fail(message: str) -> NoReturn:
    """Show a kb error on the page and end this run of it."""
    st.error(message)
    st.stop()


def open_kb() -> KnowledgeBase:
    """The shared KnowledgeBase, or the configuration error on the page."""
    try:
        return get_kb()
    except KBError as exc:
        fail(str(exc))


def index_samples_on_first_run(base: KnowledgeBase) -> None:
    """On a store that never held a document, index the sample folder with a progress bar."""
    tried = _sample_runs()
    key = str(base.settings.data_dir)
    if key in tried or not ui.should_index_samples(base):
        return
    tried.add(key)
    folder = base.settings.sample_docs_dir
    with st.status(f"First run: indexing the sample documents in {folder}", expanded=True) as box:
        bar = st.progress(0.0, text="Reading the first file (loading the parsers takes a moment)")

        def progress(done: int, total: int, outcome: IngestOutcome) -> None:
            bar.progress(done / total, text=ui.progress_text(done, total, outcome))
            st.markdown(ui.outcome_markdown(outcome))

        try:
            outcomes = base.ingest_paths([folder], progress)
        except KBError as exc:
            box.update(label="Indexing the sample documents failed", state="error")
            fail(str(exc))
        box.update(
            label=f"Sample documents indexed: {ui.batch_summary(outcomes)}",
            state="complete",
            expanded=False,
        )


def current_secret(base: KnowledgeBase) -> AdminSecret:
    """The admin credential from the environment, else from .streamlit/secrets.toml."""
    secrets = st.secrets.to_dict() if st.secrets.load_if_toml_exists() else {}
    try:
        return admin_secret(base.settings, secrets)
    except KBError as exc:
        fail(str(exc))


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
