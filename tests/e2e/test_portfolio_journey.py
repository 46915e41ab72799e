"""Journey 1: a CSM logs in, filters and sorts the portfolio, opens an account, reads the health
explanation, logs a touchpoint and sees it on the timeline; the back button restores the list."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Touchpoint
from health.services import health_scores_recompute
from tests.factories import PASSWORD, AccountFactory, ContactFactory, UserFactory

from .conftest import log_in
from .world import restore_defaults

pytestmark = pytest.mark.browser


@pytest.fixture
def portfolio(transactional_db):
    alice = UserFactory(email="alice@staff.example", full_name="Alice Archer", role="csm")
    bob = UserFactory(email="bob@staff.example", role="csm")
    today = timezone.localdate()
    for i, (segment, mrr) in enumerate(
        [("enterprise", 9000), ("enterprise", 4000), ("smb", 300), ("enterprise", 7000)]
    ):
        AccountFactory(
            owner=alice,
            name=f"Alice Co {i}",
            segment=segment,
            mrr=Decimal(mrr),
            renewal_date=today + dt.timedelta(days=20 + i * 40),
            contract_start=today - dt.timedelta(days=300),
        )
    AccountFactory(owner=bob, name="Bob Only Co", segment="enterprise")
    restore_defaults()  # the default scorecard (a browser test flushes the database)
    health_scores_recompute(evaluate_alerts=False)
    return alice


def row_names(page) -> list[str]:
    return page.locator("table.portfolio tbody tr td:first-child strong").all_inner_texts()


def test_csm_filters_sorts_opens_logs_touchpoint_and_goes_back(page, portfolio):
    account = portfolio.owned_accounts.get(name="Alice Co 1")
    ContactFactory(account=account, name="Dana Decider", role="decision_maker")
    log_in(page, portfolio.email, PASSWORD)
    page.get_by_role("link", name="My portfolio").click()
    page.wait_for_url(re.compile(r"/accounts/$"))
    assert "Bob Only Co" not in page.content()
    assert row_names(page) == ["Alice Co 0", "Alice Co 1", "Alice Co 2", "Alice Co 3"]

    # Filter in place: the table changes, the page does not reload, the URL keeps the state.
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Segment").select_option("enterprise")
    page.wait_for_url(re.compile(r"segment=enterprise"))
    page.wait_for_function("document.querySelectorAll('table.portfolio tbody tr').length === 3")
    page.get_by_role("link", name="MRR").click()
    page.wait_for_url(re.compile(r"sort=mrr"))
    page.wait_for_function(
        "document.querySelector('table.portfolio tbody tr strong').innerText === 'Alice Co 1'"
    )
    assert row_names(page) == ["Alice Co 1", "Alice Co 3", "Alice Co 0"]
    page.get_by_role("link", name=re.compile("MRR")).click()  # again: descending
    page.wait_for_url(re.compile(r"sort=-mrr"))
    page.wait_for_function(
        "document.querySelector('table.portfolio tbody tr strong').innerText === 'Alice Co 0'"
    )
    assert page.evaluate("window.__sameDocument") is True  # no full page load happened
    filtered_url = page.url

    page.get_by_role("link", name="Alice Co 1").click()
    page.wait_for_url(re.compile(rf"/accounts/{account.pk}/$"))

    # The health explanation: the score, and the measures whose points add up to it.
    health = page.locator("#health")
    assert health.get_by_role("heading", name="Why this score").is_visible()
    score = int(health.locator(".score-big").inner_text())
    assert score == account.health.score
    points = [
        float(text.replace("−", "-"))
        for text in health.locator("#health-why tbody td.points").all_inner_texts()
    ]
    assert len(points) >= 3
    assert abs(sum(points) - score) <= 0.5 + 0.05 * len(points), (points, score)
    page.get_by_label("Kind").select_option("meeting")
    page.get_by_label("With").select_option(label="Dana Decider (Decision maker)")
    page.get_by_label("Summary").fill("Walked through the renewal; they want SSO.")
    page.get_by_role("button", name="Log touchpoint").click()
    first = page.locator("#timeline li.tl-item").first
    first.wait_for()
    page.wait_for_function("document.querySelector('#timeline li').innerText.includes('SSO')")
    assert "Meeting · Dana Decider" in first.inner_text()
    assert page.get_by_label("Summary").input_value() == ""  # the form is ready for the next one
    assert Touchpoint.objects.filter(account=account, author=portfolio).count() == 1

    page.go_back()
    page.wait_for_url(filtered_url)
    page.wait_for_function("document.querySelectorAll('table.portfolio tbody tr').length === 3")
    assert row_names(page) == ["Alice Co 0", "Alice Co 3", "Alice Co 1"]
    assert page.get_by_label("Segment").input_value() == "enterprise"
    assert not page.console_problems


def test_touchpoint_error_shows_next_to_the_field(page, portfolio):
    account = portfolio.owned_accounts.first()
    log_in(page, portfolio.email, PASSWORD)
    page.goto(f"/accounts/{account.pk}/")
    page.get_by_role("button", name="Log touchpoint").click()
    error = page.locator("#touchpoint-form .field.has-error .error")
    error.wait_for()
    assert "required" in error.inner_text()
    assert not Touchpoint.objects.exists()


def test_portfolio_on_a_phone(page, portfolio):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, portfolio.email, PASSWORD)
    page.goto("/accounts/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page scrolls sideways on a phone ({width}px)"
    assert page.locator("table.portfolio tbody tr").first.is_visible()
