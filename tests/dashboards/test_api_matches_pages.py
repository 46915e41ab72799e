"""The metrics API shows the same numbers as the pages, for the same period and slice."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from health.models import HealthSnapshot, ScorecardVersion

from .conftest import customer, history
from .pages import row, tables

pytestmark = pytest.mark.django_db

PARAMS = {"period": "quarter", "date": "2026-02-10", "segment": "enterprise", "by": "tier"}


@pytest.fixture
def book(alice, bob):
    a = customer(
        alice, [("new", "2025-06-01", 1000)], segment="enterprise", tier="gold", acquisition_cost=5000
    )
    b = customer(bob, [("new", "2025-08-01", 2500)], segment="enterprise", tier="silver")
    customer(bob, [("new", "2025-02-01", 400), ("churn", "2025-07-01")], segment="enterprise")
    customer(bob, [("new", "2025-08-01", 9999)], segment="smb")  # another slice
    history(a, [("expansion", "2026-02-01", 500)])
    history(b, [("churn", "2026-03-01")])
    customer(alice, [("new", "2026-01-20", 300)], segment="enterprise", tier="gold")
    version = ScorecardVersion.objects.create(digest="t", config={})
    HealthSnapshot.objects.create(
        account=a, day=dt.date(2026, 1, 1), grade="green", score=90, card_version=version
    )
    HealthSnapshot.objects.create(
        account=a, day=dt.date(2026, 3, 31), grade="yellow", score=50, card_version=version
    )


def close(page_value: str, api_value, kind: str):
    if api_value is None:
        return page_value in (None, "")
    number = float(page_value)
    if kind == "pct":
        return number == pytest.approx(float(api_value) * 100, abs=1e-4)
    return number == pytest.approx(float(api_value), abs=1e-4)


def test_summary_figures_equal_the_page(client, carol, book):
    client.force_login(carol)
    page = tables(client.get(reverse("dashboards:leadership"), PARAMS).content.decode())
    data = client.get(reverse("api:metrics-summary"), PARAMS).json()
    assert data["period"] == {
        "kind": "quarter",
        "start": "2026-01-01",
        "end": "2026-03-31",
        "label": "Q1 2026",
        "to_date": False,
    }
    from dashboards.presenters import figure_defs

    checked = 0
    for d in figure_defs():
        for table_id in [t for t in page if t.startswith("figures-")]:
            try:
                cells = row(page[table_id], str(d.label))
            except KeyError:
                continue
            kind = "pct" if d.kind in ("pct", "pct2") else d.kind
            assert close(cells[1]["value"], data["current"][d.key], kind), (
                d.key,
                cells[1],
                data["current"][d.key],
            )
            assert close(cells[2]["value"], data["previous"][d.key], kind), (
                d.key,
                cells[2],
                data["previous"][d.key],
            )
            checked += 1
    assert checked == len(figure_defs())
    assert data["current"]["logo_churn"] == 0.5  # a and b in the cohort, b lost
    assert data["current"]["mrr_end"] == "1800.00"


def test_waterfall_breakdown_health_and_reasons_equal_the_page(client, carol, book):
    client.force_login(carol)
    page = tables(client.get(reverse("dashboards:leadership"), PARAMS).content.decode())
    summary = client.get(reverse("api:metrics-summary"), PARAMS).json()
    for step, cells in zip(summary["waterfall"], page["waterfall"]["rows"], strict=True):
        assert Decimal(cells[1]["value"]) == Decimal(step["amount"])
        assert int(cells[2]["value"]) == step["accounts"]
    breakdown = client.get(reverse("api:metrics-breakdown"), PARAMS).json()
    assert breakdown["by"] == "tier"
    page_slices = {cells[0]["text"]: cells for cells in page["breakdown"]["rows"]}
    assert set(page_slices) == {s["label"] for s in breakdown["slices"]}
    for s in breakdown["slices"]:
        cells = page_slices[s["label"]]
        assert close(cells[3]["value"], s["figures"]["logo_churn"], "pct")
        assert close(cells[8]["value"], s["figures"]["mrr_end"], "money")
    health = client.get(reverse("api:metrics-health"), PARAMS).json()
    assert health["grades_end"] == {"yellow": 1}
    assert int(row(page["grades"], "Yellow")[2]["value"]) == 1
    reasons = client.get(reverse("api:metrics-churn-reasons"), PARAMS).json()["reasons"]
    assert [(r["label"], r["accounts"], r["mrr"]) for r in reasons] == [("Price", 1, "2500.00")]
    assert row(page["churn-reasons"], "Price")[2]["value"] == "2500.00"


def test_trend_cohorts_and_renewals_equal_their_pages(client, carol, book):
    client.force_login(carol)
    page = tables(client.get(reverse("dashboards:leadership"), PARAMS).content.decode())
    trend = client.get(reverse("api:metrics-trend"), PARAMS).json()["months"]
    assert [m["month"] for m in trend][-1] == "2026-03" and len(trend) == 12
    for month, cells in zip(trend, page["trend"]["rows"], strict=True):
        assert close(cells[1]["value"], month["mrr_end"], "money")
        assert close(cells[3]["value"], month["logo_churn"], "pct")
    cohort_page = tables(
        client.get(reverse("dashboards:cohorts"), {"segment": "enterprise"}).content.decode()
    )
    cohorts = client.get(reverse("api:metrics-cohorts"), {"segment": "enterprise"}).json()["cohorts"]
    for cohort, cells in zip(cohorts, cohort_page["cohort-logo"]["rows"], strict=True):
        assert int(cells[2]["value"]) == cohort["base_accounts"]
        for k, value in enumerate(cohort["logo"]):
            assert close(cells[3 + k]["value"], value, "pct")
    renewals = client.get(reverse("api:metrics-renewals")).json()["windows"]
    renewal_page = tables(client.get(reverse("dashboards:renewals")).content.decode())
    for window, cells in zip(renewals, renewal_page["renewals"]["rows"], strict=True):
        assert int(cells[1]["value"]) == window["accounts"]
        assert Decimal(cells[4]["value"]) == Decimal(window["mrr_at_risk"])


def test_bad_parameters_are_a_400_with_field_errors(client, carol):
    client.force_login(carol)
    response = client.get(
        reverse("api:metrics-summary"),
        {"period": "week", "date": "2026-13-01", "cohort": "01/2026", "segment": "huge", "by": "colour"},
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"period", "date", "cohort", "segment", "by"}
    response = client.get(
        reverse("api:metrics-summary"), {"period": "custom", "start": "2026-02-01", "end": "2026-01-01"}
    )
    assert response.status_code == 400 and "end" in response.json()["errors"]
    future = (dt.date.today() + dt.timedelta(days=40)).isoformat()
    response = client.get(reverse("api:metrics-summary"), {"date": future})
    assert response.status_code == 400 and "date" in response.json()["errors"]


def test_the_index_lists_every_metrics_endpoint(client, alice):
    client.force_login(alice)
    data = client.get(reverse("api:metrics-index")).json()
    assert set(data) == {
        "summary",
        "breakdown",
        "trend",
        "health",
        "churn_reasons",
        "cohorts",
        "renewals",
        "portfolio",
    }
    assert data["summary"].endswith("/api/v1/metrics/summary/")
