"""Kept versions (issue 15): a replaced version leaves search but its passages still open from
an earlier answer, marked superseded; KB_KEEP_VERSIONS retires the oldest; delete removes every
version from Chroma, the keyword index, the registry and the blob store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from kb.errors import NotFoundError
from kb.index import KeptVersion
from kb.index.versions import to_retire
from kb.ingest import Source
from kb.knowledge_base import KnowledgeBase

Factory = Callable[..., KnowledgeBase]
V1 = b"# Parking\n\nVisitors park on level two of the garage, next to the lifts.\n"
V2 = b"# Parking\n\nVisitors park on level four of the garage since the rebuild.\n"


def test_an_earlier_answer_still_opens_the_passage_it_quoted(make_kb: Factory) -> None:
    base = make_kb()
    base.ingest([Source("parking.md", V1)])
    before = base.ask("On which level do visitors park?")
    [quoted] = before.citations
    assert "level two" in quoted.text and base.passage(quoted.chunk_id).note() == ""

    [replaced] = base.ingest([Source("parking.md", V2)])
    assert replaced.status == "replaced"
    after = base.ask("On which level do visitors park?")
    assert "level four" in after.text and "level two" not in after.text  # out of search
    assert all("level two" not in h.text for h in base.search("level two garage", 10))

    opened = base.passage(quoted.chunk_id)  # the exact passage, from the version it quoted
    assert opened.text == quoted.text and opened.state == "superseded"
    assert opened.note() == f"superseded on {date.today()} by the current version"
    assert opened.current_version == base.document("parking.md").version != opened.version
    [kept] = base.versions("parking.md")
    assert (kept.version, kept.superseded_by) == (opened.version, opened.current_version)
    assert base.original_of_version(kept.doc_id, kept.version) == ("parking.md", V1)
    assert base.check() == []


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_keep_versions_retires_the_oldest_and_delete_removes_them_all(fake_kb: Factory) -> None:
    base = fake_kb(keep_versions=2)
    texts = [f"# Canteen\n\nSoup number {n} is served on day {n}.\n".encode() for n in range(5)]
    ids = []
    for text in texts:
        base.ingest([Source("canteen.md", text)])
        ids.append(base.search("soup served", 1, mode="keyword")[0].chunk_id)
    doc = base.document("canteen.md")
    kept = base.versions("canteen.md")
    assert [base.passage(ids[n]).text.split("\n\n")[-1] for n in (3, 2)] == [
        "Soup number 3 is served on day 3.",
        "Soup number 2 is served on day 2.",
    ]
    assert len(kept) == 2 and [k.version for k in kept] == [
        ids[3].split(":")[1],
        ids[2].split(":")[1],
    ]
    with pytest.raises(NotFoundError, match="retired"):
        base.passage(ids[0])  # past KB_KEEP_VERSIONS: retired with its original
    assert len(base.originals.keys_under(f"{doc.doc_id}/")) == 3  # live + 2 kept
    assert base.check() == []

    deleted = base.delete("canteen.md")
    assert deleted.doc_id == doc.doc_id
    assert [i for i in base.store.all_ids() if i.startswith(doc.doc_id)] == []
    assert [i for i in base.snapshot().keyword.ids if i.startswith(doc.doc_id)] == []
    assert base.registry.get(doc.doc_id) is None and base.versions_store.of(doc.doc_id) == []
    assert base.versions_store.chunks(ids) == {}
    assert base.originals.keys_under(f"{doc.doc_id}/") == []
    assert base.audit.events(1, "delete")[0].detail["versions"] == 2
    for chunk in ids:
        with pytest.raises(NotFoundError):
            base.passage(chunk)


def test_no_versions_kept_and_a_return_to_an_earlier_version(
    fake_kb: Factory, tmp_path: Path
) -> None:
    none = fake_kb(keep_versions=0, data_dir=tmp_path / "none", collection="none_kept")
    none.ingest([Source("a.md", V1)])
    none.ingest([Source("a.md", V2)])
    assert none.versions("a.md") == [] and none.check() == []

    base = fake_kb(keep_versions=5, data_dir=tmp_path / "five", collection="five_kept")
    for text in (V1, V2, V1):  # back to the first text: it is live again, not kept
        base.ingest([Source("parking.md", text)])
    live = base.document("parking.md")
    assert [k.sha256 for k in base.versions("parking.md")] == [
        base.versions("parking.md")[0].sha256
    ]
    assert base.versions("parking.md")[0].version != live.version
    assert base.original("parking.md")[1] == V1 and base.check() == []
    [reindexed] = base.reindex(["parking.md"])  # the same bytes again: nothing new to keep
    assert reindexed.ok and len(base.versions("parking.md")) == 1


def _kept(n: int, day: str) -> KeptVersion:
    return KeptVersion("d", f"v{n}", "a.md", "md", 1, "s", None, 1, day, day, "x")


def test_which_versions_retire() -> None:
    kept = [_kept(3, "2026-12-01"), _kept(2, "2026-06-01"), _kept(1, "2026-01-01")]
    today = date(2026, 12, 6)
    assert to_retire(kept, 5, None, today) == []
    assert [v.version for v in to_retire(kept, 2, None, today)] == ["v1"]
    assert [v.version for v in to_retire(kept, 5, 30, today)] == ["v2", "v1"]
    assert [v.version for v in to_retire(kept, 0, None, today)] == ["v3", "v2", "v1"]
