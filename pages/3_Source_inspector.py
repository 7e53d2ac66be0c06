"""Source inspector: one query's retrieval step by step, and how the answer was made from it."""

from __future__ import annotations

import streamlit as st

from kb.errors import KBError
from kb.search import describe_fusion
from pages.shared.answer_panel import render_answer_panel
from pages.shared.common import fail, page_setup
from pages.shared.format import answer_text, ui
from pages.shared.record_panel import record_panel

ROWS = 10  # per table: enough to see why a passage missed the top k
SCORE = st.column_config.NumberColumn(format="%.4f", width="small")
COLUMNS = {
    "rank": st.column_config.NumberColumn("#", width="small"),
    "score": SCORE,
    "fused": SCORE,
    "dense": SCORE,
    "keyword": SCORE,
    "name match": SCORE,
    "document": st.column_config.TextColumn("document", width="medium"),
    "page": st.column_config.NumberColumn("page", width="small"),
    "passage": st.column_config.TextColumn("passage", width="large"),
    "heading": st.column_config.TextColumn("heading", width="medium"),
    "chunk": st.column_config.TextColumn("chunk id", width="small"),
}
ORDER = ["rank", "score", "fused", "dense", "dense rank", "keyword", "keyword rank", "name match"]
ORDER += ["top k"]
ORDER += ["document", "page", "passage", "heading", "chunk"]


def table(rows: list[dict[str, object]], empty: str) -> None:
    """A ranking as a table, or a note when the leg found nothing."""
    if rows:
        order = [c for c in ORDER if c in rows[0]]
        st.dataframe(
            rows, column_config=COLUMNS, column_order=order, hide_index=True, width="stretch"
        )
    else:
        st.caption(empty)


base, user = page_setup("Source inspector", "wide")
st.title("Source inspector")
st.caption(
    "Type a question to see how it is retrieved: the dense (embedding) hits, the keyword "
    "(BM25) hits, how they were fused, and the passages and extract the answer came from."
)
record_panel(base, user)
turns = [t for t in st.session_state.get("history", []) if t.answer is not None]
picked = None
if turns:
    picked = st.selectbox(
        "A question from this chat",
        list(dict.fromkeys(t.question for t in reversed(turns))),
        index=None,
        placeholder="pick a question you asked on the Chat page",
    )
query_col, k_col = st.columns([5, 1])
query = query_col.text_input(
    "Query", value=picked or "", placeholder="e.g. how do I claim expenses"
)
k = int(k_col.number_input("Passages (k)", 1, 50, base.settings.top_k))
if not query.strip():
    st.info("Type a query above, or pick a question you asked in the chat.")
    st.stop()
# A chat question is asked again with the chat before it, so a follow-up is rewritten the
# same way; the answer shown in the chat is reused unless k changed.
turn = next((t for t in reversed(turns) if t.question == query), None)
try:
    visible = {d.doc_id for d in base.documents(user=user)}
    reusable = (
        turn is not None
        and turn.answer is not None
        and k == base.settings.top_k
        and all(h.doc_id in visible for h in turn.answer.hits)  # access may have changed since
    )
    if turn is not None and turn.answer is not None and reusable:
        answer = turn.answer
    else:
        earlier = [t.answer for t in turns[: turns.index(turn)]] if turn else []
        answer = base.ask(query, k, history=[a for a in earlier if a is not None], user=user)
    trace = answer.trace
except KBError as exc:
    fail(str(exc))
if trace is None:
    fail("This answer carries no retrieval trace; ask it again.")

st.markdown(answer_text.query_line(answer))
st.caption("Timings: " + ", ".join(f"{n} {ui.format_seconds(s)}" for n, s in trace.timings.items()))
ids = [i for i, _ in trace.dense[:ROWS]] + [i for i, _ in trace.keyword[:ROWS]]
info = ui.chunk_info(base, ids + [f.id for f in trace.fused[:ROWS]], user)

st.subheader(f"1. Dense hits ({len(trace.dense)} candidates, cosine similarity)")
table(ui.leg_rows(trace.dense, info, ROWS), "No dense hits: the store is empty.")
st.subheader(f"2. Keyword hits ({len(trace.keyword)} candidates, BM25)")
st.caption(
    "BM25 reads each passage with its file title and heading; a passage that does not open "
    "its page, also with the page's first words (where a PDF page's title stands)."
)
table(ui.leg_rows(trace.keyword, info, ROWS), "No keyword hits: no query word is in any passage.")
s = base.settings
how = describe_fusion(s.fusion, s.dense_weight, s.keyword_weight, s.rrf_k, s.name_weight)
st.subheader("3. Fused ranking")
st.caption(f"Fusion: {how}. The top {k} go to the answer.")
table(ui.fused_rows(trace.fused, info, ROWS, k), "Nothing to fuse.")

render_answer_panel(answer, s.min_relevance, answer.query or query)
