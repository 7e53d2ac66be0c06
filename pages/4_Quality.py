"""Quality page (admins): why answers fail. Thumbs down and declined questions as cases,
labelled from their trace; what each label means, and what to do about each case."""

from __future__ import annotations

import streamlit as st

from pages.shared.common import page_setup
from pages.shared.format import quality, ui
from pages.shared.quality_panel import case_actions, export_panel

base, admin = page_setup("Quality", "wide", admin=True)
st.title("Quality")
st.markdown(
    "Every thumbs down and every *not in the knowledge base* reply is a case, labelled from "
    "its stored trace and the user's correction. **Knowledge gaps** are fixed in the knowledge "
    "base (documents, chunking, retrieval); **behaviour gaps** in the model (prompt, model, "
    "fine-tuning on approved answers: `kb export finetune`)."
)
st.markdown("\n".join(f"- **{k}**: {v}" for k, v in quality.LABEL_HELP.items()))
if flash := st.session_state.pop("quality_flash", None):
    st.success(flash)
label_col, since_col, open_col = st.columns([3, 1, 1], vertical_alignment="bottom")
labels = label_col.multiselect("Label", list(quality.LABEL_HELP), placeholder="all labels")
day = since_col.date_input("Since", value=None, help="cases asked on or after this day")
since = day.isoformat() if day else ""
open_only = open_col.checkbox("Open cases only", value=True)
cases = base.cases(since, actor=admin)
shown = [c for c in cases if (not labels or c.label in labels) and not (open_only and c.resolved)]
counts = {k: sum(1 for c in cases if c.label == k) for k in quality.LABEL_HELP}
for col, (label, n) in zip(st.columns(len(counts)), counts.items(), strict=True):
    col.metric(label.capitalize(), n, border=True)
if cases:
    st.bar_chart(quality.counts_by_day(cases), x="day", y=list(quality.LABEL_HELP), height=220)
st.subheader(f"Cases ({len(shown)} of {len(cases)})")
st.dataframe(quality.case_rows(shown), hide_index=True, width="stretch",
             column_config={"id": None})  # fmt: skip
if not cases:
    st.caption("No case: no thumbs down and no declined question yet.")
case_actions(base, shown, admin)
st.subheader("Unanswered questions, grouped by meaning")
groups = base.unanswered(since, actor=admin)
st.markdown("\n".join(f"- {ui.escape_markdown(g.line())}" for g in groups[:20]) or "None yet.")
st.caption(f"{ui.plural(len(base.golden_questions()), 'question')} in the golden set: "
           "`kb eval golden` runs on them and says what changed since its last run.")  # fmt: skip
export_panel(base, admin, since)
