"""Net revenue churn, NRR, GRR (min per account) and gross revenue churn, in the reporting
currency."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import ExchangeRate
from dashboards.selectors import leadership_report

from .conftest import customer, history, period

pytestmark = pytest.mark.django_db


def five_customers(alice, mrr=55_000):
    return [customer(alice, [("new", "2025-10-01", mrr)], name=f"Big {i}") for i in range(5)]


def test_worked_example_275000_up_to_305000_is_minus_10_9_percent(everyone, alice):
    accounts = five_customers(alice)  # 5 × 55,000 = 275,000
    history(accounts[0], [("expansion", "2026-01-10", 20_000)])
    history(accounts[1], [("expansion", "2026-01-20", 10_000)])
    f = leadership_report(scope=everyone, period=period("2026-01-01", "2026-01-31")).current
    assert f.cohort_mrr_start == Decimal("275000.00")
    assert f.cohort_mrr_end == Decimal("305000.00")
    assert f.net_revenue_churn == pytest.approx(-30_000 / 275_000)
    assert round(f.net_revenue_churn * 100, 1) == -10.9
    assert f.nrr == pytest.approx(305_000 / 275_000)
    assert f.grr == pytest.approx(1.0)  # expansion never counts in GRR
    assert f.gross_revenue_churn == pytest.approx(0.0)


def test_grr_takes_the_smaller_of_S_and_E_for_each_account(everyone, alice):
    a, b, c, d = (customer(alice, [("new", "2025-10-01", 1000)], name=f"Acc {i}") for i in range(4))
    history(a, [("expansion", "2026-01-05", 500)])  # 1,500: counts 1,000
    history(b, [("contraction", "2026-01-05", 400)])  # 600
    history(c, [("churn", "2026-01-06")])  # 0
    history(d, [("contraction", "2026-01-05", 300), ("expansion", "2026-01-25", 800)])  # 1,500: 1,000
    f = leadership_report(scope=everyone, period=period("2026-01-01", "2026-01-31")).current
    assert f.grr_mrr == Decimal("2600.00")
    assert f.grr == pytest.approx(2600 / 4000)
    assert f.gross_revenue_churn == pytest.approx(1 - 2600 / 4000)
    assert f.nrr == pytest.approx((1500 + 600 + 0 + 1500) / 4000)
    assert f.net_revenue_churn == pytest.approx((4000 - 3600) / 4000)


def test_new_accounts_revenue_is_not_in_the_cohorts_revenue(everyone, alice):
    customer(alice, [("new", "2025-10-01", 1000)])
    customer(alice, [("new", "2026-01-15", 9000)])  # won in the period
    f = leadership_report(scope=everyone, period=period("2026-01-01", "2026-01-31")).current
    assert f.nrr == pytest.approx(1.0)
    assert f.mrr_end == Decimal("10000.00")


def test_a_movement_in_another_currency_counts_at_its_recorded_conversion(everyone, alice):
    ExchangeRate.objects.create(currency="EUR", valid_from=dt.date(2025, 1, 1), rate=Decimal("1.10"))
    euro = customer(alice, [("new", "2025-10-01", 1000)], currency="EUR", name="Euro GmbH")
    customer(alice, [("new", "2025-10-01", 900)], name="Dollar Inc")
    ExchangeRate.objects.create(currency="EUR", valid_from=dt.date(2026, 1, 1), rate=Decimal("1.20"))
    history(euro, [("contraction", "2026-01-10", 500)])  # € 500 at 1.20 = $600
    f = leadership_report(scope=everyone, period=period("2026-01-01", "2026-01-31")).current
    assert f.cohort_mrr_start == Decimal("2000.00")  # $1,100 + $900
    assert f.movements["contraction"] == Decimal("-600.00")
    assert f.mrr_end == Decimal("1400.00")
    assert f.grr == pytest.approx(1400 / 2000)


def test_cents_add_up_exactly(everyone, alice):
    """SQLite adds decimals as floats: 0.10 + 0.20 − 0.30 must still be an account at zero."""
    account = customer(alice, [("new", "2025-10-01", "0.10")])
    history(account, [("expansion", "2025-11-01", "0.20"), ("churn", "2026-01-10")])
    customer(alice, [("new", "2025-10-01", "0.30")])
    f = leadership_report(scope=everyone, period=period("2026-01-01", "2026-01-31")).current
    assert (f.cohort, f.lost) == (2, 1)
    assert f.cohort_mrr_start == Decimal("0.60") and f.mrr_end == Decimal("0.30")
