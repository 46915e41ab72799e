"""ARPA, the monthly churn rate from the 12-month logo churn, simple and discounted CLV, and
LTV:CAC for the accounts that record an acquisition cost."""

from decimal import Decimal

import pytest
from django.urls import reverse

from dashboards.periods import period_containing
from dashboards.selectors import Assumptions, Scope, leadership_report

from .conftest import bulk_customers, customer, day, period

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(alice):
    """100 customers at $100 a year before E; 19 of them gone by E (12-month logo churn 19 %)."""
    accounts = bulk_customers(alice, 100, start="2024-12-01", churn_on="2025-06-15", churned=19)
    for account in accounts[50:60]:  # ten record what they cost to win
        account.acquisition_cost = Decimal("2000.00")
        account.save(update_fields=["acquisition_cost"])
    return accounts


def test_arpa_is_mrr_on_E_over_accounts_active_on_E(everyone, book):
    f = leadership_report(scope=everyone, period=period("2025-12-01", "2025-12-31")).current
    assert f.active_end == 81 and f.mrr_end == Decimal("8100.00")
    assert f.arpa == Decimal("100.00")


def test_monthly_churn_rate_from_the_12_month_logo_churn(everyone, book, assumptions):
    report = leadership_report(
        scope=everyone, period=period("2025-12-01", "2025-12-31"), assumptions=assumptions
    )
    f = report.current
    assert report.period.twelve_month_start == day("2025-01-01")  # the 12 months to Dec 31
    assert f.cohort_12m == 100 and f.logo_churn_12m == pytest.approx(0.19)
    rate = 1 - (1 - 0.19) ** (1 / 12)
    assert f.monthly_churn_rate == pytest.approx(rate)
    assert f.monthly_churn_rate == pytest.approx(0.017406, abs=1e-6)


def test_simple_and_discounted_clv(everyone, book, assumptions):
    f = leadership_report(scope=everyone, period=period("2025-12-01", "2025-12-31")).current
    rate = 1 - (1 - 0.19) ** (1 / 12)
    simple = 100 * 0.8 / rate
    r, d = 1 - rate, 0.01
    discounted = 100 * 0.8 * r / (1 + d - r)
    assert f.clv(assumptions) == Decimal(str(round(simple, 2)))
    assert f.discounted_clv(assumptions) == Decimal(str(round(discounted, 2)))
    # the closed form is the sum of the discounted margins month after month
    series = sum(100 * 0.8 * r**t / (1 + d) ** t for t in range(1, 5000))
    assert float(f.discounted_clv(assumptions)) == pytest.approx(series, abs=0.01)
    assert f.discounted_clv(assumptions) < f.clv(assumptions)


def test_ltv_cac_uses_the_accounts_that_record_a_cost(everyone, book, assumptions):
    f = leadership_report(scope=everyone, period=period("2025-12-01", "2025-12-31")).current
    assert f.cac_n == 10 and f.mean_cac == Decimal("2000.00")
    assert f.ltv_cac(assumptions) == pytest.approx(float(f.clv(assumptions)) / 2000)


def test_no_churn_in_12_months_is_no_simple_clv(everyone, alice, assumptions):
    bulk_customers(alice, 3, start="2024-12-01")
    f = leadership_report(scope=everyone, period=period("2025-12-01", "2025-12-31")).current
    assert f.monthly_churn_rate == 0
    assert f.clv(assumptions) is None  # "no data" when the rate is 0, never infinity or 0
    assert f.discounted_clv(assumptions) == Decimal("8000.00")  # ARPA × margin / d
    assert f.clv(Assumptions(gross_margin=0.8, discount_rate=0)) is None
    assert f.discounted_clv(Assumptions(gross_margin=0.8, discount_rate=0)) is None
    assert f.ltv_cac(assumptions) is None


def test_no_acquisition_costs_is_no_ltv_cac(everyone, alice, assumptions):
    customer(alice, [("new", "2024-06-01", 100), ("churn", "2025-03-01")])
    customer(alice, [("new", "2024-06-01", 100)])
    f = leadership_report(scope=everyone, period=period("2025-12-01", "2025-12-31")).current
    assert f.clv(assumptions) is not None
    assert f.mean_cac is None and f.ltv_cac(assumptions) is None


def test_a_manager_can_change_margin_and_discount_rate_per_request(client, carol, book, settings):
    settings.METRICS_GROSS_MARGIN = 0.8
    url = reverse("api:metrics-summary")
    client.force_login(carol)
    base = client.get(url, {"period": "month", "date": "2025-12-01"}).json()
    other = client.get(url, {"period": "month", "date": "2025-12-01", "margin": "40", "discount": "2"}).json()
    assert base["assumptions"] == {"gross_margin": 0.8, "discount_rate": 0.01}
    assert other["assumptions"] == {"gross_margin": 0.4, "discount_rate": 0.02}
    assert Decimal(other["current"]["clv"]) == pytest.approx(
        Decimal(base["current"]["clv"]) / 2, abs=Decimal("0.01")
    )
    bad = client.get(url, {"margin": "150", "discount": "-1"})
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"margin", "discount"}


def test_defaults_come_from_settings(client, carol, book, settings):
    settings.METRICS_GROSS_MARGIN = 0.5
    settings.METRICS_MONTHLY_DISCOUNT_RATE = 0.02
    client.force_login(carol)
    data = client.get(reverse("api:metrics-summary"), {"date": "2025-12-01"}).json()
    assert data["assumptions"] == {"gross_margin": 0.5, "discount_rate": 0.02}
    p = period_containing("month", day("2025-12-01"), day("2026-01-01"))
    f = leadership_report(scope=Scope(user=carol), period=p).current
    assert data["current"]["clv"] == str(f.clv(Assumptions(0.5, 0.02)))
