"""An old answer as its reader may see it today (saved chats, the Source inspector).

A citation of a document deleted since keeps its place and its file name, with no text:
"deleted on DATE". An answer that used a document its reader may no longer read (moved to a
group they are not in) is withdrawn whole: its text quotes that document.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from kb.answer import Answer
from kb.search import Hit
from kb.security import Principal

WITHDRAWN = (
    "This answer is withdrawn: it used a document that is no longer available to you. "
    "Ask the question again."
)


def deleted_note(doc_id: str, deleted_on: Mapping[str, str]) -> str:
    """'deleted on DATE' (the date from the audit log; unknown if the log does not say)."""
    day = deleted_on.get(doc_id, "")
    return f"deleted on {day[:10]}" if day else "deleted since"


def lost_access(doc_ids: Iterable[str], groups: Mapping[str, Any], user: Principal) -> bool:
    """Whether any of these documents still exists and `user` may no longer read it."""
    return any(d in groups and not user.can_see(groups[d]) for d in doc_ids)


def as_seen_today(
    answer: Answer, groups: Mapping[str, Any], deleted_on: Mapping[str, str], user: Principal
) -> Answer:
    """`answer` with deleted documents' passages blanked, or withdrawn whole if it used a
    document `user` may no longer read. `groups` holds every live document's groups."""
    used = {c.doc_id for c in answer.citations} | {h.doc_id for h in answer.hits}
    if lost_access(used, groups, user):
        return replace(answer, text=WITHDRAWN, citations=[], hits=[], checks=[], trace=None,
                       extract="", prompt="", raw="")  # fmt: skip
    gone = {d for d in used if d not in groups}
    if not gone:
        return answer

    def blank(hit: Hit) -> Hit:
        return replace(hit, text="") if hit.doc_id in gone else hit

    trace = answer.trace
    if trace is not None:
        trace = replace(trace, hits=[blank(h) for h in trace.hits])
    citations = [
        replace(c, text="", gone=deleted_note(c.doc_id, deleted_on)) if c.doc_id in gone else c
        for c in answer.citations
    ]
    # The prompt and the extract quote the passages, the deleted ones among them.
    return replace(answer, citations=citations, hits=[blank(h) for h in answer.hits],
                   trace=trace, extract="", prompt="", raw="")  # fmt: skip


def blank_record(
    data: dict[str, Any], gone: set[str], deleted_on: Mapping[str, str]
) -> dict[str, Any]:
    """A stored answer's record (kb.quality.records) with the passages of deleted documents
    replaced by their deletion note, and the prompt and model text that quoted them dropped."""
    if not gone:
        return data

    def blank(item: dict[str, Any]) -> dict[str, Any]:
        doc_id = str(item.get("doc_id", ""))
        if doc_id not in gone:
            return item
        return {**item, "text": f"({deleted_note(doc_id, deleted_on)})"}

    out = {**data, "hits": [blank(h) for h in data.get("hits", [])],
           "citations": [blank(c) for c in data.get("citations", [])],
           "extract": "", "prompt": "", "raw": ""}  # fmt: skip
    if data.get("trace"):
        out["trace"] = {**data["trace"], "hits": [blank(h) for h in data["trace"].get("hits", [])]}
    return out
