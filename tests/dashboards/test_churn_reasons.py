"""Why accounts churned: churn movements in the period by the account's churn reason."""

from decimal import Decimal

import pytest

from dashboards.periods import custom
from dashboards.selectors import churn_reasons

from .conftest import customer, day, history

pytestmark = pytest.mark.django_db


def test_reasons_with_accounts_and_mrr_lost(everyone, alice):
    customer(alice, [("new", "2025-06-01", 100), ("churn", "2026-01-05", None, {"churn_reason": "price"})])
    customer(alice, [("new", "2025-06-01", 300), ("churn", "2026-01-15", None, {"churn_reason": "price"})])
    customer(
        alice, [("new", "2025-06-01", 50), ("churn", "2026-01-20", None, {"churn_reason": "competitor"})]
    )
    customer(alice, [("new", "2025-06-01", 70), ("churn", "2025-12-20", None, {"churn_reason": "budget"})])
    back = customer(
        alice, [("new", "2025-06-01", 80), ("churn", "2026-01-07", None, {"churn_reason": "budget"})]
    )
    history(back, [("reactivation", "2026-01-25", 80)])  # came back: no reason any more
    current = custom(day("2026-01-01"), day("2026-01-31"))
    rows = churn_reasons(scope=everyone, period=current, previous=current.previous())
    found = {r.reason: (r.accounts, r.mrr, r.previous_accounts) for r in rows}
    assert found == {
        "price": (2, Decimal("400.00"), 0),
        "competitor": (1, Decimal("50.00"), 0),
        "budget": (0, Decimal("0.00"), 1),
        "": (1, Decimal("80.00"), 0),
    }
    assert rows[0].reason == "price"
    assert sum(r.mrr for r in rows) == Decimal("530.00")  # = the waterfall's churned MRR
