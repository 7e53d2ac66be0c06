"""The admin page's access section: which groups may see a document, changed at once."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from kb.errors import KBError
from kb.index import Document
from kb.knowledge_base import KnowledgeBase
from kb.security import Principal
from pages.shared.admin_actions import FLASH_KEY
from pages.shared.format import trust, ui
from pages.shared.identity import authenticator


def _apply(
    base: KnowledgeBase, ids: Sequence[str], groups: list[str], actor: Principal
) -> list[tuple[str, str]]:
    flash = []
    for doc_id in ids:
        try:
            doc = base.set_groups(doc_id, groups, actor=actor)
        except KBError as exc:
            flash.append(("error", str(exc)))
            continue
        flash.append(
            (
                "success",
                f"**{ui.escape_markdown(doc.name)}** is now visible to: "
                f"{ui.escape_markdown(trust.groups_label(doc.groups))}.",
            )
        )
    return flash


def access_panel(base: KnowledgeBase, docs: Sequence[Document], actor: Principal) -> None:
    """Pick documents and the groups that may see them; the change applies to the next query."""
    st.subheader("Access")
    st.caption(
        "Employees see a document only when they are in one of its groups (admins see all). "
        "A change applies to the very next question anyone asks."
    )
    names = {d.doc_id: d.name for d in docs}
    known = authenticator(base).users.groups() + [g for d in docs for g in d.groups]
    docs_col, groups_col, button_col = st.columns([3, 3, 1], vertical_alignment="bottom")
    chosen = docs_col.multiselect(
        "Documents",
        list(names),
        format_func=lambda i: names.get(i, i),
        placeholder="choose documents",
        key="access_docs",
    )
    groups = groups_col.multiselect(
        "Visible to",
        trust.group_options(known),
        accept_new_options=True,
        placeholder="groups (type a new one), or everyone",
        key="access_groups",
    )
    if button_col.button(
        "Set access", icon=":material/lock_person:", disabled=not chosen, width="stretch"
    ):
        st.session_state[FLASH_KEY] = _apply(base, chosen, trust.chosen_groups(groups), actor)
        st.rerun()
