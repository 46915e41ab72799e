"""Onboarding signals for the health score (health.registry), for every account in scope in one
grouped query over the milestones:

- ``onboarding_progress``: the weight of the milestones done as a % of the weight of those due
  by the day scored (past their due day), capped at 100; a plan with every milestone done is
  100. No data while nothing is due yet, and for accounts without a plan.
- ``onboarding_overdue``: milestones past their due day and not done (the "onboarding milestone
  overdue" alert rule reads it).

Replaying a past day, a milestone counts as done if it was marked done before ``as_of``, and
plans started after ``as_of`` did not exist yet.
"""

from __future__ import annotations

from django.db.models import Count, IntegerField, Q, Sum, Value
from django.db.models.functions import Coalesce

from cs_app.plain_rows import plain_rows
from health.registry import ScoringContext, Signals, raw_values_source

from .models import Milestone, MilestoneStatus


@raw_values_source("onboarding", provides=("onboarding_progress", "onboarding_overdue"))
def onboarding_signals(ctx: ScoringContext) -> Signals:
    milestones = Milestone.objects.all()
    if ctx.id_range is not None:
        milestones = milestones.filter(
            plan__account_id__gte=ctx.id_range[0], plan__account_id__lte=ctx.id_range[1]
        )
    if ctx.accounts is not None:
        milestones = milestones.filter(plan__account__in=ctx.accounts.values("pk"))
    if ctx.replay:
        milestones = milestones.filter(plan__created_at__lt=ctx.as_of)
        done = Q(done_at__lt=ctx.as_of)
    else:
        done = Q(status=MilestoneStatus.DONE)
    due = Q(due_date__lt=ctx.day)
    zero = Value(0)
    rows = (
        milestones.order_by()
        .values("plan__account_id")
        .annotate(
            n=Count("id"),
            n_done=Count("id", filter=done),
            weight_done=Coalesce(Sum("weight", filter=done), zero, output_field=IntegerField()),
            weight_due=Coalesce(Sum("weight", filter=due), zero, output_field=IntegerField()),
            overdue=Count("id", filter=due & ~done),
        )
        .values_list("plan__account_id", "n", "n_done", "weight_done", "weight_due", "overdue")
    )
    progress: dict[int, float] = {}
    overdue: dict[int, int] = {}
    for account_id, n, n_done, weight_done, weight_due, late in plain_rows(rows):
        overdue[account_id] = late
        if n and n_done == n:
            progress[account_id] = 100.0
        elif weight_due:
            progress[account_id] = min(100.0, weight_done * 100.0 / weight_due)
    return {"onboarding_progress": progress, "onboarding_overdue": overdue}
