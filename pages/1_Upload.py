"""Upload page (admins): add a batch of documents and see one outcome line per file."""

from __future__ import annotations

import streamlit as st

from kb.errors import KBError
from kb.ingest import IngestOutcome, Source
from pages.shared.common import fail, page_setup
from pages.shared.format import trust, ui
from pages.shared.identity import authenticator

base, admin = page_setup("Upload", admin=True)
settings = base.settings
st.title("Upload documents")

st.markdown(
    f"**Accepted formats:** {ui.formats_line()}.  \n"
    f"**Size limit:** {settings.max_upload_mb:g} MB per file.  \n"
    "A file named like an indexed document replaces it (the old version is removed); "
    "a file with identical content is left unchanged. A file that fails is reported and the "
    "rest of the batch goes on."
)
if ocr_off := base.ocr_status():
    st.info(f"Scanned PDFs and images: {ocr_off}.", icon=":material/document_scanner:")
else:
    st.caption(
        f"Scanned pages and images are read by OCR (Tesseract), up to "
        f"{settings.ocr_max_pages} pages per file (KB_OCR_MAX_PAGES); OCR takes a few seconds "
        "a page."
    )
generation = st.session_state.setdefault("upload_generation", 0)
files = st.file_uploader(
    "Documents",
    type=ui.accepted_extensions(),
    accept_multiple_files=True,
    key=f"uploader-{generation}",
    max_upload_size=ui.upload_limit_mb(settings.max_upload_mb),
)
known = authenticator(base).users.groups() + [
    g for d in base.documents(user=admin) for g in d.groups
]
groups = st.multiselect(
    "Who may see these documents",
    trust.group_options(known),
    default=["everyone"],
    accept_new_options=True,
    placeholder="everyone (pick or type groups to restrict)",
    help="Employees see a document only if they are in one of its groups; admins see all. "
    "Change it later on the Admin page.",
)
label = f"Upload and index {ui.plural(len(files), 'file')}"
if st.button(label, type="primary", disabled=not files, icon=":material/upload:"):
    st.session_state.pop("upload_outcomes", None)
    first = f"0 of {len(files)} files done: reading and embedding the first ones"
    bar = st.progress(0.0, text=first)
    lines = st.container()

    def progress(done: int, total: int, outcome: IngestOutcome) -> None:
        bar.progress(done / total, text=ui.progress_text(done, total, outcome))
        lines.markdown(ui.outcome_markdown(outcome))

    try:
        sources = [Source(f.name, data=f.getvalue()) for f in files]
        outcomes = base.ingest(sources, progress, groups=trust.chosen_groups(groups), actor=admin)
    except KBError as exc:
        fail(str(exc))
    st.session_state.upload_outcomes = outcomes
    # A new uploader key empties the drop zone: the batch is done, its results stay below.
    st.session_state.upload_generation = generation + 1
    st.rerun()

if last_batch := st.session_state.get("upload_outcomes"):
    st.progress(1.0, text=f"Done: {ui.batch_summary(last_batch)}")
    for outcome in last_batch:
        line, link = st.columns([3, 1], vertical_alignment="center")
        line.markdown(ui.outcome_markdown(outcome))
        if outcome.ok and outcome.doc_id:
            link.page_link(
                "pages/2_Admin.py",
                label="Parse report",
                icon=":material/description:",
                query_params={"doc": outcome.doc_id},
            )
