"""The blob store of originals: a folder, and S3 through minio against moto's real HTTP server.
Re-index, download and crash recovery read the originals back from it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kb.backends import build_blob_store
from kb.backends.blobs import BlobStore, FolderBlobStore, S3BlobStore
from kb.config import Settings, load_settings
from kb.errors import ConfigError
from kb.index.ids import doc_id_for, sha256_hex
from kb.ingest import Source
from kb.knowledge_base import KnowledgeBase
from kb.layout import original_key
from tests import servers
from tests.conftest import HashEmbedding


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with servers.s3(tmp_path_factory.mktemp("s3")) as url:
        yield url


def _exercise(store: BlobStore) -> None:
    assert store.keys_under() == []
    store.put("doc-1/v1.pdf", b"%PDF one")
    store.put("doc-1/v2.pdf", b"%PDF two")
    store.put("doc-2/v1.md", b"# two")
    store.put("doc-1/v1.pdf", b"%PDF one, again")  # overwrite: whole or nothing
    assert store.read("doc-1/v1.pdf") == b"%PDF one, again"
    assert store.exists("doc-2/v1.md") and not store.exists("doc-3/v1.md")
    assert store.keys_under("doc-1/") == ["doc-1/v1.pdf", "doc-1/v2.pdf"]
    with store.local("doc-2/v1.md") as path:
        assert path.suffix == ".md" and path.read_bytes() == b"# two"
    with pytest.raises(FileNotFoundError):
        store.read("doc-3/v1.md")
    for bad in ("../escape", "/abs/key", "a/../b"):
        with pytest.raises(ValueError, match="bad blob key"):
            store.put(bad, b"x")
    store.delete("doc-1/v2.pdf")
    store.delete("doc-1/never-there.pdf")  # missing: nothing happens
    store.delete_prefix("doc-2")
    assert store.keys_under() == ["doc-1/v1.pdf"]


def test_a_folder_store_keeps_blobs_as_files(tmp_path: Path) -> None:
    store = FolderBlobStore(tmp_path / "originals")
    _exercise(store)
    assert (tmp_path / "originals" / "doc-1" / "v1.pdf").read_bytes() == b"%PDF one, again"
    assert not (tmp_path / "originals" / "doc-2").exists()  # emptied folders go


@pytest.mark.server
@pytest.mark.slow
def test_an_s3_store_on_a_real_endpoint(s3_endpoint: str, tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, **servers.s3_settings(s3_endpoint))
    store = build_blob_store(settings)
    assert isinstance(store, S3BlobStore) and store.describe().startswith("s3://kb-")
    _exercise(store)
    assert not (tmp_path / "originals").exists()


def test_bad_s3_settings_say_what_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="KB_S3_ENDPOINT"):
        build_blob_store(load_settings(data_dir=tmp_path, s3_bucket="kb"))
    bad = load_settings(data_dir=tmp_path, s3_bucket="kb", s3_endpoint="minio:9000")
    with pytest.raises(ConfigError, match="is not a URL"):
        build_blob_store(bad)
    odd = load_settings(data_dir=tmp_path, s3_bucket="kb", s3_endpoint="http://127.0.0.1:9")
    with pytest.raises(ConfigError, match="invalid bucket name kb"):
        build_blob_store(odd)
    down = load_settings(
        data_dir=tmp_path,
        s3_bucket="kb-originals",
        s3_endpoint=f"http://127.0.0.1:{servers.free_port()}",
        s3_access_key="k",
        s3_secret_key="s",
    )
    with pytest.raises(ConfigError, match="cannot use the S3 bucket kb-originals"):
        build_blob_store(down)


@pytest.mark.server
@pytest.mark.slow
def test_reindex_download_and_recovery_read_the_originals_from_s3(
    s3_endpoint: str, tmp_path: Path
) -> None:
    def settings() -> Settings:
        return load_settings(data_dir=tmp_path / "data", **fixed)

    fixed = servers.s3_settings(s3_endpoint)
    opened: Callable[[], KnowledgeBase] = lambda: KnowledgeBase(  # noqa: E731
        settings(), embed_model=HashEmbedding()
    )
    base = opened()
    first = b"# Kiln\n\nThe kiln fires at 1,200 degrees on Mondays.\n"
    [added] = base.ingest([Source("kiln.md", first)])
    assert added.status == "indexed"
    assert not (tmp_path / "data" / "originals").exists()  # the bytes went to the bucket
    assert base.original("kiln.md")[1] == first
    [again] = base.reindex(["kiln.md"])
    assert again.status == "reindexed" and base.check() == []

    # A crash after the new version's original was saved, before it went live:
    second = first.replace(b"Mondays", b"Fridays")
    doc_id = doc_id_for("kiln.md")
    version = base.ingestor.version_for(sha256_hex(second))
    base.registry.begin(doc_id, version, "ingest", "kiln.md", ("everyone",))
    base.originals.put(original_key(doc_id, version, "kiln.md", "md"), second)
    restarted = opened()  # recovery resumes the upload from the bucket
    assert any("resumed an interrupted upload" in line for line in restarted.recovered)
    assert restarted.original("kiln.md")[1] == second
    assert "Fridays" in restarted.search("kiln fires", 1)[0].text
    assert restarted.check() == []
