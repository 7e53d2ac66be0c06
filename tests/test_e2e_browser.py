"""End to end in Debian's Chromium: a real `streamlit run`, driven as a new user would."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.app_helpers import (
    ADMIN,
    APP,
    EMPLOYEE,
    PASSWORD,
    ROOT,
    SAMPLE_DOCS,
    ZEPHYR_FACT,
    ZEPHYR_NAME,
    ZEPHYR_PAGES,
    ZEPHYR_QUESTION,
    add_users,
    make_pdf,
)

pytestmark = pytest.mark.browser

VIEWPORT: ViewportSize = {"width": 1440, "height": 900}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--disable-quic",
]
SHOTS = Path(os.environ.get("KB_SCREENSHOTS_DIR", ROOT / "docs" / "screenshots"))
SAMPLE_QUESTION = "How many days do I have to submit an expense claim?"
SHARES = Path("/tmp") / f"kb-e2e-shares-{os.getpid()}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve(data: Path, sample_docs: Path = SAMPLE_DOCS, **env_extra: str) -> Iterator[str]:
    """`streamlit run` on a free port over `data` (indexing `sample_docs` on first run)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env |= {"KB_DATA_DIR": str(data), "KB_SAMPLE_DOCS_DIR": str(sample_docs), **env_extra}
    log_path = data.parent / f"streamlit-{port}.log"
    log = log_path.open("w")
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.address", "127.0.0.1"]
    cmd += ["--server.port", str(port), "--server.headless", "true"]
    cmd += ["--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start:\n{log_path.read_text()}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over an empty store (it indexes sample_docs/ itself), with the test users."""
    data = tmp_path_factory.mktemp("e2e") / "data"
    add_users(data)  # boss (admin), emma (employee), lars (employee in "lab")
    # KB_SYNC_ROOTS: where the Admin page may sync a new folder
    with serve(data, KB_SYNC_ROOTS=str(SHARES)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium (`make chromium`); never a downloaded one."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("chromium is not installed: run `make chromium` (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A new browser context: a new Streamlit session."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()


def settle(page: Page, timeout: float = 60_000) -> None:
    """Wait until the script run that the last action started has finished."""
    page.wait_for_timeout(500)  # the run state flips to "running" shortly after an action
    ready = page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')
    expect(ready).to_be_attached(timeout=timeout)


def shoot(page: Page, name: str) -> None:
    """A screenshot of the whole page (Streamlit scrolls inside its own container)."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.mouse.move(VIEWPORT["width"] - 20, VIEWPORT["height"] - 20)  # no hover effects
    page.wait_for_timeout(800)  # expanders and progress bars finish animating
    height = page.get_by_test_id("stMainBlockContainer").evaluate("e => e.scrollHeight")
    page.set_viewport_size({"width": VIEWPORT["width"], "height": max(800, height + 200)})
    page.wait_for_timeout(500)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True, animations="disabled")
    page.set_viewport_size(VIEWPORT)


def go(page: Page, title: str) -> None:
    """Open a page from the sidebar (this keeps the session)."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
    settle(page)


def choose(page: Page, box: Locator, option: str, typed: str = "") -> None:
    """Pick one option of a multiselect, typing `typed` to filter it first.

    The dropdown list can be rebuilt under the pointer while the page settles
    (the click then finds the option detached), so a missed click reopens the
    list and tries again; a pick that did land is not repeated.
    """
    widget = box.locator("xpath=ancestor::*[@data-testid='stMultiSelect'][1]")
    for _ in range(3):
        settle(page)
        if option in widget.inner_text():  # its chip is shown: picked
            break
        box.click()
        if typed:
            box.fill(typed)
        with contextlib.suppress(PlaywrightTimeout):
            page.get_by_role("option", name=option, exact=True).click(timeout=10_000)
        page.keyboard.press("Escape")
    settle(page)
    expect(widget).to_contain_text(option)


def sign_in(page: Page, name: str, password: str = PASSWORD, timeout: float = 60_000) -> None:
    """Fill the sign-in form and wait for the page behind it."""
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    settle(page, timeout)


def menu(page: Page) -> list[str]:
    """The page links in the sidebar menu."""
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link").first).to_be_visible()
    links = nav.get_by_role("link").all_inner_texts()
    return [t.strip().splitlines()[-1] for t in links]  # the icon's name comes first


def ask(page: Page, question: str) -> Locator:
    """Ask in the chat; returns the new answer's message once it is complete."""
    messages = page.get_by_test_id("stChatMessage")
    before = messages.count()
    box = page.get_by_test_id("stChatInput").locator("textarea")
    box.fill(question)
    box.press("Enter")
    # Wait for this question to stand second to last: on a loaded machine the history of a page
    # just opened can still be drawing when `before` is read, and counting alone would then
    # take an earlier answer for this one.
    page.wait_for_function(
        """([before, question]) => {
            const m = document.querySelectorAll('[data-testid="stChatMessage"]');
            return m.length >= before + 2 && m[m.length - 2].textContent.includes(question);
        }""",
        arg=[before, question],
    )
    answer = messages.last
    expect(answer).to_contain_text("Answered in", timeout=30_000)  # it streams in
    settle(page)
    return answer


def open_sources(answer: Locator) -> Locator:
    sources = answer.get_by_test_id("stExpander")
    sources.locator("summary").click()
    expect(sources.get_by_role("button", name="Download the original").first).to_be_visible()
    return sources


def test_upload_ask_delete_ask_again(page: Page, app_url: str, tmp_path: Path) -> None:
    # First visit: the sign-in form; then the app indexes sample_docs/ itself and opens the chat.
    page.goto(app_url)
    settle(page, timeout=240_000)
    expect(page.get_by_test_id("stMain")).to_contain_text("Sign in to use the knowledge base.")
    expect(page.get_by_test_id("stChatInput")).to_have_count(0)
    shoot(page, "signin.png")
    sign_in(page, ADMIN, timeout=240_000)
    expect(page.get_by_test_id("stChatInput")).to_be_visible()
    assert menu(page) == ["Chat", "Source inspector", "Upload", "Admin", "Quality"]
    started = time.monotonic()
    answer = ask(page, SAMPLE_QUESTION)
    assert time.monotonic() - started < 10, "a cited answer should come within seconds"
    expect(answer).to_contain_text("45 days")
    sources = open_sources(answer)
    expect(sources).to_contain_text("[1] employee-handbook.pdf · page 4")
    expect(sources).to_contain_text("dense cosine")
    shoot(page, "chat.png")

    # Upload (signed in as admin) a new document with a fact on page 2, and a broken file.
    go(page, "Upload")
    pdf = make_pdf(tmp_path / ZEPHYR_NAME, ZEPHYR_PAGES)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"this is not a PDF, whatever its name says\n")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files([pdf, broken])
    upload = page.get_by_role("button", name="Upload and index 2 files")
    expect(upload).to_be_enabled()
    upload.click()
    settle(page, timeout=120_000)
    main = page.get_by_test_id("stMain")
    expect(main).to_contain_text(f"{ZEPHYR_NAME}: indexed (")
    expect(main).to_contain_text("broken.pdf: failed — named .pdf but its content is TXT")
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    shoot(page, "upload.png")

    # Only the new document answers; its page 2 is cited and can be opened.
    go(page, "Chat")
    answer = ask(page, ZEPHYR_QUESTION)
    expect(answer).to_contain_text(ZEPHYR_FACT)
    sources = open_sources(answer)
    expect(sources).to_contain_text(f"[1] {ZEPHYR_NAME} · page 2")
    link = sources.get_by_role("link", name="Open at page 2")
    href = link.get_attribute("href") or ""
    assert href.endswith("#page=2"), href
    served = page.request.get(app_url + href.split("#")[0])
    assert served.ok and served.headers["content-type"] == "application/pdf"
    assert served.body() == pdf.read_bytes()
    with page.expect_download() as download:
        sources.get_by_role("button", name="Download the original").first.click()
    assert download.value.suggested_filename == ZEPHYR_NAME
    assert Path(download.value.path()).read_bytes() == pdf.read_bytes()

    # Delete it on the admin page (with confirmation).
    go(page, "Admin")
    expect(page.get_by_test_id("stDataFrame").first).to_contain_text(ZEPHYR_NAME)
    shoot(page, "admin.png")
    chooser = page.get_by_role("combobox", name="Documents to act on")
    choose(page, chooser, ZEPHYR_NAME, typed="zephyr")
    page.get_by_role("button", name="Delete", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("cannot be undone")
    dialog.get_by_role("button", name="Yes, delete").click()
    settle(page)
    expect(main).to_contain_text(f"Deleted {ZEPHYR_NAME}")
    expect(page.get_by_test_id("stDataFrame").first).not_to_contain_text(ZEPHYR_NAME)

    # Asked again, the deleted document is not cited any more.
    go(page, "Chat")
    expect(page.get_by_test_id("stChatMessage")).to_have_count(4)  # the history is kept
    answer = ask(page, ZEPHYR_QUESTION)
    expect(answer).not_to_contain_text(ZEPHYR_NAME)
    expect(answer).not_to_contain_text("Q-17")

    # The inspector shows the retrieval of a question asked in this chat.
    go(page, "Source inspector")
    page.get_by_test_id("stSelectbox").click()
    page.get_by_role("option", name=SAMPLE_QUESTION).click()
    settle(page)
    expect(page.get_by_test_id("stDataFrame")).to_have_count(3)
    expect(main).to_contain_text("Passages given to the answer")
    shoot(page, "inspector.png")


def test_an_employee_sees_no_admin_page(page: Page, app_url: str) -> None:
    main = page.get_by_test_id("stMain")
    for path in ("Admin", "Upload"):  # opened by URL: a new session, signed out
        page.goto(f"{app_url}/{path}")
        settle(page, timeout=240_000)
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        expect(page.get_by_test_id("stDataFrame")).to_have_count(0)
        expect(page.get_by_test_id("stFileUploader")).to_have_count(0)
    sign_in(page, EMPLOYEE, "not the password")
    expect(main).to_contain_text("Wrong user name or password.")
    sign_in(page, EMPLOYEE)  # from /Upload, as an employee
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Signed in as emma (employee)")
    expect(page.get_by_test_id("stFileUploader")).to_have_count(0)
    assert menu(page) == ["Chat", "Source inspector"]
    shoot(page, "employee.png")
    for path in ("Admin", "Upload"):  # by URL again, signed in this time
        page.goto(f"{app_url}/{path}")
        settle(page)
        sign_in(page, EMPLOYEE)
        expect(page.get_by_test_id("stDataFrame")).to_have_count(0)
        expect(page.get_by_test_id("stFileUploader")).to_have_count(0)
        expect(page.get_by_text("Documents to act on")).to_have_count(0)
        assert menu(page) == ["Chat", "Source inspector"]


def test_restricting_a_document_hides_it_from_an_employee_at_once(
    browser: Browser, app_url: str, tmp_path: Path
) -> None:
    contexts = [browser.new_context(viewport=VIEWPORT) for _ in range(2)]
    admin, emma = (c.new_page() for c in contexts)
    try:
        admin.goto(app_url)
        settle(admin, timeout=240_000)
        sign_in(admin, ADMIN, timeout=240_000)
        go(admin, "Upload")
        pdf = make_pdf(tmp_path / ZEPHYR_NAME, ZEPHYR_PAGES)
        admin.get_by_test_id("stFileUploaderDropzoneInput").set_input_files([pdf])
        admin.get_by_role("button", name="Upload and index 1 file").click()
        settle(admin, timeout=120_000)
        expect(admin.get_by_test_id("stMain")).to_contain_text(f"{ZEPHYR_NAME}: ")

        emma.goto(app_url)
        settle(emma, timeout=240_000)
        sign_in(emma, EMPLOYEE)
        expect(ask(emma, ZEPHYR_QUESTION)).to_contain_text(ZEPHYR_FACT)  # open to everyone

        # The admin restricts the notes to the lab group...
        go(admin, "Admin")
        docs = admin.get_by_role("combobox", name="Documents", exact=True)
        choose(admin, docs, ZEPHYR_NAME, typed="zephyr")
        choose(admin, admin.get_by_role("combobox", name="Visible to"), "lab")
        admin.get_by_role("button", name="Set access").click()
        settle(admin)
        expect(admin.get_by_test_id("stMain")).to_contain_text(
            f"{ZEPHYR_NAME} is now visible to: lab"
        )
        expect(admin.get_by_test_id("stMain")).to_contain_text("set_groups")  # the audit log
        shoot(admin, "admin-access.png")

        # ...and the employee's very next question no longer reaches them.
        answer = ask(emma, ZEPHYR_QUESTION)
        expect(answer).not_to_contain_text(ZEPHYR_FACT)
        expect(answer).not_to_contain_text(ZEPHYR_NAME)
        earlier = emma.get_by_test_id("stChatMessage").nth(1)
        expect(earlier).to_contain_text("no longer available to you")
        expect(emma.get_by_text("Q-17")).to_have_count(0)
        shoot(emma, "employee-restricted.png")
    finally:
        for c in contexts:
            c.close()


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs Tesseract (make ocr)")
def test_a_scan_goes_in_by_ocr_and_its_parse_report_is_one_click_away(
    page: Page, app_url: str, tmp_path: Path
) -> None:
    from tests.test_ocr import SCAN_LINES, _image_pdf, typed_page

    page.goto(app_url)
    settle(page, timeout=240_000)  # run alone, this is the first visit: samples get indexed
    sign_in(page, ADMIN, timeout=240_000)
    go(page, "Upload")
    main = page.get_by_test_id("stMain")
    expect(main).to_contain_text("read by OCR (Tesseract)")
    scan = tmp_path / "boiler-room-scan.pdf"
    scan.write_bytes(_image_pdf(typed_page(SCAN_LINES)))
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files([scan])
    page.get_by_role("button", name="Upload and index 1 file").click()
    settle(page, timeout=120_000)
    expect(main).to_contain_text("boiler-room-scan.pdf: indexed (")
    page.get_by_role("link", name="Parse report").click()
    settle(page)
    expect(main).to_contain_text("Read by pdfium as PDF")
    report = page.locator('[data-testid="stMetric"]', has_text="By OCR")
    expect(report).to_contain_text("1")
    page.get_by_text("Read by pdfium as PDF").scroll_into_view_if_needed()
    shoot(page, "parse-report.png")
    go(page, "Chat")
    answer = ask(page, "Where is the boiler room key kept?")
    expect(answer).to_contain_text("reception")


def test_a_stale_source_is_marked_and_a_folder_syncs_from_the_admin_page(
    page: Page, app_url: str
) -> None:
    page.goto(app_url)
    settle(page, timeout=240_000)
    sign_in(page, ADMIN, timeout=240_000)
    answer = ask(page, SAMPLE_QUESTION)
    cited = answer.get_by_test_id("stExpander").locator("summary")
    expect(cited).to_be_visible()
    name = "employee-handbook.pdf"
    expect(answer).to_contain_text(name)

    # The admin gives the cited document an owner and a review date already past...
    go(page, "Admin")
    choose(page, page.get_by_role("combobox", name="Documents to act on"), name, typed="handbook")
    form = page.get_by_test_id("stForm")
    form.get_by_label("Owner").fill("ann@example.com")
    for part, value in (("year", "2026"), ("month", "03"), ("day", "01")):
        form.get_by_role("spinbutton", name=f"{part}, Review by").click()
        page.keyboard.type(value)
    form.get_by_role("button", name="Save").click()
    settle(page)
    expect(page.get_by_test_id("stMain")).to_contain_text(f"{name}: saved.")
    stale = page.get_by_test_id("stMain")
    expect(stale).to_contain_text("Stale documents")

    # ...and the source of the next answer citing it says so.
    go(page, "Chat")
    sources = open_sources(ask(page, SAMPLE_QUESTION))
    expect(sources).to_contain_text("review overdue since 2026-03-01, owner ann@example.com")
    shoot(page, "chat-stale-source.png")

    # A folder synced from the Admin page, with each file's outcome.
    share = SHARES / "handbooks"
    share.mkdir(parents=True, exist_ok=True)
    (share / "canteen.md").write_text("# Canteen\n\nSoup is served on Thursdays.\n")
    (share / "parking.md").write_text("# Parking\n\nVisitors park on level two.\n")
    go(page, "Admin")
    page.get_by_label("Or another folder on the server").fill(str(share))
    page.get_by_label("Or another folder on the server").press("Enter")
    settle(page)
    page.get_by_role("button", name="Sync now").click()
    settle(page, timeout=120_000)
    main = page.get_by_test_id("stMain")
    expect(main).to_contain_text("canteen.md: new (1 chunks)")
    expect(main).to_contain_text("parking.md: new (1 chunks)")
    expect(main).to_contain_text(f"{share}: 2 new")
    (share / "parking.md").unlink()
    page.get_by_role("button", name="Sync now").click()
    settle(page, timeout=120_000)
    expect(main).to_contain_text("parking.md: missing: gone from the folder")
    expect(main).to_contain_text("1 unchanged, 1 missing")
    shoot(page, "admin-sync.png")
    shutil.rmtree(SHARES, ignore_errors=True)
