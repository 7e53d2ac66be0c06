"""Two Streamlit replicas in Chromium over one PostgreSQL, one `chroma run` and one S3 endpoint:
a document uploaded through one replica is cited by the other."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from kb.config import load_settings
from kb.security.auth import open_users
from tests import servers
from tests.app_helpers import (
    ADMIN,
    APP,
    EMPLOYEE,
    PASSWORD,
    ROOT,
    ZEPHYR_FACT,
    ZEPHYR_NAME,
    ZEPHYR_PAGES,
    ZEPHYR_QUESTION,
    make_pdf,
)
from tests.conftest import Services
from tests.test_e2e_browser import (
    ask,
    browser,  # noqa: F401  (a fixture)
    go,
    open_sources,
    settle,
    shoot,
    sign_in,
)
from tests.test_e2e_browser import page as tab  # noqa: F401  (the fixture, here named `tab`)

pytestmark = [pytest.mark.browser, pytest.mark.server]


def _serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = servers.free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.address", "127.0.0.1"]
    cmd += ["--server.port", str(port), "--server.headless", "true"]
    cmd += ["--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    out = log.open("w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}"


def _wait(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"streamlit did not start:\n{log.read_text()}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def replicas(
    shared_services: Services, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """Two `streamlit run` processes, each its own data dir, sharing every service."""
    tmp = tmp_path_factory.mktemp("replicas")
    empty = tmp / "no-samples"  # no first-run indexing: the test uploads what it asks about
    empty.mkdir()
    with servers.s3(tmp) as s3:
        shared = {
            "KB_DATABASE_URL": shared_services.postgres.create(),
            "KB_CHROMA_HOST": "127.0.0.1",
            "KB_CHROMA_PORT": str(shared_services.chroma_port),
            "KB_COLLECTION": f"e{uuid.uuid4().hex[:12]}",
            "KB_SAMPLE_DOCS_DIR": str(empty),
            **{f"KB_{k.upper()}": v for k, v in servers.s3_settings(s3).items()},
        }
        settings = load_settings(
            data_dir=tmp / "A", **{k[3:].lower(): v for k, v in shared.items()}
        )
        users = open_users(settings)
        users.add(ADMIN, "admin", [], PASSWORD)
        users.add(EMPLOYEE, "employee", [], PASSWORD)
        base = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
        started = []
        try:
            for name in ("A", "B"):
                env = {**base, **shared, "KB_DATA_DIR": str(tmp / name)}
                started.append((*_serve(env, tmp / f"{name}.log"), tmp / f"{name}.log"))
            for proc, url, log in started:
                _wait(proc, url, log)
            yield started[0][1], started[1][1]
        finally:
            for proc, _, _ in started:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()


def test_upload_on_one_replica_and_ask_on_the_other(
    tab: Page,  # noqa: F811  (the imported fixture)
    replicas: tuple[str, str],
    tmp_path: Path,
) -> None:
    page, (url_a, url_b) = tab, replicas
    page.goto(url_a)
    settle(page, timeout=120_000)
    sign_in(page, ADMIN, timeout=120_000)
    go(page, "Upload")
    pdf = make_pdf(tmp_path / ZEPHYR_NAME, ZEPHYR_PAGES)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files([pdf])
    upload = page.get_by_role("button", name=re.compile("Upload and index"))
    expect(upload).to_be_enabled()
    upload.click()
    settle(page, timeout=180_000)
    expect(page.get_by_test_id("stMain")).to_contain_text(f"{ZEPHYR_NAME}: indexed (")

    other = page.context.browser.new_page(viewport={"width": 1440, "height": 900})  # type: ignore[union-attr]
    other.goto(url_b)
    settle(other, timeout=120_000)
    sign_in(other, EMPLOYEE, timeout=120_000)
    answer = ask(other, ZEPHYR_QUESTION)
    expect(answer).to_contain_text(ZEPHYR_FACT)
    sources = open_sources(answer)
    expect(sources).to_contain_text(f"[1] {ZEPHYR_NAME} · page 2")
    shoot(other, "replicas.png")
    other.close()
