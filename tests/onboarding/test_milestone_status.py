"""Milestone statuses: done needs a date (not in the future, not before the contract start),
blocked needs a reason; the plan completes when all are done and reopens when one is not;
nothing is half-saved when the input is bad."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from onboarding import services
from onboarding.models import Milestone, MilestoneStatus

pytestmark = pytest.mark.django_db


def _set(milestone, **kwargs):
    return services.milestone_status_set(milestone=milestone, **kwargs)


def test_done_records_the_date_and_who(plan, alice):
    milestone = plan.milestones.get(name="Kick-off call")
    day = timezone.localdate() - dt.timedelta(days=2)
    _set(milestone, status="done", done_on=day, by=alice)
    milestone.refresh_from_db()
    assert (milestone.status, milestone.done_on, milestone.done_by) == ("done", day, alice)
    assert milestone.done_at is not None and milestone.first_done_at == milestone.done_at
    assert timezone.localdate(milestone.done_at) == day  # back-dated: noon that day on the timeline


@pytest.mark.parametrize(
    ("done_on", "field", "message"),
    [
        (None, "done_on", "Enter the date it was done."),
        (timezone.localdate() + dt.timedelta(days=1), "done_on", "A milestone cannot be done in the future."),
        (dt.date(2024, 12, 31), "done_on", "It cannot be done before the contract start (2025-01-01)."),
    ],
)
def test_done_with_a_bad_date_is_refused_and_nothing_changes(plan, done_on, field, message):
    milestone = plan.milestones.get(name="Kick-off call")
    with pytest.raises(ValidationError) as excinfo:
        _set(milestone, status="done", done_on=done_on)
    assert excinfo.value.message_dict == {field: [message]}
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.NOT_STARTED and milestone.done_on is None


def test_blocked_needs_a_reason_and_keeps_it_only_while_blocked(plan):
    milestone = plan.milestones.get(name="Data connected")
    with pytest.raises(ValidationError) as excinfo:
        _set(milestone, status="blocked", blocked_reason="   ")
    assert "blocked_reason" in excinfo.value.message_dict
    _set(milestone, status="blocked", blocked_reason="Waiting for IT")
    milestone.refresh_from_db()
    assert (milestone.status, milestone.blocked_reason) == ("blocked", "Waiting for IT")
    _set(milestone, status="in_progress")
    milestone.refresh_from_db()
    assert (milestone.status, milestone.blocked_reason) == ("in_progress", "")


def test_unknown_status_is_refused(plan):
    with pytest.raises(ValidationError) as excinfo:
        _set(plan.milestones.first(), status="finished")
    assert "status" in excinfo.value.message_dict


def test_reopening_clears_the_date_but_remembers_the_first_time(plan):
    milestone = plan.milestones.get(name="Kick-off call")
    today = timezone.localdate()
    _set(milestone, status="done", done_on=today)
    milestone.refresh_from_db()
    first = milestone.first_done_at
    _set(milestone, status="in_progress")
    milestone.refresh_from_db()
    assert (milestone.done_on, milestone.done_at, milestone.done_by) == (None, None, None)
    assert milestone.first_done_at == first


def test_plan_completes_when_all_done_moves_the_account_to_adoption_and_reopens(plan, alice_account):
    alice_account.lifecycle_stage = "onboarding"
    alice_account.save()
    today = timezone.localdate()
    milestones = list(plan.milestones.all())
    for milestone in milestones[:-1]:
        _set(milestone, status="done", done_on=today)
    plan.refresh_from_db()
    assert plan.completed_at is None
    _set(milestones[-1], status="done", done_on=today)
    plan.refresh_from_db()
    alice_account.refresh_from_db()
    assert plan.completed_at is not None
    assert alice_account.lifecycle_stage == "adoption"
    _set(milestones[0], status="in_progress")
    plan.refresh_from_db()
    assert plan.completed_at is None
    assert Milestone.objects.get(pk=milestones[0].pk).status == "in_progress"


def test_database_refuses_done_without_a_date_and_blocked_without_a_reason(plan):
    milestone = plan.milestones.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Milestone.objects.filter(pk=milestone.pk).update(status="done")
    with pytest.raises(IntegrityError), transaction.atomic():
        Milestone.objects.filter(pk=milestone.pk).update(status="blocked")
    with pytest.raises(IntegrityError), transaction.atomic():
        Milestone.objects.filter(pk=milestone.pk).update(weight=0)


def test_one_plan_per_account_in_the_service_and_the_database(plan, alice_account, template):
    with pytest.raises(ValidationError) as excinfo:
        services.plan_start(account=alice_account, template=template)
    assert "template" in excinfo.value.message_dict
    from onboarding.models import OnboardingPlan

    with pytest.raises(IntegrityError), transaction.atomic():
        OnboardingPlan.objects.create(account=alice_account, name="Second", start_date=plan.start_date)
