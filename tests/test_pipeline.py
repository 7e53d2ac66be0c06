"""The ingest pipeline's stages: kb's lazy language helpers for unstructured, the threads that
parse ahead and commit behind, and the grouped Chroma write with its per-file fallback."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from kb.config import load_settings
from kb.errors import IngestError, KBError
from kb.index.ids import doc_id_for
from kb.ingest import nlp
from kb.ingest.commit import Prepared
from kb.ingest.parsing import parse
from kb.ingest.pipeline import Source
from kb.knowledge_base import KnowledgeBase
from tests.conftest import HashEmbedding


def test_sentences_come_from_rules_and_tags_from_the_tagger() -> None:
    text = "The claim is filed. Finance pays it within 45 days! Does it?"
    assert nlp.sent_tokenize(text) == [
        "The claim is filed.",
        "Finance pays it within 45 days!",
        "Does it?",
    ]
    assert nlp.word_tokenize("Pay within 45 days.") == ["Pay", "within", "45", "days", "."]
    tags = dict(nlp.pos_tag("The manager approves the claim"))
    assert tags["approves"].startswith("VB") and tags["claim"].startswith("NN")


def test_unstructured_uses_the_lazy_helpers_once_a_file_is_parsed() -> None:
    import unstructured.partition.text_type as text_type

    blocks = parse("txt", b"TRAVEL POLICY\n\nStaff book trains. Flights need approval.\n", "t.txt")
    assert text_type.sent_tokenize is nlp.sent_tokenize
    assert text_type.pos_tag is nlp.pos_tag
    assert [(b.kind, b.text) for b in blocks] == [
        ("Title", "TRAVEL POLICY"),
        ("NarrativeText", "Staff book trains. Flights need approval."),
    ]


def test_a_missing_spacy_model_is_an_error_that_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(nlp, "SPACY_MODEL", "no_such_spacy_model")
    monkeypatch.setattr(nlp, "_nlp", None)
    nlp._sentences.cache_clear()
    with pytest.raises(IngestError, match="make install"):
        nlp.sent_tokenize("A sentence nobody has split before in this run.")
    nlp._sentences.cache_clear()


def _kb(tmp_path: Path) -> KnowledgeBase:
    return KnowledgeBase(load_settings(data_dir=tmp_path / "data"), embed_model=HashEmbedding())


def test_outcomes_and_progress_come_in_order_on_the_callers_thread(tmp_path: Path) -> None:
    base = _kb(tmp_path)
    sources = [
        Source(f"note-{i:02d}.md", f"# Note {i}\n\nThe code of note {i} is heron-{i}.\n".encode())
        for i in range(20)
    ]
    sources[3] = Source("note-03.pdf", b"not a pdf at all")
    sources[12] = Source("note-12.md", b"")
    seen: list[tuple[int, str, str]] = []

    def progress(n: int, total: int, outcome: object) -> None:
        seen.append((n, threading.current_thread().name, getattr(outcome, "name", "")))

    outcomes = base.ingest(sources, progress)
    assert [o.name for o in outcomes] == [s.name for s in sources]
    assert [o.ok for o in outcomes] == [i not in (3, 12) for i in range(20)]
    assert [n for n, _, _ in seen] == list(range(1, 21))
    assert {thread for _, thread, _ in seen} == {threading.current_thread().name}
    assert len(base.registry.list()) == 18 and base.check() == []


def _prepared(base: KnowledgeBase, name: str, text: str) -> Prepared:
    source = Source(name, text.encode())
    prepared = base.ingestor._prepare(source, reindex=False)
    assert isinstance(prepared, Prepared)
    return prepared


def test_a_failed_group_write_commits_the_other_files_one_by_one(tmp_path: Path) -> None:
    base = _kb(tmp_path)
    base.ingest([Source("first.md", b"# First\n\nThe first code is kestrel-17.\n")])
    good = [_prepared(base, f"good-{i}.md", f"# Good {i}\n\nCode wren-{i}.\n") for i in range(3)]
    bad = _prepared(base, "bad.md", "# Bad\n\nThis one carries vectors of the wrong size.\n")
    embed = base.embed_model.get_text_embedding_batch
    items = [
        (p, embed([c.text for c in p.chunks]), ("everyone",)) for p in (good[0], bad, *good[1:])
    ]
    items[1] = (bad, [[0.5, 0.5, 0.0]] * len(bad.chunks), ("everyone",))  # Chroma refuses

    results = base.ingestor.committer.commit_many(items)

    assert [type(r).__name__ for r in results] == [
        "IngestOutcome",
        "StoreError",
        "IngestOutcome",
        "IngestOutcome",
    ]
    assert isinstance(results[1], KBError)
    live = {d.name for d in base.registry.list()}
    assert live == {"first.md", "good-0.md", "good-1.md", "good-2.md"}
    assert base.registry.pending() == []
    assert not [i for i in base.store.all_ids() if i.startswith(doc_id_for("bad.md"))]
    assert base.check() == []


def test_the_first_files_are_reported_before_the_whole_batch_is_embedded(tmp_path: Path) -> None:
    embedder = HashEmbedding()
    base = KnowledgeBase(load_settings(data_dir=tmp_path / "data"), embed_model=embedder)
    sources = [Source(f"n{i}.md", f"# N {i}\n\nCode plover-{i}.\n".encode()) for i in range(60)]
    embedded_at_first_report: list[int] = []

    def progress(n: int, total: int, outcome: object) -> None:
        if n == 1:
            embedded_at_first_report.append(embedder.calls)

    outcomes = base.ingest(sources, progress)
    assert all(o.ok for o in outcomes) and embedder.calls >= 60
    # The first group is small: the bar moves long before the last chunk is embedded.
    assert embedded_at_first_report and embedded_at_first_report[0] < 40
