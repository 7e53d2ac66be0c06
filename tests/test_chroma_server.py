"""Server mode: a real `chroma run` process, kb talking to it through chromadb.HttpClient."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.base.embeddings.base import BaseEmbedding

from kb import ConfigError
from kb.config import Settings, load_settings
from kb.ingest.pipeline import Source
from kb.knowledge_base import KnowledgeBase
from tests.conftest import Services

pytestmark = pytest.mark.slow  # real model, AppTest, subprocesses or servers


@pytest.fixture
def server_settings(shared_services: Services, tmp_path: Path) -> Callable[..., Settings]:
    """Settings on the session's Chroma server, each call a fresh PostgreSQL database (a
    registry of its own) unless one is given; one collection per test."""
    collection = f"c{uuid.uuid4().hex[:12]}"

    def make(name: str = "data", **overrides: Any) -> Settings:
        overrides.setdefault("database_url", shared_services.postgres.create())
        overrides.setdefault("collection", collection)
        return load_settings(
            data_dir=tmp_path / name,
            chroma_host="127.0.0.1",
            chroma_port=shared_services.chroma_port,
            originals_dir=tmp_path / f"{name}-originals",
            **overrides,
        )

    return make


@pytest.mark.server
def test_ingest_search_replace_delete_against_a_real_server(
    server_settings: Callable[..., Settings], real_embedding: BaseEmbedding, tmp_path: Path
) -> None:
    base = KnowledgeBase(server_settings(), embed_model=real_embedding)
    assert not (tmp_path / "data" / "chroma").exists()  # nothing embedded locally
    doc = "# Lab safety\n\nGoggles are stored in cabinet {}.\n\n## Spills\n\nUse the orange kit.\n"
    [first] = base.ingest([Source("safety.md", doc.format("walrus-12").encode())])
    assert first.status == "indexed" and base.store.count() == first.chunks
    assert base.search("goggles cabinet", 3)[0].name == "safety.md"
    [second] = base.ingest([Source("safety.md", doc.format("pelican-34").encode())])
    assert second.status == "replaced"
    for mode in ("dense", "keyword"):
        texts = " ".join(h.text for h in base.search("goggles cabinet walrus", 5, mode))
        assert "walrus-12" not in texts and "pelican-34" in texts
    assert base.check() == []
    base.delete("safety.md")
    assert base.search("goggles cabinet", 3) == [] and base.store.count() == 0


@pytest.mark.server
def test_a_second_registry_on_the_same_collection_is_refused_and_deletes_nothing(
    server_settings: Callable[..., Settings], real_embedding: BaseEmbedding
) -> None:
    def open_dir(name: str) -> KnowledgeBase:  # each its own database: another registry
        return KnowledgeBase(server_settings(name), embed_model=real_embedding)

    alpha_text = b"# Alpha\n\nThe alpha reactor is cooled by walrus-12 coolant.\n"
    a, b = open_dir("A"), open_dir("B")
    [first] = a.ingest([Source("alpha.md", alpha_text)])
    assert first.status == "indexed"
    chunks = a.store.count()

    # B's registry does not know alpha.md: before the guard, B's sweep deleted its chunks.
    with pytest.raises(ConfigError, match="belongs to another kb registry") as refused:
        b.ingest([Source("beta.md", b"# Beta\n\nThe beta line runs on pelican-34.\n")])
    assert "KB_COLLECTION" in str(refused.value) and "nothing was written" in str(refused.value)
    for write in (lambda: b.repair(), lambda: b.reindex()):
        with pytest.raises(ConfigError):
            write()
    assert b.documents() == []
    [problem] = b.check()  # not a list of "orphans": they are A's
    assert problem.startswith(f"the Chroma collection '{b.settings.collection}' on the Chroma")

    a.store.reopen()
    assert a.store.count() == chunks  # A lost nothing
    assert a.search("walrus coolant", 3)[0].name == "alpha.md"
    assert a.check() == []
    a.ingest([Source("alpha.md", alpha_text + b"\nIt is inspected monthly.\n")])  # A still writes
    assert a.document("alpha.md").chunks >= 1 and a.check() == []

    # Its own KB_COLLECTION on the same server: B works beside A.
    b2 = KnowledgeBase(
        server_settings("B", database_url=b.settings.database_url, collection="kb_chunks_b"),
        embed_model=real_embedding,
    )
    [beta] = b2.ingest([Source("beta.md", b"# Beta\n\nThe beta line runs on pelican-34.\n")])
    assert beta.status == "indexed" and b2.check() == []
    assert a.search("walrus coolant", 3)[0].name == "alpha.md" and a.check() == []
