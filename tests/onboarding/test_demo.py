"""Demo onboarding data: plans for the last year's accounts from the segment templates,
deterministic for a seed, realistic (some late, some blocked, some complete), and idempotent."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from accounts.models import Account
from onboarding import selectors
from onboarding.demo import demo_onboarding_seed
from onboarding.models import Milestone, OnboardingPlan
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 6, 1)


@pytest.fixture
def accounts(alice):
    rng = random.Random(7)
    return [
        AccountFactory(
            owner=alice,
            segment=["smb", "mid_market", "enterprise"][i % 3],
            contract_start=TODAY - dt.timedelta(days=rng.randint(0, 500)),
            lifecycle_stage="at_risk" if i % 11 == 0 else "onboarding",
        )
        for i in range(120)
    ]


def _fingerprint():
    return list(
        Milestone.objects.order_by("plan__account_id", "position").values_list(
            "plan__account_id", "name", "status", "done_on", "blocked_reason"
        )
    )


def test_seed_is_realistic_and_consistent(accounts):
    report = demo_onboarding_seed(rng=random.Random(1), accounts=Account.objects.all(), today=TODAY)
    eligible = [a for a in accounts if (TODAY - a.contract_start).days <= 365]
    assert report.plans == len(eligible) == OnboardingPlan.objects.count()
    assert report.milestones == Milestone.objects.count()
    statuses = set(Milestone.objects.values_list("status", flat=True))
    assert {"done", "not_started"} <= statuses
    assert OnboardingPlan.objects.filter(completed_at__isnull=False).exists()
    assert OnboardingPlan.objects.filter(completed_at__isnull=True).exists()
    assert not Milestone.objects.filter(done_on__gt=TODAY).exists()
    for plan in OnboardingPlan.objects.select_related("account"):
        assert plan.milestones.filter(done_on__lt=plan.account.contract_start).count() == 0
        if plan.completed_at:
            assert not plan.milestones.exclude(status="done").exists()
    (overall,) = selectors.time_to_value_median(by="all")
    assert overall.reached > 0 and overall.median_days > 0
    funnel = selectors.template_funnel(template=OnboardingPlan.objects.first().template)
    reached = [step.reached for step in funnel.steps]
    assert reached[0] >= reached[-1]


def test_same_seed_same_rows_and_a_second_run_adds_nothing(accounts):
    demo_onboarding_seed(rng=random.Random(3), accounts=Account.objects.all(), today=TODAY)
    first = _fingerprint()
    OnboardingPlan.objects.all().delete()
    demo_onboarding_seed(rng=random.Random(3), accounts=Account.objects.all(), today=TODAY)
    assert _fingerprint() == first
    again = demo_onboarding_seed(rng=random.Random(3), accounts=Account.objects.all(), today=TODAY)
    assert again.plans == 0 and _fingerprint() == first


def test_seeded_plans_carry_the_boards_order_fields(accounts):
    demo_onboarding_seed(rng=random.Random(5), accounts=Account.objects.all(), today=TODAY)
    for plan in OnboardingPlan.objects.select_related("account"):
        summary = selectors.plan_summary(plan=plan, today=TODAY)
        assert (plan.next_due_on, plan.progress) == (summary.next_due, summary.percent)
