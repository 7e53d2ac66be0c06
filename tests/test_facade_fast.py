"""The facade's bookkeeping on a fake embedder (fast tier): add, find, replace, delete, check.

Real Chroma in tmp_path and real PDF parsing (PDFium); only the model is a fake whose vectors
depend on the text, so these say nothing about retrieval quality (the slow tests do).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kb import ConfigError, KBError, NotFoundError, Settings, UsageError
from kb.ingest.sources import Source
from kb.knowledge_base import KnowledgeBase
from tests.app_helpers import make_pdf

Factory = Callable[..., KnowledgeBase]


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Every facade test here runs twice: on a data dir of its own (SQLite, embedded Chroma,
    originals folder), and on the shared services (PostgreSQL, a Chroma server, a shared
    originals folder) that replicas use."""
    return str(request.param)


def _pdf(tmp_path: Path, name: str, pages: list[str]) -> Source:
    path = make_pdf(tmp_path / name, pages)
    return Source(name, data=path.read_bytes())


def test_add_find_replace_delete_and_stay_consistent(fake_kb: Factory, tmp_path: Path) -> None:
    base = fake_kb()
    assert base.never_used() and base.is_empty()
    first = base.ingest(
        [
            _pdf(tmp_path, "canteen.pdf", ["The canteen serves fish soup every Thursday."]),
            _pdf(tmp_path, "garage.pdf", ["The parking garage closes at 22:00 sharp."]),
        ]
    )
    assert [o.status for o in first] == ["indexed", "indexed"]
    assert {d.name for d in base.documents()} == {"canteen.pdf", "garage.pdf"}
    hits = base.search("fish soup thursday", k=1, mode="keyword")
    assert hits[0].name == "canteen.pdf" and hits[0].page == 1

    again = base.ingest(
        [_pdf(tmp_path, "canteen.pdf", ["The canteen serves fish soup every Thursday."])]
    )
    assert again[0].status == "unchanged"
    new = base.ingest([_pdf(tmp_path, "canteen.pdf", ["The canteen now serves ramen on Fridays."])])
    assert new[0].status == "replaced"
    assert all("fish" not in h.text for h in base.search("fish soup thursday", k=5))
    assert "ramen" in base.search("ramen fridays", k=1, mode="keyword")[0].text

    gone = base.delete("garage.pdf")
    assert gone.name == "garage.pdf"
    assert [d.name for d in base.documents()] == ["canteen.pdf"]
    assert all(h.name != "garage.pdf" for h in base.search("parking garage", k=5))
    assert base.check() == []
    stats = base.stats()
    assert stats["documents"] == 1 and stats["chunks"] == stats["stored_chunks"]
    assert stats["keyword_entries"] == stats["chunks"]
    assert not base.never_used()


def test_a_second_instance_sees_the_first_ones_writes(fake_kb: Factory, tmp_path: Path) -> None:
    writer, reader = fake_kb(), fake_kb()
    writer.ingest([_pdf(tmp_path, "visitors.pdf", ["Visitors sign in at reception."])])
    assert [d.name for d in reader.documents()] == ["visitors.pdf"]
    assert reader.search("visitors reception", k=1, mode="keyword")[0].name == "visitors.pdf"


def test_errors_are_named_and_say_what_to_do(fake_kb: Factory) -> None:
    base = fake_kb()
    with pytest.raises(NotFoundError, match="kb docs list"):
        base.document("nothing.pdf")
    with pytest.raises(UsageError, match="type a question"):
        base.ask("   ")
    with pytest.raises(KBError, match="access group"):
        base.ingest([], groups=[])


@pytest.mark.parametrize("backend", ["sqlite"])  # the data dir's own files: SQLite, embedded
def test_every_path_comes_from_the_data_dir_layout(fake_kb: Factory, tmp_path: Path) -> None:
    base = fake_kb()
    base.ingest([_pdf(tmp_path, "a.pdf", ["Alpha beta gamma."])])
    paths = base.paths
    assert paths.root == tmp_path / "data"
    for path in (paths.database, paths.embeddings, paths.chroma, paths.keyword):
        assert path.exists(), path
    doc = base.document("a.pdf")
    key = base.ingestor.original_key(doc)
    assert base.originals.path_of(key) == paths.originals / doc.doc_id / key.split("/")[1]
    assert base.log_path == paths.log


@pytest.mark.parametrize("backend", ["sqlite"])  # replicas share a registry; see test_replicas
def test_a_registry_that_does_not_own_the_collection_writes_nothing(
    fake_kb: Factory, settings_for: Callable[..., Settings], tmp_path: Path
) -> None:
    owner = fake_kb()
    owner.ingest([_pdf(tmp_path, "a.pdf", ["Alpha beta gamma."])])
    stored = owner.store.count()
    other_settings = settings_for(data_dir=tmp_path / "other")
    other = KnowledgeBase(
        other_settings, embed_model=owner.embed_model, vector_store=owner.store.vs
    )
    assert other.registry.id != owner.registry.id
    with pytest.raises(ConfigError, match="KB_COLLECTION"):
        other.ingest([_pdf(tmp_path, "b.pdf", ["Delta epsilon."])])
    with pytest.raises(ConfigError):
        other.repair()
    assert owner.store.count() == stored and owner.check() == []
    assert len(other.check()) == 1  # one clear problem, not the owner's chunks as orphans
