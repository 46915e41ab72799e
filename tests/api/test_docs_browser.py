"""The interactive docs in a real browser (Debian's Chromium via Playwright): Swagger UI loads
from our static files, renders every resource, and breaks no rule of our Content Security Policy."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CS_CHROMIUM", "/usr/bin/chromium")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def chromium():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"needs Chromium at {CHROMIUM} (apt-get install chromium; .ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_swagger_ui_renders_under_our_csp(chromium, live_server):
    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith((live_server.url, "data:")) else None,
    )
    page.goto("/api/docs/")
    page.wait_for_selector(".opblock-tag-section", timeout=15_000)
    text = page.inner_text("#swagger-ui")
    for resource in ("accounts", "contacts", "mrr-movements", "touchpoints", "usage-events"):
        assert resource in text
    page.get_by_text("/api/v1/usage-events/bulk/").first.click()
    page.wait_for_selector("text=Up to 10,000 events per request")
    context.close()
    assert outside == []
    assert [p for p in problems if "Content Security Policy" in p or "Refused" in p] == []
    assert problems == []
