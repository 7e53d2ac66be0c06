"""Streamlit glue every page shares: the cached KnowledgeBase, first-run indexing, page set-up."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Literal, NoReturn

import streamlit as st
from streamlit import runtime
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from kb.config import load_settings
from kb.errors import KBError
from kb.ingest.pipeline import IngestOutcome
from kb.ingest.sniff import EXTENSIONS
from kb.knowledge_base import KnowledgeBase
from kb.security.principals import Principal
from pages.shared.format import ui
from pages.shared.signin import require_admin, require_user, sidebar


@st.cache_resource(show_spinner="Loading the knowledge base and the embedding model…")
def get_kb() -> KnowledgeBase:
    """The one KnowledgeBase of this process, shared by every session (it is thread-safe)."""
    base = KnowledgeBase(load_settings())
    base.preload()
    return base


@st.cache_resource
def _sample_runs() -> tuple[set[str], threading.Lock]:
    # Data dirs whose first-run indexing this process already tried (a batch that failed
    # entirely must not be retried on every rerun), and a lock so one session does it.
    return set(), threading.Lock()


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


def should_index_samples(base: KnowledgeBase) -> bool:
    """First run: nothing was ever indexed (generation 0) and the sample folder has files.

    A store emptied on purpose by an admin has a later generation and stays empty."""
    folder = Path(base.settings.sample_docs_dir)
    if not base.is_empty() or not base.never_used() or not folder.is_dir():
        return False
    return any(p.suffix.lower() in EXTENSIONS for p in folder.iterdir())


def index_samples_on_first_run(base: KnowledgeBase) -> None:
    """On a store that never held a document, index the sample folder with a progress bar."""
    tried, lock = _sample_runs()
    key = str(base.settings.data_dir)
    with lock:
        if key in tried or not should_index_samples(base):
            return
        tried.add(key)
    folder = base.settings.sample_docs_dir
    label = f"First run: indexing the sample documents in {ui.escape_markdown(str(folder))}"
    with st.status(label, expanded=True) as box:
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
