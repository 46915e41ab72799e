"""Accessibility in Chromium: axe-core (from the axe-playwright-python package) finds no serious or
critical violation on the public pages (survey answer, unsubscribe, shared onboarding plan,
referral form, rewards page, login), on a desktop and on a phone, with and without field errors,
nor on the main pages of a CSM and of a manager. And a touchpoint logged with the keyboard alone.
(A survey answered with the keyboard alone is in test_survey_journey.py.)"""

from __future__ import annotations

import re

import pytest

from accounts.models import Touchpoint
from tests.factories import PASSWORD

from .world import build_world

pytestmark = pytest.mark.browser

BLOCKING = {"serious", "critical"}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def world(transactional_db):
    return build_world()


@pytest.fixture(scope="session")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def violations(axe, page) -> list[str]:
    """Serious and critical axe violations of the page as it is now, one readable line each."""
    found = axe.run(page).response["violations"]
    return [
        f"{page.url}: {v['id']} ({v['impact']}) {v['help']}: "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in found
        if v["impact"] in BLOCKING
    ]


def visit(page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status < 400, f"{url} answered {response and response.status}"
    page.wait_for_load_state("networkidle")


def log_in(page, email: str) -> None:
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/dashboard/$"))


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_public_pages(new_context, world, axe, device):
    context = new_context(**(PHONE if device == "phone" else {}))
    page = context.new_page()
    problems: list[str] = []
    answer = f"/s/{world.invitation.token}/"
    for url in (
        "/login/",
        answer,
        answer + "?lang=tr&score=9",
        answer + "?lang=zh-hant",
        answer + "unsubscribe/",
        f"/onboarding/shared/{world.share_token}/",
        world.referral.get_absolute_url(),
        world.rewards.get_absolute_url(),
    ):
        visit(page, url)
        problems += violations(axe, page)

    # With errors next to the fields.
    visit(page, answer + "?lang=en")
    page.get_by_role("button", name="Send my answer").click()
    page.locator("#form-errors").wait_for()
    problems += violations(axe, page)
    visit(page, world.referral.get_absolute_url())
    page.get_by_role("button", name="Send referral").click()
    page.get_by_text("Please check the fields marked below.").wait_for()
    problems += violations(axe, page)
    visit(page, "/login/")
    page.get_by_label("Email").fill("nobody@staff.example")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")
    problems += violations(axe, page)

    # The friendly page of an unknown link.
    page.goto("/s/no-such-link/")
    problems += violations(axe, page)

    # Unsubscribing, last (it stops the surveys of this address).
    visit(page, answer + "unsubscribe/?lang=en")
    page.get_by_role("button", name="Unsubscribe").click()
    page.get_by_role("heading", name="You are unsubscribed").wait_for()
    problems += violations(axe, page)
    assert problems == []


def test_csm_pages(page, world, axe):
    log_in(page, world.csm.email)
    account = world.account.pk
    problems: list[str] = []
    for url in (
        "/dashboard/",
        "/accounts/",
        "/accounts/?segment=smb&sort=-mrr",
        f"/accounts/{account}/",
        "/tasks/",
        "/onboarding/",
        f"/onboarding/accounts/{account}/",
        "/feedback/",
        f"/feedback/campaigns/{world.campaign.pk}/",
        "/feedback/campaigns/new/",
        "/feedback/follow-ups/",
        "/loyalty/",
        f"/loyalty/accounts/{account}/",
        "/loyalty/rewards/",
        "/loyalty/referrals/",
        "/me/",
    ):
        visit(page, url)
        problems += violations(axe, page)
    # A form with its errors shown.
    visit(page, f"/accounts/{account}/")
    page.get_by_role("button", name="Log touchpoint").click()
    page.locator("#touchpoint-form .field.has-error").first.wait_for()
    problems += violations(axe, page)
    assert problems == []
    assert page.console_problems == []


def test_manager_pages(page, world, axe):
    log_in(page, world.manager.email)
    problems: list[str] = []
    for url in (
        "/dashboard/leadership/",
        "/dashboard/leadership/cohorts/",
        "/dashboard/renewals/",
        "/accounts/",
        "/feedback/analysis/",
        "/loyalty/redemptions/",
        "/health/backtest/",
    ):
        visit(page, url)
        problems += violations(axe, page)
    page.set_viewport_size({"width": 390, "height": 844})  # tables that scroll sideways on a phone
    for url in ("/dashboard/leadership/", "/accounts/", "/tasks/"):
        visit(page, url)
        problems += violations(axe, page)
    assert problems == []
    assert page.console_problems == []


def _tab_until(page, condition: str, limit: int = 80) -> None:
    """Press Tab until ``condition`` (a JavaScript expression on ``el``, the focused element) holds."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return !!({condition}); }})()"):
            return
    raise AssertionError(f"never reached with Tab: {condition}")


def test_log_a_touchpoint_with_the_keyboard_alone(page, world):
    page.goto("/login/")
    _tab_until(page, "el.name === 'username'")
    page.keyboard.type(world.csm.email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/dashboard/$"))

    # The skip link comes first and moves the focus past the navigation.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('skip-link')")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    # To the portfolio through the navigation, then the account, by keyboard.
    _tab_until(page, "el.textContent.trim() === 'My portfolio'")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/accounts/$"))
    # Sorting in place keeps the focus on the column's link.
    _tab_until(page, "el.tagName === 'A' && el.textContent.trim() === 'MRR'")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"sort=mrr"))
    page.wait_for_function("() => document.activeElement.textContent.trim().startsWith('MRR')")
    assert page.evaluate("document.activeElement.closest('th').getAttribute('aria-sort')") == "ascending"
    _tab_until(page, f"el.textContent.trim() === {world.account.name!r}")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/accounts/{world.account.pk}/$"))

    _tab_until(page, "el.name === 'kind' && el.closest('#touchpoint-form')")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("ArrowDown")  # call -> the next kind
    kind = page.evaluate("document.activeElement.value")
    assert kind != "call"
    _tab_until(page, "el.name === 'contact'")
    page.keyboard.press("ArrowDown")  # the first contact
    # Sent without a summary: the error is shown and the focus lands on the field to fix.
    _tab_until(page, "el.type === 'submit' && el.closest('#touchpoint-form')")
    page.keyboard.press("Enter")
    page.locator("#touchpoint-form .has-error").wait_for()
    page.wait_for_function("() => document.activeElement.name === 'summary'")
    page.keyboard.type("Agreed the rollout plan; training next week.")
    _tab_until(page, "el.type === 'submit' && el.closest('#touchpoint-form')")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#timeline li')?.innerText.includes('rollout plan')")
    touchpoint = Touchpoint.objects.get(author=world.csm)
    assert (touchpoint.kind, touchpoint.contact.name, touchpoint.summary) == (
        kind,
        "Ayşe Demir",  # the first in the list, by name
        "Agreed the rollout plan; training next week.",
    )
    # The focus is not lost after the in-place update: it is back at the start of the empty form.
    page.wait_for_function("() => document.activeElement.name === 'kind'")
    assert page.evaluate("!!document.activeElement.closest('#touchpoint-form')")
