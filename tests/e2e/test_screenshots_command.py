"""``manage.py screenshots --here`` photographs the README's pages from demo data: every picture is
written, as a PNG of the promised size (so a page that stops rendering breaks this test, not
the README)."""

import struct
import threading

import pytest
from django.core.management import call_command
from django.db import connection

from cs_app.celery import app as celery_app

from .conftest import _browser_missing
from .world import restore_defaults

pytestmark = pytest.mark.browser

EXPECTED = {
    "dashboard": (1280, 800),
    "portfolio": (1280, 800),
    "account-360": (1280, 800),
    "account-health": (1280, 800),
    "tasks": (1280, 800),
    "onboarding-board": (1280, 800),
    "onboarding-plan": (1280, 800),
    "survey-campaign": (1280, 800),
    "leadership": (1280, 800),
    "loyalty": (1280, 800),
    "survey-answer-phone": (390, 844),
    "shared-plan-phone": (390, 844),
}


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_screenshots_of_the_demo_data(transactional_db, live_server, tmp_path):
    # live_server: the test database is shared with server threads (the command serves its own).
    reason = _browser_missing()
    if reason:
        pytest.skip(reason)
    restore_defaults()
    call_command("seed_demo", accounts=60, quiet=True, verbosity=0)
    call_command("health_recompute", verbosity=0)
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True  # as the command's own demo database runs its jobs
    failures: list[BaseException] = []

    def run() -> None:
        try:
            call_command("screenshots", here=True, out=str(tmp_path), verbosity=0)
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    # In a thread of its own: the other browser tests' Playwright may be running in this one.
    thread = threading.Thread(target=run)
    try:
        thread.start()
        thread.join(300)
    finally:
        celery_app.conf.task_always_eager = eager
    assert not thread.is_alive()
    if failures:
        raise failures[0]
    written = {path.stem: _png_size(path.read_bytes()) for path in tmp_path.glob("*.png")}
    assert written == EXPECTED
