"""Every figure by segment, tier, plan, owner and signup cohort; a slice filter narrows every
figure to it; the slices add up to the whole."""

from decimal import Decimal

import pytest

from dashboards.selectors import Scope, dimensions, leadership_report

from .conftest import customer, day, period

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(alice, bob):
    customer(alice, [("new", "2025-03-10", 1000)], segment="enterprise", tier="gold", plan="Scale")
    customer(
        alice,
        [("new", "2025-03-20", 500), ("churn", "2026-01-10")],
        segment="enterprise",
        tier="silver",
        plan="Scale",
    )
    customer(bob, [("new", "2025-07-01", 100)], segment="smb", tier="bronze", plan="Starter")
    customer(
        bob, [("new", "2025-07-02", 100), ("churn", "2026-01-20")], segment="smb", tier="bronze", plan=""
    )
    customer(bob, [("new", "2026-01-15", 300)], segment="mid_market", tier="gold", plan="Starter")


JANUARY = ("2026-01-01", "2026-01-31")


def slices(everyone, by):
    report = leadership_report(scope=everyone, period=period(*JANUARY), dimension=dimensions()[by])
    return report, {s.key: s for s in report.slices}


def test_by_segment(everyone, book):
    _report, found = slices(everyone, "segment")
    assert set(found) == {"enterprise", "smb", "mid_market"}
    assert (found["enterprise"].figures.cohort, found["enterprise"].figures.logo_churn) == (2, 0.5)
    assert found["enterprise"].figures.nrr == pytest.approx(1000 / 1500)
    assert (found["smb"].figures.cohort, found["smb"].figures.lost) == (2, 1)
    assert found["mid_market"].figures.cohort == 0 and found["mid_market"].figures.logo_churn is None
    assert found["mid_market"].figures.movements["new"] == Decimal("300.00")
    assert found["enterprise"].label == "Enterprise"


def test_by_tier_plan_owner_and_cohort(everyone, book, alice, bob):
    _report, tiers = slices(everyone, "tier")
    assert {k: s.figures.cohort for k, s in tiers.items()} == {"gold": 1, "silver": 1, "bronze": 2}
    _report, plans = slices(everyone, "plan")
    assert {k: s.figures.lost for k, s in plans.items()} == {"Scale": 1, "Starter": 0, "": 1}
    assert plans[""].label == "No plan"
    _report, owners = slices(everyone, "owner")
    assert {k: s.figures.mrr_end for k, s in owners.items()} == {
        alice.pk: Decimal("1000.00"),
        bob.pk: Decimal("400.00"),
    }
    assert owners[alice.pk].label == "Alice Archer"
    _report, cohorts = slices(everyone, "cohort")
    by_month = {s.param: s.figures.cohort for s in cohorts.values()}
    assert by_month == {"2025-03": 2, "2025-07": 2, "2026-01": 0}


def test_slices_add_up_to_the_total(everyone, book):
    for by in dimensions():
        report, found = slices(everyone, by)
        total = report.current
        assert sum(s.figures.cohort for s in found.values()) == total.cohort
        assert sum(s.figures.mrr_end for s in found.values()) == total.mrr_end
        assert sum(s.figures.lost for s in found.values()) == total.lost


@pytest.mark.parametrize(
    ("filters", "cohort", "lost"),
    [
        ({"segment": "enterprise"}, 2, 1),
        ({"tier": "bronze"}, 2, 1),
        ({"plan": "Scale"}, 2, 1),
        ({"cohort": day("2025-07-01")}, 2, 1),
        ({"segment": "smb", "plan": "Starter"}, 1, 0),
    ],
)
def test_a_slice_filter_narrows_every_figure(carol, book, filters, cohort, lost):
    f = leadership_report(scope=Scope(user=carol, **filters), period=period(*JANUARY)).current
    assert (f.cohort, f.lost) == (cohort, lost)


def test_owner_filter(carol, bob, book):
    f = leadership_report(scope=Scope(user=carol, owner_id=bob.pk), period=period(*JANUARY)).current
    assert (f.cohort, f.lost, f.active_end) == (2, 1, 2)
