"""Logo churn: cohort accounts not active on E / the cohort (accounts active on S)."""

import pytest

from accounts.models import MrrMovement
from dashboards.selectors import leadership_report

from .conftest import bulk_customers, customer, period

pytestmark = pytest.mark.django_db


def test_worked_example_1000_customers_down_to_900_is_10_percent(everyone, alice):
    bulk_customers(alice, 1000, start="2025-11-01", churn_on="2026-01-15", churned=100)
    report = leadership_report(scope=everyone, period=period("2026-01-01", "2026-01-30"))
    f = report.current
    assert (f.cohort, f.retained, f.lost) == (1000, 900, 100)
    assert f.logo_churn == pytest.approx(0.10, abs=1e-12)
    assert f.active_end == 900


def test_accounts_won_during_the_period_do_not_dilute_it(everyone, alice):
    bulk_customers(alice, 10, start="2025-11-01", churn_on="2026-01-15", churned=1)
    bulk_customers(alice, 5, start="2026-01-10", prefix="New")  # won mid-period
    f = leadership_report(scope=everyone, period=period("2026-01-01", "2026-01-31")).current
    assert f.cohort == 10
    assert f.logo_churn == pytest.approx(0.10)  # 1 of 10, not 1 of 15
    assert f.active_end == 14
    assert f.movement_accounts["new"] == 5


def test_an_account_that_churned_and_came_back_before_E_is_not_lost(everyone, alice):
    customer(alice, [("new", "2025-06-01", 500)])
    customer(
        alice,
        [("new", "2025-06-01", 300), ("churn", "2026-01-05"), ("reactivation", "2026-01-20", 200)],
    )
    f = leadership_report(scope=everyone, period=period("2026-01-01", "2026-01-31")).current
    assert (f.cohort, f.lost, f.logo_churn) == (2, 0, 0.0)
    # ...but its revenue history still shows both moves, and the net change
    assert f.movements["churn"] == -300 and f.movements["reactivation"] == 200
    assert f.net_revenue_churn == pytest.approx(100 / 800)


def test_churn_and_reactivation_after_E_or_before_S_do_not_count(everyone, alice):
    customer(alice, [("new", "2025-06-01", 100), ("churn", "2025-12-20")])  # gone before S
    customer(alice, [("new", "2025-06-01", 100), ("churn", "2026-02-03")])  # gone after E
    f = leadership_report(scope=everyone, period=period("2026-01-01", "2026-01-31")).current
    assert (f.cohort, f.lost) == (1, 0)


def test_a_contraction_all_the_way_to_zero_counts_as_lost(everyone, alice):
    """The services record that as a churn; a row written straight to the table (an old
    import) may still say contraction. Either way the account is no longer active."""
    account = customer(alice, [("new", "2025-06-01", 250)])
    MrrMovement.objects.create(
        account=account,
        kind="contraction",
        date="2026-01-12",
        amount=-250,
        original_amount=250,
        original_currency="USD",
    )
    customer(alice, [("new", "2025-06-01", 250)])
    f = leadership_report(scope=everyone, period=period("2026-01-01", "2026-01-31")).current
    assert (f.cohort, f.lost, f.logo_churn) == (2, 1, 0.5)
    assert f.movements["contraction"] == -250 and f.movements["churn"] == 0


def test_a_movement_on_S_is_part_of_the_starting_state(everyone, alice):
    customer(alice, [("new", "2026-01-01", 100)])  # a customer from S on: in the cohort
    customer(alice, [("new", "2026-01-02", 100)])  # won after S: new, not in the cohort
    f = leadership_report(scope=everyone, period=period("2026-01-01", "2026-01-31")).current
    assert f.cohort == 1 and f.movements["new"] == 100


def test_no_cohort_is_no_data_not_zero(everyone, alice):
    customer(alice, [("new", "2026-01-10", 100)])
    f = leadership_report(scope=everyone, period=period("2026-01-01", "2026-01-31")).current
    assert f.cohort == 0
    assert f.logo_churn is None and f.nrr is None and f.grr is None and f.net_revenue_churn is None
    assert f.active_end == 1  # the new account is there, and counted


def test_previous_period_is_the_same_kind_just_before(everyone, alice):
    bulk_customers(alice, 4, start="2025-11-01", churn_on="2025-12-10", churned=1)
    report = leadership_report(scope=everyone, period=period("2026-01-01", "2026-01-31"))
    assert (report.previous_period.start.isoformat(), report.previous_period.end.isoformat()) == (
        "2025-12-01",
        "2025-12-31",
    )
    assert report.previous.logo_churn == pytest.approx(0.25)
    assert report.current.logo_churn == 0.0
