"""Streamlit glue every page shares: the cached KnowledgeBase, errors on the page, page set-up."""

from __future__ import annotations

from typing import Literal, NoReturn

import streamlit as st
from streamlit import runtime
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from kb.config import load_settings
from kb.errors import KBError
from kb.knowledge_base import KnowledgeBase
from kb.security import Principal
from pages.shared.first_run import index_samples_on_first_run
from pages.shared.signin import require_admin, require_user, sidebar


@st.cache_resource(show_spinner="Loading the knowledge base and the embedding model…")
def get_kb() -> KnowledgeBase:
    """The one KnowledgeBase of this process, shared by every session (it is thread-safe)."""
    base = KnowledgeBase(load_settings())
    base.preload()
    return base


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


ENTRY_SCRIPT = "streamlit_app.py"


def _skipped_the_entry_script() -> bool:
    # Streamlit's pages/ folder mode runs a page file without streamlit_app.py when the first
    # request after a start is for that page; its automatic menu then lists every page file,
    # admin pages included, to anyone. That mode registers the entry script itself as a page
    # named after its file ("streamlit app"); st.navigation never does. Such a run goes
    # through the entry script instead. AppTest runs page files directly on purpose, under a
    # mock runtime: it is left alone (the browser test covers a real server).
    ctx = get_script_run_ctx()
    if ctx is None or not runtime.exists() or type(runtime.get_instance()) is not Runtime:
        return False
    if not str(ctx.pages_manager.main_script_path).endswith(ENTRY_SCRIPT):
        return False
    legacy_name = ENTRY_SCRIPT.removesuffix(".py").replace("_", " ")
    return any(p.get("page_name") == legacy_name for p in ctx.pages_manager.get_pages().values())


def page_setup(
    title: str, layout: Literal["centered", "wide"] = "centered", *, admin: bool = False
) -> tuple[KnowledgeBase, Principal]:
    """Title and layout, the shared KnowledgeBase, sign-in (and the admin check on admin
    pages), first-run indexing, the sidebar's sign-out. Returns the base and who is asking."""
    # Every page calls this itself, so a page also works when Streamlit runs it without the
    # entry script (its legacy pages/ folder mode, until the main page has run once), and a
    # page opened by its URL checks the session's role on the server before showing anything.
    # One set_page_config per run: a second call in the same run was lost after st.rerun().
    st.set_page_config(page_title=f"{title} · kb", page_icon=":material/menu_book:", layout=layout)
    if _skipped_the_entry_script():
        st.switch_page(ENTRY_SCRIPT)
    base = open_kb()
    st.session_state["kb_page"] = title
    principal = require_user(base, admin_page=admin)
    sidebar(base, principal)
    if admin:
        require_admin(base, principal)
    index_samples_on_first_run(base)
    return base, principal
