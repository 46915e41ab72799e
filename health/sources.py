"""Built-in raw-value sources: usage, touchpoints, revenue, renewal, contacts and tasks.

Each runs one or two grouped queries for every account in scope (see ``registry``). Surveys
(NPS, CSAT, CES, detractor and promoter answers) and onboarding register theirs when they exist.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Max, Q

from accounts.models import Contact, ContactRole, Touchpoint, UsageEvent
from accounts.selectors import mrr_by_account_on
from cs_app.plain_rows import plain_rows

from .models import Task, TaskStatus
from .registry import ScoringContext, Signals, raw_values_source

USAGE_WINDOW_DAYS = 60  # the usage measures look back this far
WOW_MIN_EVENTS = 5  # week-over-week change needs this many events the week before


def scoped(qs, ctx: ScoringContext):
    """Restrict a queryset with an ``account`` foreign key to the run's accounts (and batch)."""
    if ctx.id_range is not None:
        qs = qs.filter(account_id__gte=ctx.id_range[0], account_id__lte=ctx.id_range[1])
    if ctx.accounts is not None:
        qs = qs.filter(account__in=ctx.accounts.values("pk"))
    return qs


def usage_windows(ctx: ScoringContext):
    """One GROUP BY over usage events: per account, the newest event, events in the last 30 days and
    the 30 before, the last 7 and the 7 before, and distinct active contacts in the last 30 days."""
    now = ctx.as_of
    d30, d60 = now - dt.timedelta(days=30), now - dt.timedelta(days=USAGE_WINDOW_DAYS)
    d7, d14 = now - dt.timedelta(days=7), now - dt.timedelta(days=14)
    recent = Q(occurred_at__gte=d30)
    events = scoped(UsageEvent.objects.filter(occurred_at__gte=d60, occurred_at__lt=now), ctx)
    return (
        events.order_by()
        .values("account_id")
        .annotate(
            last_at=Max("occurred_at"),
            last_30=Count("occurred_at", filter=recent),
            prior_30=Count("occurred_at", filter=Q(occurred_at__lt=d30)),
            last_7=Count("occurred_at", filter=Q(occurred_at__gte=d7)),
            prior_7=Count("occurred_at", filter=Q(occurred_at__gte=d14, occurred_at__lt=d7)),
            users_30=Count("contact_id", filter=recent, distinct=True),
        )
        .values_list("account_id", "last_at", "last_30", "prior_30", "last_7", "prior_7", "users_30")
    )


def _days_since_start(ctx: ScoringContext, account_id: int) -> int | None:
    row = ctx.account_rows.get(account_id)
    if row is None:
        return None
    return max(0, (ctx.day - row[3]).days)


@raw_values_source(
    "usage", provides=("days_since_usage", "active_users", "usage_trend", "usage_wow", "usage_prior_30")
)
def usage(ctx: ScoringContext) -> Signals:
    contacts = _contact_counts(ctx)
    days_since: dict[int, float] = {}
    active: dict[int, float] = {}
    trend: dict[int, float] = {}
    wow: dict[int, float] = {}
    prior: dict[int, int] = {}
    seen = False
    for account_id, last_at, last_30, prior_30, last_7, prior_7, users_30 in plain_rows(usage_windows(ctx)):
        seen = True
        days_since[account_id] = (ctx.as_of - last_at).total_seconds() // 86400
        people = contacts.get(account_id, (0, 0))[0]
        if people:
            active[account_id] = min(100.0, users_30 * 100.0 / people)
        if prior_30:
            trend[account_id] = (last_30 - prior_30) * 100.0 / prior_30
            prior[account_id] = prior_30
        if prior_7 >= WOW_MIN_EVENTS:
            wow[account_id] = (last_7 - prior_7) * 100.0 / prior_7
    if not seen:
        # No usage at all in the window, for anyone: usage is not being sent (yet). No data.
        return {}
    for account_id in ctx.account_rows:
        if account_id not in days_since:
            started = _days_since_start(ctx, account_id)
            days_since[account_id] = min(
                USAGE_WINDOW_DAYS, started if started is not None else USAGE_WINDOW_DAYS
            )
            if contacts.get(account_id, (0, 0))[0]:
                active[account_id] = 0.0
    return {
        "days_since_usage": days_since,
        "active_users": active,
        "usage_trend": trend,
        "usage_wow": wow,
        "usage_prior_30": prior,
    }


def _contact_counts(ctx: ScoringContext) -> dict[int, tuple[int, int]]:
    """Contacts and champions per account (replaying: those that existed before ``as_of``). Cached per run."""
    if "contact_counts" in ctx.cache:
        return ctx.cache["contact_counts"]
    rows = (
        scoped(Contact.objects.filter(created_at__lt=ctx.as_of) if ctx.replay else Contact.objects.all(), ctx)
        .order_by()
        .values("account_id")
        .annotate(people=Count("*"), champions=Count("id", filter=Q(role=ContactRole.CHAMPION)))
        .values_list("account_id", "people", "champions")
    )
    counts = {account_id: (people, champions) for account_id, people, champions in plain_rows(rows)}
    ctx.cache["contact_counts"] = counts
    return counts


@raw_values_source("contacts", provides=("champion_missing",))
def contacts(ctx: ScoringContext) -> Signals:
    counts = _contact_counts(ctx)
    return {
        "champion_missing": {
            aid: int(people > 0 and not champions) for aid, (people, champions) in counts.items()
        }
    }


@raw_values_source("touchpoints", provides=("days_since_touch",))
def touchpoints(ctx: ScoringContext) -> Signals:
    """Days since the newest touchpoint: the cached ``Account.last_touch_at`` when scoring today,
    one grouped query over touchpoints before ``as_of`` when replaying the past."""
    if ctx.replay:
        rows = (
            scoped(Touchpoint.objects.filter(occurred_at__lt=ctx.as_of), ctx)
            .order_by()
            .values("account_id")
            .annotate(last=Max("occurred_at"))
            .values_list("account_id", "last")
        )
        last_touch = dict(rows)
    else:
        last_touch = {aid: row[4] for aid, row in ctx.account_rows.items() if row[4] is not None}
    values: dict[int, float] = {}
    for account_id in ctx.account_rows:
        last = last_touch.get(account_id)
        if last is not None and last < ctx.as_of:
            values[account_id] = max(0, (ctx.as_of - last).days)
        else:
            started = _days_since_start(ctx, account_id)
            if started is not None:
                values[account_id] = started
    return {"days_since_touch": values}


@raw_values_source("revenue", provides=("mrr_trend",))
def revenue(ctx: ScoringContext) -> Signals:
    """MRR now against 90 days before: grouped queries (accounts.selectors.mrr_by_account_on)."""
    ref = ctx.day - dt.timedelta(days=1) if ctx.replay else ctx.day
    scope = {"accounts": ctx.accounts, "id_range": ctx.id_range}
    if ctx.replay:
        now = mrr_by_account_on(day=ref, **scope)
    else:  # today's MRR is cached on the account (services keep it in line with the movements)
        now = {aid: row[5] for aid, row in ctx.account_rows.items()}
    then = mrr_by_account_on(day=ref - dt.timedelta(days=90), **scope)
    values = {}
    for account_id, before in then.items():
        if before and before > 0:
            values[account_id] = float((now.get(account_id, 0) - before) * 100 / before)
    return {"mrr_trend": values}


def _next_anniversary(start: dt.date, day: dt.date) -> dt.date:
    years = max(1, day.year - start.year)
    while True:
        try:
            candidate = start.replace(year=start.year + years)
        except ValueError:  # 29 February
            candidate = start.replace(year=start.year + years, day=28)
        if candidate >= day:
            return candidate
        years += 1


@raw_values_source("renewal", provides=("renewal_proximity", "renewal_days"))
def renewal(ctx: ScoringContext) -> Signals:
    """Days to the renewal date. Replaying the past, today's renewal date is not what was known
    then, so the next contract anniversary stands in for it."""
    values = {}
    for account_id, row in ctx.account_rows.items():
        renewal_date = _next_anniversary(row[3], ctx.day) if ctx.replay else row[2]
        if renewal_date is not None and renewal_date >= ctx.day:
            values[account_id] = (renewal_date - ctx.day).days
    return {"renewal_proximity": values, "renewal_days": values}


@raw_values_source("tasks", provides=("overdue_tasks",))
def overdue_tasks(ctx: ScoringContext) -> Signals:
    """Open tasks past their due date, per account (as they stood at ``as_of`` when replaying)."""
    tasks = Task.objects.filter(due_date__lt=ctx.day)
    if ctx.replay:
        tasks = tasks.filter(created_at__lt=ctx.as_of).exclude(status=TaskStatus.CANCELLED)
        tasks = tasks.filter(Q(completed_at__isnull=True) | Q(completed_at__gte=ctx.as_of))
    else:
        tasks = tasks.filter(status=TaskStatus.OPEN)
    rows = (
        scoped(tasks, ctx)
        .order_by()
        .values("account_id")
        .annotate(n=Count("*"))
        .values_list("account_id", "n")
    )
    counts = dict(plain_rows(rows))
    return {"overdue_tasks": {account_id: counts.get(account_id, 0) for account_id in ctx.account_rows}}
