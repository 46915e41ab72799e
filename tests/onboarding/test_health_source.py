"""Onboarding feeds the health score: progress against plan and overdue milestones, for every
account in one grouped query, replayable for past days; no data for accounts without a plan."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import Account
from health.registry import SOURCES, ScoringContext, provided_signals
from onboarding import services
from onboarding.health import onboarding_signals
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def _ctx(day: dt.date, *, replay=False, accounts=None) -> ScoringContext:
    as_of = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return ScoringContext(day=day, as_of=as_of, accounts=accounts, replay=replay)


def test_registered_for_the_measure_and_the_alert_rule():
    assert "onboarding" in SOURCES
    assert {"onboarding_progress", "onboarding_overdue"} <= provided_signals()


def test_progress_against_what_is_due_and_overdue_counts(plan, alice):
    start = plan.start_date  # weights 1, 2, 3, 4 due on days 3, 10, 20, 40
    other = AccountFactory(owner=alice, name="No plan")
    signals = onboarding_signals(_ctx(start + dt.timedelta(days=2)))
    assert plan.account_id not in signals["onboarding_progress"]  # nothing due yet: no data
    assert signals["onboarding_overdue"] == {plan.account_id: 0}
    assert other.pk not in signals["onboarding_progress"]

    services.milestone_status_set(
        milestone=plan.milestones.get(name="Kick-off call"),
        status="done",
        done_on=start + dt.timedelta(days=3),
    )
    signals = onboarding_signals(_ctx(start + dt.timedelta(days=11)))  # due: weights 1 + 2
    assert signals["onboarding_progress"][plan.account_id] == pytest.approx(100 / 3)
    assert signals["onboarding_overdue"][plan.account_id] == 1

    services.milestone_status_set(
        milestone=plan.milestones.get(name="First report live"),
        status="done",
        done_on=start + dt.timedelta(days=5),
    )
    signals = onboarding_signals(_ctx(start + dt.timedelta(days=11)))  # 1 + 3 done of 3 due: capped
    assert signals["onboarding_progress"][plan.account_id] == 100.0

    for milestone in plan.milestones.exclude(status="done"):
        services.milestone_status_set(
            milestone=milestone, status="done", done_on=start + dt.timedelta(days=6)
        )
    signals = onboarding_signals(_ctx(start + dt.timedelta(days=100)))
    assert signals["onboarding_progress"][plan.account_id] == 100.0
    assert signals["onboarding_overdue"][plan.account_id] == 0


def test_replay_counts_only_what_was_done_before_the_moment_scored(plan, bob_plan):
    from onboarding.models import OnboardingPlan

    start = plan.start_date
    OnboardingPlan.objects.filter(pk=plan.pk).update(
        created_at=timezone.make_aware(dt.datetime.combine(start, dt.time(9)))
    )
    services.milestone_status_set(
        milestone=plan.milestones.get(name="Kick-off call"),
        status="done",
        done_on=start + dt.timedelta(days=8),
    )
    before = onboarding_signals(_ctx(start + dt.timedelta(days=5), replay=True))
    after = onboarding_signals(_ctx(start + dt.timedelta(days=12), replay=True))
    assert before["onboarding_progress"][plan.account_id] == 0.0  # kick-off due, not done yet then
    assert before["onboarding_overdue"][plan.account_id] == 1
    assert after["onboarding_progress"][plan.account_id] == pytest.approx(100 / 3)
    assert after["onboarding_overdue"][plan.account_id] == 1  # data connected (day 10) late by then
    assert bob_plan.account_id not in after["onboarding_overdue"]  # started after the day replayed


def test_scoped_to_the_run_and_one_query(plan, bob_plan, django_assert_num_queries):
    day = plan.start_date + dt.timedelta(days=30)
    with django_assert_num_queries(1):
        signals = onboarding_signals(_ctx(day, accounts=Account.objects.filter(pk=bob_plan.account_id)))
    assert set(signals["onboarding_overdue"]) == {bob_plan.account_id}
    ctx = _ctx(day)
    ctx.id_range = (plan.account_id, plan.account_id)
    assert set(onboarding_signals(ctx)["onboarding_overdue"]) == {plan.account_id}


def test_the_alert_rule_fires_on_overdue_milestones(plan):
    """The health app's "onboarding milestone overdue" rule reads this signal."""
    from health.models import RuleKind

    assert RuleKind.ONBOARDING_OVERDUE == "onboarding_overdue"
    signals = onboarding_signals(_ctx(timezone.localdate()))
    assert signals["onboarding_overdue"][plan.account_id] == 4


def test_recompute_scores_onboarding_and_raises_the_overdue_alert(plan):
    """Through the health app's own nightly recompute: the measure scores and the rule fires."""
    import importlib

    from django.apps import apps

    from health.models import Alert, HealthSnapshot
    from health.services import health_scores_recompute

    importlib.import_module("health.migrations.0002_defaults").create_defaults(apps, None)
    health_scores_recompute()
    alert = Alert.objects.get(account=plan.account, rule__kind="onboarding_overdue")
    assert alert.details == "4 onboarding milestone(s) overdue."
    raw, score, _weight, _contribution = HealthSnapshot.objects.get(account=plan.account).measures[
        "onboarding_progress"
    ]
    assert (raw, score) == (0.0, 0.0)  # nothing done of everything due: the worst onboarding score
