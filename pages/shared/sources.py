"""The Sources panel under an answer: where each [n] comes from, its scores, and the original."""

from __future__ import annotations

import streamlit as st
from streamlit import runtime

from kb.answer import Answer, Citation
from kb.errors import KBError
from kb.knowledge_base import KnowledgeBase
from kb.security import Principal
from pages.shared.format import ui


def _inline_url(base: KnowledgeBase, citation: Citation, key: str, user: Principal) -> str | None:
    # A download can't open at a page; a URL served inline can, with #page=N. Streamlit has
    # no public call that returns one, so this uses the media file manager st.iframe uses.
    if not runtime.exists():
        return None
    try:
        _, data, mime = base.original(citation.doc_id, user=user)
    except KBError:
        return None
    return runtime.get_instance().media_file_mgr.add(data, mime, f"kb-open-{key}")


def _open_buttons(base: KnowledgeBase, citation: Citation, key: str, user: Principal) -> None:
    row = st.container(horizontal=True)
    row.download_button(
        "Download the original",
        data=lambda: base.original(citation.doc_id, user=user)[1],
        file_name=citation.name,
        mime=ui.mime_type(citation.name),
        key=f"dl-{key}",
        on_click="ignore",
        icon=":material/download:",
    )
    if ui.is_pdf(citation.name) and citation.page:
        url = _inline_url(base, citation, key, user)
        if url:
            row.link_button(
                f"Open at page {citation.page}",
                f"{url}#page={citation.page}",
                icon=":material/open_in_new:",
            )


def _superseded(base: KnowledgeBase, citation: Citation, key: str, user: Principal) -> bool:
    """Under a passage quoted from a version replaced since: say so, and offer both the
    version it quoted and the current one. False when it quoted the live version."""
    live_version = base.snapshot().active.get(citation.doc_id)
    if citation.chunk_id.rsplit(":", 2)[1:2] == [live_version]:
        return False  # quoted from the live version: no store read on every rerun
    try:
        passage = base.passage(citation.chunk_id, user=user)
    except KBError:
        return False  # retired or gone: the usual buttons serve the current version
    if passage.state == "current":
        return False
    st.caption(f":blue[:material/history: This passage is {passage.note()}.]")
    row = st.container(horizontal=True)
    row.download_button(
        "Download the version quoted",
        data=lambda: base.original_of_version(passage.doc_id, passage.version, user=user)[1],
        file_name=citation.name,
        mime=ui.mime_type(citation.name),
        key=f"dl-old-{key}",
        on_click="ignore",
        icon=":material/history:",
    )
    row.download_button(
        "Download the current version",
        data=lambda: base.original(citation.doc_id, user=user)[1],
        file_name=citation.name,
        mime=ui.mime_type(citation.name),
        key=f"dl-{key}",
        on_click="ignore",
        icon=":material/download:",
    )
    return True


def render_sources(
    base: KnowledgeBase, answer: Answer, key: str, live: set[str], user: Principal
) -> None:
    """One expander listing the answer's citations; `live` holds the ids `user` may open."""
    if not answer.citations:
        return
    with st.expander(f"Sources ({len(answer.citations)})"):
        for c in answer.citations:
            with st.container(border=True):
                st.markdown(ui.source_title(c))
                if c.gone:  # deleted since: its place and name, never its text
                    st.caption(f":red[:material/delete: This document was {c.gone}; "
                               "its passage is no longer shown.]")  # fmt: skip
                    continue
                hit = ui.hit_for(answer, c)
                if hit:
                    st.caption(ui.score_line(hit))
                st.markdown(ui.highlight(c.text, answer.question))
                for mark in c.stale:
                    st.caption(f":orange[:material/schedule: Stale: {ui.escape_markdown(mark)}]")
                if c.doc_id in live and _superseded(base, c, f"{key}-{c.n}", user):
                    continue
                if c.doc_id in live:
                    _open_buttons(base, c, f"{key}-{c.n}", user)
