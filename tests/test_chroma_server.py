"""Server mode: a real `chroma run` process, kb talking to it through chromadb.HttpClient."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from llama_index.core.base.embeddings.base import BaseEmbedding

from kb import ConfigError
from kb.config import load_settings
from kb.ingest.pipeline import Source
from kb.knowledge_base import KnowledgeBase

pytestmark = pytest.mark.slow  # real model, AppTest, subprocesses or servers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    exe = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert exe, "the chroma CLI ships with chromadb; run make install"
    port = _free_port()
    proc = subprocess.Popen(
        [
            exe,
            "run",
            "--path",
            str(tmp_path / "server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2)
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError("chroma server did not start") from None
                time.sleep(0.5)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.server
def test_ingest_search_replace_delete_against_a_real_server(
    chroma_server: int, make_kb: Callable[..., KnowledgeBase], tmp_path: Path
) -> None:
    base = make_kb(chroma_host="127.0.0.1", chroma_port=chroma_server)
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
def test_a_second_data_dir_on_the_same_collection_is_refused_and_deletes_nothing(
    chroma_server: int, real_embedding: BaseEmbedding, tmp_path: Path
) -> None:
    def open_dir(name: str) -> KnowledgeBase:
        settings = load_settings(
            data_dir=tmp_path / name, chroma_host="127.0.0.1", chroma_port=chroma_server
        )
        return KnowledgeBase(settings, embed_model=real_embedding)

    alpha_text = b"# Alpha\n\nThe alpha reactor is cooled by walrus-12 coolant.\n"
    a, b = open_dir("A"), open_dir("B")
    [first] = a.ingest([Source("alpha.md", alpha_text)])
    assert first.status == "indexed"
    chunks = a.store.count()

    # B's registry does not know alpha.md: before the guard, B's sweep deleted its chunks.
    with pytest.raises(ConfigError, match="belongs to another kb data dir") as refused:
        b.ingest([Source("beta.md", b"# Beta\n\nThe beta line runs on pelican-34.\n")])
    assert "KB_COLLECTION" in str(refused.value) and "nothing was written" in str(refused.value)
    for write in (lambda: b.repair(), lambda: b.reindex()):
        with pytest.raises(ConfigError):
            write()
    assert b.documents() == []
    [problem] = b.check()  # not a list of "orphans": they are A's
    assert problem.startswith("the Chroma collection 'kb_chunks' on the Chroma server")

    a.store.reopen()
    assert a.store.count() == chunks  # A lost nothing
    assert a.search("walrus coolant", 3)[0].name == "alpha.md"
    assert a.check() == []
    a.ingest([Source("alpha.md", alpha_text + b"\nIt is inspected monthly.\n")])  # A still writes
    assert a.document("alpha.md").chunks >= 1 and a.check() == []

    # Its own KB_COLLECTION on the same server: B works beside A.
    b2 = KnowledgeBase(
        load_settings(
            data_dir=tmp_path / "B",
            chroma_host="127.0.0.1",
            chroma_port=chroma_server,
            collection="kb_chunks_b",
        ),
        embed_model=real_embedding,
    )
    [beta] = b2.ingest([Source("beta.md", b"# Beta\n\nThe beta line runs on pelican-34.\n")])
    assert beta.status == "indexed" and b2.check() == []
    assert a.search("walrus coolant", 3)[0].name == "alpha.md" and a.check() == []
