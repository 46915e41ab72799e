"""The cohort retention table: accounts by signup month, logo and revenue retention over the
months after it."""

from decimal import Decimal

import pytest

from dashboards.selectors import Scope, cohort_retention

from .conftest import customer, day, history

pytestmark = pytest.mark.django_db


def test_logo_and_revenue_retention_by_signup_month(everyone, alice):
    # January 2026 cohort: three accounts active at the end of January.
    a = customer(alice, [("new", "2026-01-05", 100)])
    b = customer(alice, [("new", "2026-01-10", 200)])
    c = customer(alice, [("new", "2026-01-20", 100)])
    customer(alice, [], contract_start=day("2026-01-25"))  # signed, never paid: not in the base
    history(a, [("churn", "2026-02-10")])
    history(b, [("expansion", "2026-03-03", 100)])
    history(c, [("contraction", "2026-04-01", 50)])
    # March 2026 cohort: one account
    customer(alice, [("new", "2026-03-15", 1000)])
    rows = {row.month: row for row in cohort_retention(scope=everyone, today=day("2026-04-15"), months=4)}
    assert [m.isoformat() for m in rows] == ["2026-04-01", "2026-03-01", "2026-02-01", "2026-01-01"]
    jan = rows[day("2026-01-01")]
    assert (jan.signed, jan.base_accounts, jan.base_mrr) == (4, 3, Decimal("400.00"))
    assert [jan.logo(k) for k in range(4)] == [
        1.0,
        pytest.approx(2 / 3),
        pytest.approx(2 / 3),
        pytest.approx(2 / 3),
    ]
    assert [jan.revenue(k) for k in range(4)] == [1.0, 0.75, 1.0, 0.875]  # Apr: to the 15th
    mar = rows[day("2026-03-01")]
    assert (mar.signed, mar.base_accounts) == (1, 1)
    assert mar.logo(0) == 1.0 and mar.logo(1) == 1.0
    assert mar.logo(2) is None and mar.revenue(3) is None  # not reached yet
    feb = rows[day("2026-02-01")]
    assert (feb.signed, feb.base_accounts, feb.logo(0)) == (0, 0, None)  # no base: no data


def test_cohorts_follow_the_scope(alice, bob):
    customer(alice, [("new", "2026-01-05", 100)])
    customer(bob, [("new", "2026-01-05", 100)])
    rows = cohort_retention(scope=Scope(user=alice), today=day("2026-02-15"), months=2)
    assert [row.base_accounts for row in rows] == [0, 1]
