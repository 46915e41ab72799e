"""Real-browser tests: Playwright driving Debian's Chromium against a live server on 127.0.0.1.

On failure each test saves a screenshot and the page HTML under test-artifacts/ and prints
their paths.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# around it are ordinary synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _browser_missing() -> str | None:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        return f"needs Chromium at {CHROMIUM} (apt-get install chromium; .ci/run installs it)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "needs the playwright package (requirements-dev.txt)"
    return None


@pytest.fixture(scope="session")
def browser():
    reason = _browser_missing()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield browser
        browser.close()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def _failed(request) -> bool:
    report = getattr(request.node, "rep_call", None)
    return bool(report and report.failed)


def _save_artifacts(page, request, suffix: str = "") -> None:
    """The page's screenshot and HTML under test-artifacts/, their paths printed for CI's log."""
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-120:] + suffix
    png, html = ARTIFACTS / f"{name}.png", ARTIFACTS / f"{name}.html"
    try:
        page.screenshot(path=str(png), full_page=True)
        html.write_text(page.content())
        print(f"\nE2E failure artifacts:\n  screenshot: {png}\n  html: {html}")
    except Exception as exc:  # the page may be gone
        print(f"\nE2E failure: could not save artifacts: {exc}")


@pytest.fixture
def page(browser, request, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.console_problems = problems
    yield page
    if _failed(request):
        _save_artifacts(page, request)
    context.close()


@pytest.fixture
def new_context(browser, request, live_server):
    """Opens another browser context (a customer's phone, a second user) on the live server.
    Closed after the test; when the test fails, its pages are saved like ``page``'s."""
    contexts = []

    def open_context(**options):
        options.setdefault("base_url", live_server.url)
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield open_context
    failed = _failed(request)
    for i, context in enumerate(contexts):
        if failed:
            for j, other in enumerate(context.pages):
                _save_artifacts(other, request, f"-context{i}-page{j}")
        context.close()


def log_in(page, email: str, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/dashboard/$"))  # the landing page: the CSM dashboard
