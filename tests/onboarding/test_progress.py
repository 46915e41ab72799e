"""Weighted progress and schedule status (on track, behind, done), and "overdue" around
midnight in the platform's time zone: the SQL summary and the in-memory one agree."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from onboarding import selectors, services
from onboarding.models import Milestone, ScheduleStatus

pytestmark = pytest.mark.django_db


def _both(plan, today):
    sql = selectors.plan_summary(plan=plan, today=today)
    _plan, milestones = selectors.account_plan_rows(account=plan.account)
    memory = selectors.summary_from_milestones(
        milestones, contract_start=plan.account.contract_start, today=today
    )
    assert sql == memory
    return sql


def _done(plan, name, day):
    milestone = plan.milestones.get(name=name)
    return services.milestone_status_set(
        milestone=milestone, status="done", done_on=day, now=timezone.make_aware(dt.datetime(2030, 1, 1))
    )


def test_progress_is_weighted_and_status_follows_the_due_dates(plan):
    start = plan.start_date  # weights 1, 2, 3, 4 due on days 3, 10, 20, 40
    summary = _both(plan, start)
    assert (summary.percent, summary.status, summary.overdue) == (0, ScheduleStatus.ON_TRACK, 0)
    assert summary.next_name == "Kick-off call"

    summary = _both(plan, start + dt.timedelta(days=4))  # kick-off (day 3) is late
    assert (summary.status, summary.overdue) == (ScheduleStatus.BEHIND, 1)

    _done(plan, "Kick-off call", start + dt.timedelta(days=3))
    summary = _both(plan, start + dt.timedelta(days=4))
    assert summary.percent == 10  # 1 of 10
    assert summary.status == ScheduleStatus.ON_TRACK
    assert summary.next_name == "Data connected"

    _done(plan, "First report live", start + dt.timedelta(days=5))  # early, weight 3
    summary = _both(plan, start + dt.timedelta(days=12))
    assert summary.percent == 40
    assert (summary.status, summary.overdue, summary.done) == (ScheduleStatus.BEHIND, 1, 2)


def test_done_only_when_every_milestone_is_done_and_never_rounded_to_100(plan):
    start = plan.start_date
    Milestone.objects.filter(plan=plan).update(weight=100)
    Milestone.objects.filter(plan=plan, name="Kick-off call").update(weight=1)
    for name in ("Data connected", "First report live", "Value review"):
        _done(plan, name, start + dt.timedelta(days=1))
    summary = _both(plan, start + dt.timedelta(days=2))
    assert summary.percent == 99  # 300 of 301 rounds to 100, but one milestone is open
    assert summary.status == ScheduleStatus.ON_TRACK
    _done(plan, "Kick-off call", start + dt.timedelta(days=2))
    summary = _both(plan, start + dt.timedelta(days=2))
    assert (summary.percent, summary.status) == (100, ScheduleStatus.DONE)


def test_empty_plan_has_no_progress_and_is_on_track(alice_account):
    plan = services.plan_start(account=alice_account)
    summary = _both(plan, dt.date(2025, 6, 1))
    assert (summary.percent, summary.milestones, summary.status) == (0, 0, ScheduleStatus.ON_TRACK)


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Taipei", "UTC"])
def test_overdue_turns_at_local_midnight_in_the_platform_time_zone(settings, plan, zone):
    settings.TIME_ZONE = zone
    tz = zoneinfo.ZoneInfo(zone)
    due = plan.milestones.get(name="Kick-off call").due_date
    just_before = dt.datetime.combine(due, dt.time(23, 59, 30), tzinfo=tz)  # still the due day, locally
    just_after = dt.datetime.combine(due + dt.timedelta(days=1), dt.time(0, 0, 30), tzinfo=tz)
    assert timezone.localdate(just_before) == due
    # In UTC the two moments may fall on other days; only the local calendar counts.
    assert selectors.plan_summary(plan=plan, today=timezone.localdate(just_before)).overdue == 0
    assert selectors.plan_summary(plan=plan, today=timezone.localdate(just_after)).overdue == 1
    milestone = plan.milestones.get(name="Kick-off call")
    assert not milestone.is_overdue(timezone.localdate(just_before))
    assert milestone.is_overdue(timezone.localdate(just_after))


def test_done_today_is_dated_in_the_local_calendar(settings, plan):
    """At 23:30 in New York (03:30 UTC the next day, daylight time) "done today" is the New York day."""
    settings.TIME_ZONE = "America/New_York"
    now = dt.datetime(2025, 3, 20, 3, 30, tzinfo=dt.UTC)
    local_day = dt.date(2025, 3, 19)
    milestone = plan.milestones.get(name="Kick-off call")
    services.milestone_status_set(milestone=milestone, status="done", done_on=local_day, now=now)
    milestone.refresh_from_db()
    assert milestone.done_on == local_day
    assert milestone.done_at == now  # done "today": the moment it was ticked
    with pytest.raises(Exception) as excinfo:  # the UTC day is "tomorrow" locally: in the future
        services.milestone_status_set(
            milestone=plan.milestones.get(name="Data connected"),
            status="done",
            done_on=dt.date(2025, 3, 20),
            now=now,
        )
    assert "future" in str(excinfo.value)


def test_board_and_api_agree_with_the_plan_page(client, alice, plan):
    _done(plan, "Kick-off call", plan.start_date)
    client.force_login(alice)
    page = client.get(f"/onboarding/accounts/{plan.account_id}/").context["summary"]
    board = client.get("/onboarding/?status=all").context["plans"][0].summary
    assert page == board


def test_the_boards_cached_order_fields_follow_every_change(plan, alice, template):
    """next_due_on and progress (the board's sort keys) always equal what the milestones say."""
    from onboarding.models import OnboardingPlan

    def check():
        fresh = OnboardingPlan.objects.get(pk=plan.pk)
        summary = selectors.plan_summary(plan=fresh)
        assert (fresh.next_due_on, fresh.progress) == (summary.next_due, summary.percent)
        return fresh

    start = plan.start_date
    assert check().next_due_on == start + dt.timedelta(days=3)  # set when the plan starts
    kickoff = plan.milestones.get(name="Kick-off call")
    _done(plan, "Kick-off call", start + dt.timedelta(days=3))
    assert check().progress == 10
    services.milestone_update(milestone=plan.milestones.get(name="Data connected"), data={"due_date": start})
    assert check().next_due_on == start
    services.milestone_add(
        plan=plan, data={"name": "Extra", "due_date": start + dt.timedelta(days=1), "weight": 90}
    )
    assert check().progress == 1
    services.milestone_remove(milestone=plan.milestones.get(name="Extra"))
    check()
    services.plan_shift(plan=OnboardingPlan.objects.get(pk=plan.pk), start_date=start + dt.timedelta(days=7))
    assert check().next_due_on == start + dt.timedelta(days=7)
    services.milestone_status_set(milestone=kickoff, status="in_progress")
    check()
    for milestone in plan.milestones.all():
        _done(plan, milestone.name, start + dt.timedelta(days=3))
    fresh = check()
    assert (fresh.next_due_on, fresh.progress, fresh.completed_at is not None) == (None, 100, True)
    from .factories import TemplateFactory, milestone_templates

    other = TemplateFactory(name="Other")
    milestone_templates(other, rows=[("New step", 50, "csm", 5, False, False)])
    services.plan_switch_template(plan=fresh, template=other)
    fresh = check()
    assert fresh.completed_at is None and fresh.progress == 67  # 10 done of 15: done ones were kept
