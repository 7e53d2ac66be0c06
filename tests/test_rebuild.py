"""Re-index without downtime (issue 15): `reindex --all` builds the new index beside the live
one, answers keep coming throughout, one switch, an interrupted build resumes, and another
embedding dimension works."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kb.backends.chroma import chroma_client
from kb.ingest import Source
from kb.ingest.rebuild import BuildCommitter, model_of
from kb.knowledge_base import KnowledgeBase
from tests.conftest import SAMPLE_DOCS, HashEmbedding

Factory = Callable[..., KnowledgeBase]
QUESTION = "How many days do I have to submit an expense claim?"


class Reader(threading.Thread):
    """Asks every 100 ms until stopped; keeps every error and every empty answer."""

    def __init__(self, base: KnowledgeBase, question: str) -> None:
        super().__init__(daemon=True)
        self.base, self.question = base, question
        self.stop, self.asked, self.problems = threading.Event(), 0, list[str]()
        self.answered_at: list[float] = []  # when each question that got a good answer was asked

    def run(self) -> None:
        while not self.stop.is_set():
            asked = time.monotonic()
            try:
                answer = self.base.ask(self.question)
                if not answer.found or not answer.citations:
                    self.problems.append(f"empty answer: {answer.text!r}")
                else:
                    self.answered_at.append(asked)
            except Exception as exc:
                self.problems.append(f"{type(exc).__name__}: {exc}")
            self.asked += 1
            time.sleep(0.1)


def _collections(base: KnowledgeBase) -> list[str]:
    """This knowledge base's collections in its Chroma (embedded or a server)."""
    names = [c.name for c in chroma_client(base.settings).list_collections()]
    return sorted(n for n in names if n.startswith(base.settings.collection))


def test_a_reindex_to_another_chunk_size_answers_throughout(
    make_kb: Factory, tmp_path: Path
) -> None:
    old = make_kb()
    old.ingest_paths([SAMPLE_DOCS])
    chunks_before = old.stats()["chunks"]
    new = make_kb(chunk_size=500, chunk_overlap=50)  # the operator changed KB_CHUNK_SIZE
    readers = [Reader(new, QUESTION), Reader(old, QUESTION)]  # this process and another
    for r in readers:
        r.start()
    time.sleep(0.5)
    seen: list[tuple[int, int, int]] = []
    started = time.monotonic()
    outcomes = new.reindex([], lambda d, t, o: seen.append((d, t, o.chunks)))
    finished = time.monotonic()
    time.sleep(2.5)  # the other process notices the switch (it reloads at most every 2 s)
    for r in readers:
        r.stop.set()
        r.join()
    assert all(o.status == "reindexed" for o in outcomes), [o.message() for o in outcomes]
    for r in readers:  # questions asked during the build and after the switch were answered
        assert r.problems == [] and r.asked >= 4
        assert any(started < t < finished for t in r.answered_at)
        assert any(t > finished for t in r.answered_at)
    assert [d for d, _, _ in seen] == list(range(1, len(outcomes) + 1))  # documents done
    assert new.stats()["chunks"] > chunks_before  # smaller chunks, more of them
    texts = [c.text for c in new.store.iter_all()]
    assert len(texts) == new.stats()["chunks"] and max(map(len, texts)) <= 500 * 1.5
    assert _collections(new) == [new.indexes.active_name("")]  # only the new
    assert new.check() == [] and old.check() == []
    assert "45 days" in old.ask(QUESTION).text  # the other process answers from the new one


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_interrupted_rebuild_resumes_and_the_old_index_answers_meanwhile(
    fake_kb: Factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = fake_kb()
    for n in range(4):
        base.ingest([Source(f"doc{n}.md", f"# Doc {n}\n\nFact number {n} is blue.\n".encode())])
    published = BuildCommitter._publish
    calls = {"n": 0}

    def crash_on_third(self: BuildCommitter, p: object, doc: object) -> object:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the process is killed mid-build
        return published(self, p, doc)  # type: ignore[arg-type]

    monkeypatch.setattr(BuildCommitter, "_publish", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        base.reindex([])
    monkeypatch.setattr(BuildCommitter, "_publish", published)
    building = base.indexes.building()
    assert building is not None and base.indexes.active_name("") == base.settings.collection
    assert base.search("fact number blue", 4, mode="keyword")  # still the old index
    assert base.check() == []  # the active index is whole: unfinished work, not a fault

    again = fake_kb(chunk_size=base.settings.chunk_size)  # a new process resumes
    outcomes = again.reindex([])
    resumed = [o.name for o in outcomes if o.reason == "rebuilt before the restart"]
    assert len(resumed) == 2 and all(o.ok for o in outcomes)
    assert again.indexes.active_name("") == building.collection  # the same build, finished
    assert _collections(again) == [building.collection]
    assert len(again.search("fact number blue", 4, mode="keyword")) == 4
    assert again.check() == []


class Hash48(HashEmbedding):
    """Another model: 48 dimensions, where the first one had 64."""

    def _vec(self, text: str) -> list[float]:
        return super()._vec(text)[:48]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_rebuild_with_another_embedding_dimension(fake_kb: Factory) -> None:
    first = fake_kb()
    first.ingest([Source("canteen.md", b"# Canteen\n\nSoup is served on Thursdays.\n")])
    settings = first.settings
    before = HashEmbedding()
    # Models are told apart by name (the embedding cache keys vectors by it).
    base = KnowledgeBase(settings, embed_model=Hash48(model_name="hash-48"), embed_models=[before])
    reader = Reader(base, "Which day is soup served in the canteen?")
    reader.start()
    time.sleep(0.3)
    [outcome] = base.reindex([])
    time.sleep(0.3)
    reader.stop.set()
    reader.join()
    assert outcome.status == "reindexed" and reader.problems == [] and reader.asked >= 3
    info = base.indexes.active()
    assert info is not None and info.model == model_of(Hash48(model_name="hash-48"))
    assert base.search("soup Thursdays", 1, mode="dense")[0].name == "canteen.md"
    assert _collections(base) == [info.collection] and base.check() == []
