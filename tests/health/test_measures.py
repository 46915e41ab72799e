"""Each measure: its score at and beyond its thresholds, and its raw value computed set-based
from accounts, contacts, usage, touchpoints, MRR movements and tasks."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import UsageEvent
from accounts.services import mrr_movement_record
from health import registry
from health.models import Measure, Task
from health.registry import MEASURES
from health.scoring import measure_score
from health.selectors import missing_sources, scores_compute
from tests.factories import AccountFactory, ContactFactory

from .conftest import default_card


@pytest.mark.parametrize("key", list(MEASURES))
def test_default_thresholds_score_0_at_zero_at_100_at_full_at_linear_between(key):
    spec = MEASURES[key]
    low, high = spec.zero_at, spec.full_at
    span = high - low
    assert measure_score(low, low, high) == 0
    assert measure_score(high, low, high) == 100
    assert measure_score(low + span / 2, low, high) == pytest.approx(50)
    assert measure_score(low + span / 4, low, high) == pytest.approx(25)
    # beyond the thresholds the score stays at 0 or 100
    assert measure_score(low - span, low, high) == 0
    assert measure_score(high + span, low, high) == 100


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(3, 100), (2, 100), (0, 100), (30, 0), (45, 0), (16.5, 50), (4, pytest.approx(96.296, abs=1e-3))],
)
def test_lower_is_better_for_days_since_usage(raw, expected):
    assert measure_score(raw, zero_at=30, full_at=3) == expected


def test_default_scorecard_has_every_measure_with_its_documented_thresholds(db):
    measures = {m.key: m for m in default_card().measures.all()}
    assert set(measures) == set(MEASURES)
    for key, spec in MEASURES.items():
        assert (measures[key].zero_at, measures[key].full_at, measures[key].weight) == (
            spec.zero_at,
            spec.full_at,
            spec.weight,
        )
    assert sum(m.weight for m in measures.values()) == 100


BUILT_IN = ("usage", "contacts", "touchpoints", "revenue", "renewal", "tasks")


def test_built_in_sources_leave_survey_and_onboarding_measures_to_their_apps(monkeypatch):
    monkeypatch.setattr(registry, "SOURCES", {k: v for k, v in registry.SOURCES.items() if k in BUILT_IN})
    provided = registry.provided_signals()
    for key in ("nps_latest", "nps_avg_12m", "csat", "ces", "onboarding_progress"):
        assert key not in provided
    for key in ("days_since_usage", "active_users", "usage_trend", "overdue_tasks", "days_since_touch"):
        assert key in provided
    assert {"mrr_trend", "renewal_proximity"} <= provided
    assert set(missing_sources()) == {
        "Latest NPS answer",
        "NPS answers, 12-month average",
        "CSAT",
        "CES",
        "Onboarding progress against plan",
    }


def _events(account, contact, days_ago: list[float], now):
    UsageEvent.objects.bulk_create(
        UsageEvent(
            account=account, contact=contact, name="report.viewed", occurred_at=now - dt.timedelta(days=d)
        )
        for d in days_ago
    )


def _signals(now, **kwargs):
    computed = scores_compute(day=timezone.localdate(now), as_of=now, **kwargs)
    return computed


def test_raw_values_of_usage_measures_for_many_accounts_at_once(db, django_assert_max_num_queries):
    now = timezone.now()
    busy = AccountFactory(name="Busy", contract_start=dt.date(2024, 1, 1))
    a, b, c = ContactFactory.create_batch(3, account=busy)
    _events(busy, a, [1, 2, 10], now)  # last 30 days: 4 events by a, b
    _events(busy, b, [29.9], now)
    _events(busy, c, [31, 40, 50, 55, 58, 59, 59.5, 59.9], now)  # the 30 before: 8 events
    _events(busy, c, [61, 90], now)  # outside the 60-day window
    quiet = AccountFactory(name="Quiet", contract_start=dt.date(2024, 1, 1))
    ContactFactory(account=quiet)
    fresh = AccountFactory(name="Fresh", contract_start=timezone.localdate(now) - dt.timedelta(days=12))
    with django_assert_max_num_queries(12):
        computed = _signals(now)
    signals = computed.signals
    assert signals["days_since_usage"][busy.pk] == 1
    assert signals["active_users"][busy.pk] == pytest.approx(200 / 3)  # 2 of 3 contacts
    assert signals["usage_trend"][busy.pk] == pytest.approx(-50.0)  # 4 against 8
    # no usage in 60 days: 60, or the days since the contract started when fewer
    assert signals["days_since_usage"][quiet.pk] == 60
    assert signals["active_users"][quiet.pk] == 0
    assert quiet.pk not in signals["usage_trend"]  # nothing the 30 days before: no trend
    assert signals["days_since_usage"][fresh.pk] == 12
    assert fresh.pk not in signals["active_users"]  # no contacts: no data


def test_no_usage_anywhere_means_usage_measures_have_no_data(db):
    account = AccountFactory()
    ContactFactory(account=account)
    signals = _signals(timezone.now()).signals
    assert account.pk not in signals.get("days_since_usage", {})
    assert account.pk not in signals.get("active_users", {})


def test_week_over_week_usage_needs_five_events_the_week_before(db):
    now = timezone.now()
    steady, thin = AccountFactory(), AccountFactory()
    _events(steady, None, [1, 2, 3, 8, 9, 10, 11, 12, 13, 13.5], now)  # 3 this week, 7 the week before
    _events(thin, None, [1, 8, 9, 10, 11], now)  # 4 the week before
    signals = _signals(now).signals
    assert signals["usage_wow"][steady.pk] == pytest.approx((3 - 7) / 7 * 100)
    assert thin.pk not in signals["usage_wow"]


def test_days_since_touch_from_the_last_touch_or_contract_start(db):
    now = timezone.now()
    touched = AccountFactory(last_touch_at=now - dt.timedelta(days=20, hours=3))
    never = AccountFactory(contract_start=timezone.localdate(now) - dt.timedelta(days=45))
    signals = _signals(now).signals
    assert signals["days_since_touch"][touched.pk] == 20
    assert signals["days_since_touch"][never.pk] == 45


def test_mrr_trend_over_90_days(db):
    today = timezone.localdate()
    shrinking = AccountFactory(contract_start=today - dt.timedelta(days=200))
    mrr_movement_record(
        account=shrinking, kind="new", date=today - dt.timedelta(days=200), amount=Decimal("1000")
    )
    mrr_movement_record(
        account=shrinking, kind="contraction", date=today - dt.timedelta(days=10), amount=Decimal("250")
    )
    young = AccountFactory(contract_start=today - dt.timedelta(days=30))
    mrr_movement_record(account=young, kind="new", date=today - dt.timedelta(days=30), amount=Decimal("500"))
    signals = _signals(timezone.now()).signals
    assert signals["mrr_trend"][shrinking.pk] == pytest.approx(-25.0)
    assert young.pk not in signals["mrr_trend"]  # no MRR 90 days ago: no data


def test_renewal_proximity_in_days_and_no_data_without_a_future_renewal(db):
    today = timezone.localdate()
    soon = AccountFactory(
        renewal_date=today + dt.timedelta(days=30), contract_start=today - dt.timedelta(days=335)
    )
    none = AccountFactory(renewal_date=None)
    signals = _signals(timezone.now()).signals
    assert signals["renewal_proximity"][soon.pk] == 30
    assert none.pk not in signals["renewal_proximity"]


def test_open_overdue_tasks_count(db):
    today = timezone.localdate()
    account = AccountFactory()
    for days, status in [(-3, "open"), (-1, "open"), (0, "open"), (2, "open"), (-5, "cancelled")]:
        Task.objects.create(
            title="t",
            account=account,
            owner=account.owner,
            due_date=today + dt.timedelta(days=days),
            status=status,
        )
    Task.objects.create(
        title="done", account=account, owner=account.owner, due_date=today - dt.timedelta(days=4),
        status="done", completed_at=timezone.now(),
    )  # fmt: skip
    signals = _signals(timezone.now()).signals
    assert signals["overdue_tasks"][account.pk] == 2


def test_churned_accounts_are_not_scored(db):
    AccountFactory(churned_at=dt.date(2025, 6, 1), churn_reason="price", lifecycle_stage="churned")
    live = AccountFactory()
    assert set(_signals(timezone.now()).results) == {live.pk}


def test_a_changed_threshold_changes_the_score(db):
    now = timezone.now()
    account = AccountFactory(last_touch_at=now - dt.timedelta(days=30, hours=1))
    card = default_card()
    card.measures.exclude(key="days_since_touch").delete()
    Measure.objects.filter(scorecard=card).update(zero_at=90, full_at=14)
    assert _signals(now).results[account.pk].score == round(100 * (90 - 30) / (90 - 14))
    Measure.objects.filter(scorecard=card).update(zero_at=60, full_at=0)
    assert _signals(now).results[account.pk].score == 50
