"""Milestones reached appear on the account timeline, merged with the rest, newest first, and
paginate without gaps or repeats."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.selectors import account_timeline
from onboarding import services
from tests.factories import TouchpointFactory

pytestmark = pytest.mark.django_db


def test_done_milestones_are_on_the_timeline_with_who_and_value(plan, alice):
    services.milestone_status_set(
        milestone=plan.milestones.get(name="First report live"),
        status="done",
        done_on=dt.date(2025, 1, 25),
        by=alice,
    )
    services.milestone_status_set(
        milestone=plan.milestones.get(name="Kick-off call"), status="done", done_on=dt.date(2025, 1, 2)
    )
    services.milestone_status_set(milestone=plan.milestones.get(name="Data connected"), status="in_progress")
    TouchpointFactory(
        account=plan.account, summary="Call", occurred_at=timezone.make_aware(dt.datetime(2025, 1, 10, 9))
    )
    entries = account_timeline(account=plan.account).entries
    assert [(e.kind, e.title) for e in entries] == [
        ("milestone", "Milestone reached: First report live"),
        ("touchpoint", "Call"),
        ("milestone", "Milestone reached: Kick-off call"),
    ]
    value = entries[0]
    assert (
        value.actor == "Alice Archer"
        and "Delivers value." in value.body
        and "4 days after its due date." in value.body
    )  # due 21 Jan
    assert value.occurred_at == timezone.make_aware(dt.datetime(2025, 1, 25, 12))


def test_reopened_milestones_leave_the_timeline(plan):
    milestone = plan.milestones.get(name="Kick-off call")
    services.milestone_status_set(milestone=milestone, status="done", done_on=dt.date(2025, 1, 2))
    services.milestone_status_set(milestone=milestone, status="in_progress")
    assert [e for e in account_timeline(account=plan.account).entries if e.kind == "milestone"] == []


def test_pages_have_no_gaps_or_repeats(alice_account):
    plan = services.plan_start(account=alice_account)
    for i in range(45):
        milestone = services.milestone_add(
            plan=plan, data={"name": f"M{i:02d}", "due_date": dt.date(2025, 3, 1)}
        )
        services.milestone_status_set(
            milestone=milestone, status="done", done_on=dt.date(2025, 1, 1) + dt.timedelta(days=i // 3)
        )
    seen, cursor = [], None
    while True:
        page = account_timeline(account=plan.account, cursor=cursor, limit=20)
        seen += [e.title for e in page.entries]
        cursor = page.next_cursor
        if not cursor:
            break
    assert len(seen) == 45 and len(set(seen)) == 45
    assert seen[0] == "Milestone reached: M44"
