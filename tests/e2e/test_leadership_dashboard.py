"""Journey 7: a manager reads the leadership dashboard (charts drawn by the self-hosted chart
library under the strict Content Security Policy, each with its table), narrows it to a
segment (the filters stay in the URL), and exports a table as CSV."""

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.services import mrr_movement_record
from dashboards.periods import last_complete
from tests.factories import PASSWORD, AccountFactory, UserFactory

from .conftest import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def book(transactional_db):
    carol = UserFactory(email="carol@staff.example", full_name="Carol Chen", role="manager")
    alice = UserFactory(email="alice@staff.example", full_name="Alice Archer", role="csm")
    month = last_complete("month", timezone.localdate())  # the page's default period
    before = month.start - dt.timedelta(days=90)
    for i, (segment, mrr) in enumerate(
        [("enterprise", 5000), ("enterprise", 3000), ("smb", 400), ("smb", 300)]
    ):
        account = AccountFactory(
            owner=alice, name=f"Customer {i}", segment=segment, contract_start=before, renewal_date=None
        )
        mrr_movement_record(account=account, kind="new", date=before, amount=Decimal(mrr))
        if i == 1:
            mrr_movement_record(
                account=account,
                kind="churn",
                date=month.start + dt.timedelta(days=9),
                churn_reason="competitor",
            )
        if i == 0:
            mrr_movement_record(
                account=account,
                kind="expansion",
                date=month.start + dt.timedelta(days=3),
                amount=Decimal(1000),
            )
    return carol, month


def test_manager_reads_the_leadership_dashboard_and_exports_a_table(page, book):
    carol, month = book
    log_in(page, carol.email, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Leadership").click()
    page.wait_for_url(re.compile(r"/dashboard/leadership/$"))
    assert page.locator("#period-label").inner_text() == month.label

    # Headline figures: 1 of 4 accounts lost; cohort MRR 8,700 → 6,700.
    assert page.locator("#kpi-logo_churn .kpi-value").inner_text() == "25.0%"
    assert page.locator("#kpi-nrr .kpi-value").inner_text() == "77.0%"
    assert page.locator("#kpi-mrr_end .kpi-value").inner_text() == "$6,700.00"
    assert page.locator("#kpi-nps .kpi-value").inner_text() == "no data"

    # Charts are drawn from their tables by the npm-installed library, under the strict CSP.
    for table in ("waterfall", "trend", "breakdown", "churn-reasons"):
        page.locator(f'figure[data-chart-for="{table}"][data-drawn="true"] canvas').wait_for()
        assert page.locator(f"table#{table} tbody tr").count() > 0
    canvas = page.locator('figure[data-chart-for="waterfall"] canvas')
    assert canvas.bounding_box()["height"] > 100
    assert page.evaluate("typeof window.Chart") == "function"
    waterfall = page.locator("table#waterfall tbody tr").all_inner_texts()
    assert waterfall[0].split("\t")[:2] == ["MRR on the first day", "$8,700.00"]
    assert page.console_problems == []

    # A slice: the URL keeps it, so the view can be shared.
    page.locator("select#id_segment").select_option("enterprise")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"segment=enterprise"))
    assert page.locator("#kpi-logo_churn .kpi-value").inner_text() == "50.0%"
    shared = page.url
    page.goto(shared)
    assert page.locator("#kpi-logo_churn .kpi-value").inner_text() == "50.0%"

    # Export the waterfall of the slice as CSV.
    with page.expect_download() as download_info:
        page.locator('a[data-export="waterfall"]').click()
    download = download_info.value
    assert download.suggested_filename.startswith("leadership-") and download.suggested_filename.endswith(
        "-waterfall.csv"
    )
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rows[0] == ["Step", "MRR", "Accounts"]
    assert rows[1] == ["MRR on the first day", "8000.00", "2"]
    assert rows[5] == ["Churned", "-3000.00", "1"]
    assert rows[-1] == ["MRR on the last day", "6000.00", "1"]
    assert page.console_problems == []


def test_leadership_dashboard_on_a_phone(page, book):
    carol, _month = book
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, carol.email, PASSWORD)
    for url in (
        "/dashboard/",
        "/dashboard/leadership/",
        "/dashboard/leadership/cohorts/",
        "/dashboard/renewals/",
    ):
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{url} scrolls sideways on a phone ({width}px)"
    assert page.console_problems == []
