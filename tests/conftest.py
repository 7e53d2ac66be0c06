"""Shared fixtures: real settings in tmp dirs, the real embedding model, a sample knowledge base."""

from __future__ import annotations

import hashlib
import math
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.base.embeddings.base import BaseEmbedding

import kb  # noqa: F401  (offline environment first)
from kb.config import Settings, load_settings
from kb.knowledge_base import KnowledgeBase

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DOCS = ROOT / "sample_docs"
# A test that uses one of these loads the real model, a server or a browser: `slow` (make
# test-fast leaves it out). Whole modules of AppTest, subprocess or server tests say so
# themselves with `pytestmark = pytest.mark.slow`.
SLOW_FIXTURES = {
    "real_embedding",
    "make_kb",
    "sample_kb",
    "chroma_server",
    "app_url",
    "browser",
    "shared_services",
}
SLOW_MARKERS = ("browser", "server", "llm")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `slow` every test that needs the real model, a server or the browser."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        params = getattr(getattr(item, "callspec", None), "params", {})
        if (
            fixtures & SLOW_FIXTURES
            or any(item.get_closest_marker(m) for m in SLOW_MARKERS)
            or params.get("backend") == "postgresql"  # starts PostgreSQL and Chroma
        ):
            item.add_marker(pytest.mark.slow)


class HashEmbedding(BaseEmbedding):
    """A unit-test embedder: bag of hashed words, so vectors depend on the text."""

    calls: int = 0

    def _vec(self, text: str) -> list[float]:
        self.calls += 1
        v = [0.0] * 64
        for word in text.lower().split():
            v[int(hashlib.md5(word.encode()).hexdigest(), 16) % 64] += 1.0
        norm = math.sqrt(sum(x * x for x in v)) or 1.0
        return [x / norm for x in v]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vec(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vec(text)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vec(query)


@pytest.fixture(scope="session")
def real_embedding() -> BaseEmbedding:
    """all-MiniLM-L6-v2, loaded once for the whole run."""
    from kb.backends import build_embedding

    return build_embedding(load_settings())


@dataclass
class Services:
    """The shared services of a replicated deployment, running for the test session."""

    postgres: Any  # tests.servers.Postgres
    chroma_port: int


@pytest.fixture(scope="session")
def shared_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """A real PostgreSQL and a real `chroma run`, started once for the session."""
    from tests import servers

    folder = tmp_path_factory.mktemp("services")
    with servers.postgres() as pg, servers.chroma(folder) as port:
        yield Services(pg, port)


@pytest.fixture
def backend() -> str:
    """Where the shared state lives: 'sqlite' here; the facade test modules parametrise it
    with 'postgresql' (a fresh database, a Chroma server collection, a shared folder)."""
    return "sqlite"


@pytest.fixture
def settings_for(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> Callable[..., Settings]:
    """Settings with data in a fresh tmp folder, plus any overrides. On 'postgresql' every
    call in one test shares one database and collection: another data dir is a replica."""
    shared: dict[str, Any] = {}
    if backend == "postgresql":
        services: Services = request.getfixturevalue("shared_services")
        shared = {
            "database_url": services.postgres.create(),
            "chroma_host": "127.0.0.1",
            "chroma_port": services.chroma_port,
            "collection": f"t{uuid.uuid4().hex[:16]}",
            "originals_dir": tmp_path / "shared-originals",
        }

    def make(**overrides: Any) -> Settings:
        overrides.setdefault("data_dir", tmp_path / "data")
        for key, value in shared.items():
            overrides.setdefault(key, value)
        return load_settings(**overrides)

    return make


@pytest.fixture
def fake_kb(settings_for: Callable[..., Settings]) -> Callable[..., KnowledgeBase]:
    """A KnowledgeBase on real Chroma in tmp_path with HashEmbedding (fast; vectors depend on
    the text): for tests of bookkeeping, not of retrieval quality."""

    def make(**overrides: Any) -> KnowledgeBase:
        return KnowledgeBase(settings_for(**overrides), embed_model=HashEmbedding())

    return make


@pytest.fixture
def make_kb(
    settings_for: Callable[..., Settings], real_embedding: BaseEmbedding
) -> Callable[..., KnowledgeBase]:
    """A KnowledgeBase on real Chroma in tmp_path with the real embedding model."""

    def make(**overrides: Any) -> KnowledgeBase:
        return KnowledgeBase(settings_for(**overrides), embed_model=real_embedding)

    return make


@pytest.fixture(scope="session")
def sample_kb(
    tmp_path_factory: pytest.TempPathFactory, real_embedding: BaseEmbedding
) -> KnowledgeBase:
    """sample_docs/ indexed once for read-only tests."""
    data = tmp_path_factory.mktemp("sample") / "data"
    base = KnowledgeBase(load_settings(data_dir=data), embed_model=real_embedding)
    outcomes = base.ingest_paths([SAMPLE_DOCS])
    assert all(o.status == "indexed" for o in outcomes), [o.message() for o in outcomes]
    return base


@pytest.fixture
def docs_copy(tmp_path: Path) -> Path:
    """A writable copy of sample_docs/."""
    dest = tmp_path / "docs"
    shutil.copytree(SAMPLE_DOCS, dest)
    return dest


def shared_data(name: str) -> Path:
    """A data set of ../shared/data (read in place, never copied): beside the project, or, for a
    clone elsewhere on this machine (CI, a clean-clone check), /work/shared/data."""
    for base in (ROOT.parent / "shared" / "data", Path("/work/shared/data")):
        if (base / name).is_dir():
            return base / name
    return ROOT.parent / "shared" / "data" / name
