"""Upload page (admins): add a batch of documents and see one outcome line per file."""

from __future__ import annotations

import streamlit as st

from kb.errors import KBError
from kb.index import Change
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
    "A file named like an indexed document replaces it (the old version leaves search but "
    f"stays openable from earlier answers; up to {settings.keep_versions} are kept); "
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
with st.expander("Owner, review date, replacing a document", icon=":material/badge:"):
    owner = st.text_input(
        "Owner", placeholder="a user name or e-mail address (else what the file says)"
    )
    review_by = st.date_input(
        "Review by",
        value=None,
        help="Else what the file says, or KB_REVIEW_DAYS after today when set.",
    )
    names = {d.doc_id: d.name for d in base.documents(user=admin)}
    replaces = st.selectbox(
        "Replaces document",
        [""] + list(names),
        format_func=lambda i: names.get(i, "none: a file replaces the document of its name"),
        disabled=len(files) > 1,
        help="One file at a time: it becomes the new version of the chosen document (the old "
        "one stays openable from earlier answers).",
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
        target = replaces if len(files) == 1 and replaces else None
        sources = [Source(f.name, data=f.getvalue(), doc_id=target) for f in files]
        outcomes = base.ingest(sources, progress, groups=trust.chosen_groups(groups), actor=admin)
        if owner.strip() or review_by:
            change = Change(owner=owner.strip() or None, review_by=str(review_by or "") or None)
            for o in outcomes:
                if o.ok and o.doc_id:
                    base.set_lifecycle(o.doc_id, change, actor=admin)
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
