"""First run: a store that never held a document indexes the sample folder, with a bar."""

from __future__ import annotations

import threading

import streamlit as st

from kb.errors import KBError
from kb.ingest import EXTENSIONS, IngestOutcome
from kb.knowledge_base import KnowledgeBase
from pages.shared.format import ui


@st.cache_resource
def _sample_runs() -> tuple[set[str], threading.Lock]:
    # Data dirs whose first-run indexing this process already tried (a batch that failed
    # entirely must not be retried on every rerun), and a lock so one session does it.
    return set(), threading.Lock()


def should_index_samples(base: KnowledgeBase) -> bool:
    """First run: nothing was ever indexed (generation 0) and the sample folder has files.

    A store emptied on purpose by an admin has a later generation and stays empty."""
    folder = base.settings.sample_docs_dir
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
            # A sync, not an ingest: the folder shows on the Admin page, with Sync now.
            report = base.sync(folder, progress)
        except KBError as exc:
            box.update(label="Indexing the sample documents failed", state="error")
            st.error(str(exc))
            st.stop()
        box.update(
            label=f"Sample documents indexed: {ui.plural(len(report.lines), 'file')}: "
            f"{report.summary()}",
            state="complete",
            expanded=False,
        )
