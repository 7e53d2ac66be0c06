"""Integration: real Chroma in tmp_path, real unstructured, the real embedding model."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from kb.answer.extractive import NOT_FOUND
from kb.errors import NotFoundError
from kb.eval.golden import evaluate_golden, load_questions
from kb.index.store import parse_chunk_id
from kb.ingest.pipeline import Source
from kb.knowledge_base import KnowledgeBase

from .conftest import SAMPLE_DOCS

KBFactory = Callable[..., KnowledgeBase]


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Every facade test here runs twice: on a data dir of its own (SQLite, embedded Chroma,
    originals folder), and on the shared services (PostgreSQL, a Chroma server, a shared
    originals folder) that replicas use."""
    return str(request.param)


def _md(fact: str, extra: str = "") -> bytes:
    return (
        "# Parking rules\n\nStaff park in the north lot. "
        f"{fact}\n\n## Bicycles\n\nBicycle racks stand by the main door. {extra}\n"
    ).encode()


def _names(hits: list) -> set[str]:
    return {h.name for h in hits}


def test_reingesting_unchanged_files_embeds_nothing(make_kb: KBFactory, docs_copy: Path) -> None:
    base = make_kb()
    first = base.ingest_paths([docs_copy])
    assert {o.status for o in first} == {"indexed"} and len(first) >= 10
    assert sum(o.embedded for o in first) == sum(o.chunks for o in first)
    calls = []
    original = base.embed_model.get_text_embedding_batch
    base.embed_model.__dict__["get_text_embedding_batch"] = lambda *a, **k: (
        calls.append(a) or original(*a, **k)
    )
    try:
        again = base.ingest_paths([docs_copy])
    finally:
        del base.embed_model.__dict__["get_text_embedding_batch"]
    assert {o.status for o in again} == {"unchanged"}
    assert sum(o.embedded for o in again) == 0 and calls == []
    assert base.check() == []


def test_replace_swaps_versions_and_old_text_is_gone(make_kb: KBFactory) -> None:
    base = make_kb()
    [first] = base.ingest([Source("parking.md", _md("Visitors use bay zebracorn seven."))])
    assert first.status == "indexed"
    [second] = base.ingest([Source("parking.md", _md("Visitors use bay quokkafish nine."))])
    assert second.status == "replaced" and "old version out of search" in second.message()
    for mode in ("dense", "keyword", "hybrid"):
        texts = " ".join(h.text for h in base.search("zebracorn bay visitors", 10, mode))
        assert "zebracorn" not in texts, mode
        assert "quokkafish" in " ".join(h.text for h in base.search("quokkafish", 10, mode))
    assert len(base.documents()) == 1
    name, data, _ = base.original("parking.md")
    assert name == "parking.md" and b"quokkafish" in data
    # The old original is kept (KB_KEEP_VERSIONS), out of search but openable.
    doc_id = base.documents()[0].doc_id
    assert len(base.originals.keys_under(doc_id + "/")) == 2
    [kept] = base.versions(doc_id)
    assert b"zebracorn" in base.original_of_version(doc_id, kept.version)[1]
    assert base.check() == []


def test_replace_reembeds_only_changed_chunks(make_kb: KBFactory) -> None:
    base = make_kb()
    base.ingest([Source("parking.md", _md("Visitors use bay seven."))])
    [out] = base.ingest([Source("parking.md", _md("Visitors use bay seven.", "New: racks."))])
    assert out.status == "replaced" and out.chunks == 2 and out.embedded == 1


def test_store_deletes_a_version_by_its_metadata(make_kb: KBFactory) -> None:
    base = make_kb()
    [out] = base.ingest([Source("parking.md", _md("Bay 5 is for visitors."))])
    doc = base.document("parking.md")
    stored = base.store.get(base.store.all_ids())
    assert {c.meta["doc_id"] for c in stored.values()} == {doc.doc_id}
    base.store.delete_version(doc.doc_id, doc.version)  # no repair sweep behind it
    assert base.store.count() == 0 and out.chunks == 2


def test_delete_removes_from_every_leg_and_disk(make_kb: KBFactory) -> None:
    base = make_kb()
    base.ingest([Source("parking.md", _md("The gate code is flamingo-4471."))])
    base.ingest([Source("other.md", b"# Canteen\n\nLunch is served from 11:00 to 13:30.\n")])
    doc = base.delete("parking.md")
    for mode in ("dense", "keyword", "hybrid"):
        assert "parking.md" not in _names(base.search("gate code flamingo", 10, mode)), mode
    assert base.originals.keys_under(doc.doc_id + "/") == []
    assert [d.name for d in base.documents()] == ["other.md"]
    assert base.check() == []
    with pytest.raises(NotFoundError, match="kb docs list"):
        base.delete("parking.md")


def test_restart_keeps_registry_chroma_and_keyword_in_agreement(
    make_kb: KBFactory, docs_copy: Path
) -> None:
    base = make_kb()
    base.ingest_paths([docs_copy / "orion-4-release-notes.txt", docs_copy / "it-helpdesk-faq.html"])
    base.delete("it-helpdesk-faq.html")
    base.ingest([Source("parking.md", _md("Bay 12 is for electric cars."))])
    generation = base.registry.generation()
    del base
    again = make_kb()
    assert again.check() == []
    view = again.snapshot()
    assert view.keyword.generation == generation  # loaded from disk, not rebuilt
    assert sorted(d.name for d in again.documents()) == ["orion-4-release-notes.txt", "parking.md"]
    assert "parking.md" in _names(again.search("electric cars bay", 5, "keyword"))


def test_failed_file_leaves_everything_as_it_was(make_kb: KBFactory, tmp_path: Path) -> None:
    base = make_kb()
    base.ingest([Source("parking.md", _md("Bay 3 is reserved."))])
    before = (base.registry.list(), sorted(base.store.all_ids()), base.registry.generation())
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj <<>> garbage without xref")
    renamed = tmp_path / "tool.docx"
    renamed.write_bytes(b"MZ\x90\x00" + b"\x00" * 200)
    good = tmp_path / "canteen.md"
    good.write_text("# Canteen\n\nThe canteen serves soup every Thursday.\n")
    outcomes = base.ingest_paths([broken, renamed, good])
    status = {o.name: o for o in outcomes}
    assert status["broken.pdf"].status == "failed"
    assert "truncated or damaged" in status["broken.pdf"].reason
    assert "Windows executable" in status["tool.docx"].reason
    assert status["canteen.md"].status == "indexed"
    base.delete("canteen.md")
    after = (base.registry.list(), sorted(base.store.all_ids()))
    assert after[0] == before[0] and after[1] == before[1]
    assert base.check() == []


def test_replace_is_atomic_for_readers(make_kb: KBFactory) -> None:
    base = make_kb()
    base.ingest([Source("parking.md", _md("Marker lantern version one."))])
    seen: list[set[str]] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            hits = base.search("parking rules lantern marker", 10)
            seen.append({parse_chunk_id(h.chunk_id)[1] for h in hits if h.name == "parking.md"})

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for n in range(2, 6):
            base.ingest([Source("parking.md", _md(f"Marker lantern version {n}."))])
    finally:
        stop.set()
        thread.join()
    assert len(seen) > 3
    assert all(len(versions) == 1 for versions in seen), seen  # never both, never neither


def test_sample_questions_find_the_right_file_and_page(sample_kb: KnowledgeBase) -> None:
    questions = load_questions(SAMPLE_DOCS / "questions.yaml")
    assert len(questions) >= 20
    result = evaluate_golden(questions, sample_kb.search, k=5)
    assert result.file_hit_rate >= 0.90, result.misses
    pdf = [q for q in questions if q.file.endswith(".pdf")]
    pdf_result = evaluate_golden(pdf, sample_kb.search, k=5)
    assert pdf_result.page_hit_rate == 1.0, pdf_result.misses


def test_every_sample_question_names_a_real_file() -> None:
    entries = yaml.safe_load((SAMPLE_DOCS / "questions.yaml").read_text())
    for e in entries:
        assert (SAMPLE_DOCS / e["file"]).is_file(), e


def test_ask_cites_real_files_and_pages(sample_kb: KnowledgeBase) -> None:
    answer = sample_kb.ask("How many days do I have to submit an expense claim?")
    assert answer.found and "45 days" in answer.text and "[1]" in answer.text
    first = answer.citations[0]
    assert first.n == 1 and first.name == "employee-handbook.pdf" and first.page == 4
    assert (SAMPLE_DOCS / first.name).is_file()
    assert first.text in {h.text for h in answer.hits}


@pytest.mark.parametrize(
    "question", ["Who won the football world cup in 2022?", "What is the capital of Peru?"]
)
def test_ask_says_so_when_the_documents_cannot_answer(
    sample_kb: KnowledgeBase, question: str
) -> None:
    answer = sample_kb.ask(question)
    assert not answer.found and answer.text == NOT_FOUND and answer.citations == []


def test_hits_carry_every_score_and_rank(sample_kb: KnowledgeBase) -> None:
    hits = sample_kb.search("guest Wi-Fi network Gothenburg", 5)
    assert "office-directory.xlsx" in _names(hits)
    ids = {d.doc_id for d in sample_kb.documents()}
    for h in hits:
        assert h.doc_id in ids  # the registry's id, as pages use it to offer the original
        assert set(h.scores) == {"dense", "keyword", "fused", "named"}
        assert h.scores["fused"] == h.score
        assert h.ranks["dense"] is not None or h.ranks["keyword"] is not None
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_a_batch_of_queries_finds_what_each_query_finds_alone(sample_kb: KnowledgeBase) -> None:
    queries = ["expense claim deadline", "guest Wi-Fi Gothenburg", "daily allowance in Tokyo"]
    batch = sample_kb.search_many(queries, 3)
    for query, hits in zip(queries, batch, strict=True):
        alone = sample_kb.search(query, 3)
        assert [h.chunk_id for h in hits][:1] == [h.chunk_id for h in alone][:1]
        assert {h.name for h in hits} == {h.name for h in alone}
    assert [h.name for h in sample_kb.search_many(["Tokyo"], 1, "keyword")[0]] == [
        "travel-per-diem-rates.csv"
    ]
