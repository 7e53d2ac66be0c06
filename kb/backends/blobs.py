"""The blob store of originals: a folder (the data dir's, or a shared mount) or S3.

Keys are `DOC_ID/VERSION.EXT` (kb.layout.original_key); re-index, download and crash
recovery read the bytes back from here.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from kb.errors import ConfigError, StoreError

if TYPE_CHECKING:
    from kb.config import Settings


class BlobStore(ABC):
    """Bytes by key; a missing key reads as FileNotFoundError (an OSError)."""

    @abstractmethod
    def describe(self) -> str:
        """Where the blobs are, for messages (no secrets)."""

    @abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key`, whole or not at all."""

    @abstractmethod
    def read(self, key: str) -> bytes:
        """The bytes under `key` (FileNotFoundError when missing)."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether `key` holds bytes."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove `key` (nothing happens when it is missing)."""

    @abstractmethod
    def keys_under(self, prefix: str = "") -> list[str]:
        """Every key under `prefix`, sorted."""

    def path_of(self, key: str) -> Path | None:
        """The local file of `key`, when blobs are files (None for remote stores)."""
        return None

    def delete_prefix(self, prefix: str) -> None:
        """Remove every key under `prefix` (e.g. all versions of one document)."""
        for key in self.keys_under(prefix):
            self.delete(key)

    @contextmanager
    def local(self, key: str) -> Iterator[Path]:
        """A file holding the bytes of `key` for the block (parsers read paths)."""
        suffix = PurePosixPath(key).suffix
        with tempfile.TemporaryDirectory(prefix="kb-blob-") as tmp:
            path = Path(tmp) / f"original{suffix}"
            path.write_bytes(self.read(key))
            yield path


def _check_key(key: str) -> str:
    parts = PurePosixPath(key).parts
    if not parts or key.startswith("/") or any(p in ("..", ".") for p in parts):
        raise ValueError(f"bad blob key {key!r}")
    return key


class FolderBlobStore(BlobStore):
    """Blobs as files under one folder (KB_ORIGINALS_DIR, default originals/)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def describe(self) -> str:  # noqa: D102
        return str(self.root)

    def path(self, key: str) -> Path:
        """The file of `key`."""
        return self.root / _check_key(key)

    def path_of(self, key: str) -> Path | None:  # noqa: D102
        return self.path(key)

    def put(self, key: str, data: bytes) -> None:  # noqa: D102
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # a reader sees the old file or the new, never half

    def read(self, key: str) -> bytes:  # noqa: D102
        return self.path(key).read_bytes()

    def exists(self, key: str) -> bool:  # noqa: D102
        return self.path(key).is_file()

    def delete(self, key: str) -> None:  # noqa: D102
        path = self.path(key)
        path.unlink(missing_ok=True)
        if path.parent != self.root and path.parent.is_dir() and not any(path.parent.iterdir()):
            path.parent.rmdir()

    def delete_prefix(self, prefix: str) -> None:  # noqa: D102
        shutil.rmtree(self.root / _check_key(prefix), ignore_errors=True)

    def keys_under(self, prefix: str = "") -> list[str]:  # noqa: D102
        base = self.root / _check_key(prefix) if prefix else self.root
        if not base.is_dir():
            return []
        return sorted(
            p.relative_to(self.root).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        )

    @contextmanager
    def local(self, key: str) -> Iterator[Path]:  # noqa: D102
        path = self.path(key)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        yield path


class S3BlobStore(BlobStore):
    """Blobs as objects in an S3-compatible bucket, through the minio client."""

    def __init__(self, client: object, bucket: str, endpoint: str) -> None:
        self.client, self.bucket, self.endpoint = client, bucket, endpoint

    @classmethod
    def from_settings(cls, settings: Settings) -> S3BlobStore:
        """The bucket KB_S3_* name (created when missing)."""
        import urllib3
        from minio import Minio
        from minio.error import S3Error
        from urllib3.exceptions import HTTPError

        if not settings.s3_endpoint:
            raise ConfigError("KB_S3_BUCKET is set but KB_S3_ENDPOINT is not: set both")
        parts = urlsplit(settings.s3_endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"KB_S3_ENDPOINT {settings.s3_endpoint!r} is not a URL: use e.g. "
                "https://s3.eu-west-1.amazonaws.com or http://minio:9000"
            )
        secret = settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None
        client = Minio(
            parts.netloc,
            access_key=settings.s3_access_key,
            secret_key=secret,
            secure=parts.scheme == "https",
            region=settings.s3_region,
            # Two quick retries, not minio's default five with back-off: a store that is down
            # should fail an upload in seconds, with a message, not hang the page.
            http_client=urllib3.PoolManager(
                timeout=urllib3.Timeout(connect=5, read=120),
                retries=urllib3.Retry(
                    total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]
                ),
            ),
        )
        bucket = str(settings.s3_bucket)
        store = cls(client, bucket, settings.s3_endpoint)
        try:
            if not client.bucket_exists(bucket):
                client.make_bucket(bucket)
        except (S3Error, OSError, HTTPError, ValueError) as exc:  # refused; a bad bucket name
            raise ConfigError(
                f"cannot use the S3 bucket {bucket} at {settings.s3_endpoint}: {exc}; check "
                "KB_S3_ENDPOINT, KB_S3_ACCESS_KEY and KB_S3_SECRET_KEY"
            ) from exc
        return store

    def describe(self) -> str:  # noqa: D102
        return f"s3://{self.bucket} at {self.endpoint}"

    @contextmanager
    def _errors(self, key: str) -> Iterator[None]:
        from minio.error import S3Error

        try:
            yield
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise FileNotFoundError(f"{self.describe()}: no object {key}") from exc
            raise StoreError(f"the blob store {self.describe()} failed on {key}: {exc}") from exc

    def put(self, key: str, data: bytes) -> None:  # noqa: D102
        with self._errors(key):
            self.client.put_object(  # type: ignore[attr-defined]
                self.bucket, _check_key(key), io.BytesIO(data), len(data)
            )

    def read(self, key: str) -> bytes:  # noqa: D102
        with self._errors(key):
            response = self.client.get_object(self.bucket, _check_key(key))  # type: ignore[attr-defined]
            try:
                return bytes(response.read())
            finally:
                response.close()
                response.release_conn()

    def exists(self, key: str) -> bool:  # noqa: D102
        try:
            with self._errors(key):
                self.client.stat_object(self.bucket, _check_key(key))  # type: ignore[attr-defined]
        except FileNotFoundError:
            return False
        return True

    def delete(self, key: str) -> None:  # noqa: D102
        with self._errors(key):
            self.client.remove_object(self.bucket, _check_key(key))  # type: ignore[attr-defined]

    def keys_under(self, prefix: str = "") -> list[str]:  # noqa: D102
        with self._errors(prefix or "/"):
            objects = self.client.list_objects(  # type: ignore[attr-defined]
                self.bucket, prefix=prefix or None, recursive=True
            )
            return sorted(o.object_name for o in objects)
