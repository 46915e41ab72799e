"""Renewals in the next 30, 60 and 90 days with health and MRR at risk, and the accounts."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboards.selectors import Scope, renewal_windows
from health.models import AccountHealth

from .conftest import customer
from .pages import tables

pytestmark = pytest.mark.django_db


@pytest.fixture
def renewing(alice, bob):
    today = timezone.localdate()
    for name, owner, days, mrr, grade in [
        ("Today Co", alice, 0, 100, "red"),
        ("Month Co", bob, 30, 200, "yellow"),
        ("Sixty Co", alice, 31, 400, "green"),
        ("Ninety Co", bob, 90, 800, "red"),
        ("Later Co", alice, 91, 1600, "red"),
        ("Past Co", alice, -1, 3200, "red"),
    ]:
        account = customer(
            owner, [("new", "2025-01-10", mrr)], name=name, renewal_date=today + dt.timedelta(days)
        )
        AccountHealth.objects.create(account=account, grade=grade, score=40)
    churned = customer(
        alice,
        [("new", "2025-01-10", 50), ("churn", "2025-05-01")],
        name="Churned Co",
        renewal_date=today + dt.timedelta(5),
    )
    AccountHealth.objects.create(account=churned, grade="red", score=1)


def test_windows_with_mrr_at_risk(carol, renewing):
    windows = {w.days: w for w in renewal_windows(scope=Scope(user=carol))}
    assert (windows[30].accounts, windows[30].mrr, windows[30].mrr_at_risk) == (
        2,
        Decimal("300.00"),
        Decimal("300.00"),
    )
    assert (windows[60].accounts, windows[60].mrr_at_risk) == (3, Decimal("300.00"))
    assert (windows[90].accounts, windows[90].mrr, windows[90].mrr_at_risk) == (
        4,
        Decimal("1500.00"),
        Decimal("1100.00"),
    )
    assert windows[90].by_grade == {"red": 2, "yellow": 1, "green": 1}


def test_the_renewals_page_lists_the_window_soonest_first(client, carol, renewing):
    client.force_login(carol)
    html = client.get(reverse("dashboards:renewals"), {"within": "60"}).content.decode()
    names = [cells[0]["text"] for cells in tables(html)["renewing-accounts"]["rows"]]
    assert names == ["Today Co", "Month Co", "Sixty Co"]
    html = client.get(reverse("dashboards:renewals"), {"tier": "gold"}).content.decode()
    assert "No account renews in this window." in html


def test_bad_window_falls_back_to_90_days(client, carol, renewing):
    client.force_login(carol)
    html = client.get(reverse("dashboards:renewals"), {"within": "7"}).content.decode()
    assert len(tables(html)["renewing-accounts"]["rows"]) == 4
