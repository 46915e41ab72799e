"""The MRR waterfall: MRR on S plus the movements after S up to E, by kind, is MRR on E."""

from decimal import Decimal

import pytest

from dashboards.selectors import leadership_report

from .conftest import customer, history, period

pytestmark = pytest.mark.django_db


def test_waterfall_by_kind_adds_up_to_mrr_on_E(everyone, alice):
    a = customer(alice, [("new", "2025-10-01", 1000)])
    b = customer(alice, [("new", "2025-10-01", 2000)])
    c = customer(alice, [("new", "2025-10-01", 500), ("churn", "2025-11-15")])  # out before S
    history(a, [("expansion", "2026-01-03", 250), ("contraction", "2026-01-20", 100)])
    history(b, [("churn", "2026-01-08")])
    history(c, [("reactivation", "2026-01-12", 700)])
    customer(alice, [("new", "2026-01-25", 400)])
    customer(alice, [("new", "2026-02-02", 999)])  # after E: not in it
    f = leadership_report(scope=everyone, period=period("2026-01-01", "2026-01-31")).current
    steps = {key: (amount, n) for key, _label, amount, n in f.waterfall()}
    assert steps == {
        "start": (Decimal("3000.00"), 2),
        "new": (Decimal("400.00"), 1),
        "expansion": (Decimal("250.00"), 1),
        "contraction": (Decimal("-100.00"), 1),
        "churn": (Decimal("-2000.00"), 1),
        "reactivation": (Decimal("700.00"), 1),
        "end": (Decimal("2250.00"), 3),
    }
    assert f.waterfall_adds_up
    assert sum(amount for key, (amount, _n) in steps.items() if key != "end") == steps["end"][0]


def test_a_movement_on_S_is_in_the_start_not_in_the_steps(everyone, alice):
    a = customer(alice, [("new", "2025-10-01", 1000)])
    history(a, [("expansion", "2026-01-01", 100)])
    f = leadership_report(scope=everyone, period=period("2026-01-01", "2026-01-31")).current
    assert f.cohort_mrr_start == Decimal("1100.00")
    assert f.movements["expansion"] == 0


def test_no_revenue_history_is_no_waterfall(everyone, alice):
    f = leadership_report(scope=everyone, period=period("2026-01-01", "2026-01-31")).current
    assert f.waterfall() == []
    assert f.mrr_start is None and f.mrr_end_or_none is None and f.active_end_or_none is None
