"""Reads on onboarding: set-based, a fixed number of queries whatever the number of plans.

Progress is weighted: the weight of the milestones done over the weight of all of them.
A plan is *done* when every milestone is done, *behind* when any milestone is overdue (its due
day has passed, in the platform's calendar, and it is not done), and *on track* otherwise.
Time-to-value is the number of days from the account's contract start to the first milestone
that delivers value; "no data" (None) until one is done, or when the plan has none.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Count,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import Account, Segment, Tier
from cs_app.prepared import prepared
from team.models import User

from .models import (
    Celebration,
    CelebrationStatus,
    Milestone,
    MilestoneStatus,
    OnboardingPlan,
    OwnerSide,
    PlanTemplate,
    ScheduleStatus,
    ShareLink,
    SuccessCriterion,
)

DONE = Q(milestones__status=MilestoneStatus.DONE)


def percent_of(weight: int, done_weight: int) -> int:
    """Weighted progress, 0 to 100; 100 only when everything is done (never rounded up to it)."""
    if not weight:
        return 0
    share = round(done_weight * 100 / weight)
    return min(share, 99) if done_weight < weight else 100


@dataclass(frozen=True)
class PlanSummary:
    """Where a plan stands, from one grouped query (see ``with_summary``)."""

    milestones: int
    done: int
    overdue: int
    blocked: int
    weight: int
    done_weight: int
    next_due: dt.date | None
    next_name: str | None
    first_value_on: dt.date | None
    value_milestones: int
    contract_start: dt.date
    today: dt.date | None = None

    @property
    def percent(self) -> int:
        """Weighted progress, 0 to 100; 100 only when everything is done."""
        return percent_of(self.weight, self.done_weight)

    @property
    def status(self) -> str:
        if self.milestones and self.done == self.milestones:
            return ScheduleStatus.DONE
        if self.overdue:
            return ScheduleStatus.BEHIND
        return ScheduleStatus.ON_TRACK

    @property
    def status_label(self) -> str:
        return str(ScheduleStatus(self.status).label)

    @property
    def ttv_days(self) -> int | None:
        if self.first_value_on is None:
            return None
        return (self.first_value_on - self.contract_start).days

    @property
    def days_since_start(self) -> int | None:
        """Days since the contract start: how long the time-to-value clock has been running."""
        return None if self.today is None else max(0, (self.today - self.contract_start).days)


def with_summary(plans: QuerySet[OnboardingPlan], *, today: dt.date) -> QuerySet[OnboardingPlan]:
    """Annotate each plan with its counts (one GROUP BY over the milestones; no query per plan)."""
    not_done = ~DONE
    next_open = (
        Milestone.objects.filter(plan=OuterRef("pk"))
        .exclude(status=MilestoneStatus.DONE)
        .order_by("due_date", "position", "pk")
    )
    return plans.annotate(
        s_milestones=Count("milestones"),
        s_done=Count("milestones", filter=DONE),
        s_overdue=Count("milestones", filter=not_done & Q(milestones__due_date__lt=today)),
        s_blocked=Count("milestones", filter=Q(milestones__status=MilestoneStatus.BLOCKED)),
        s_weight=Coalesce(Sum("milestones__weight"), Value(0), output_field=IntegerField()),
        s_done_weight=Coalesce(Sum("milestones__weight", filter=DONE), Value(0), output_field=IntegerField()),
        s_next_due=Min("milestones__due_date", filter=not_done),
        s_next_name=Subquery(next_open.values("name")[:1]),
        s_first_value_on=Min("milestones__done_on", filter=DONE & Q(milestones__delivers_value=True)),
        s_value=Count("milestones", filter=Q(milestones__delivers_value=True)),
    )


def summary_of(plan: OnboardingPlan, today: dt.date | None = None) -> PlanSummary:
    """The summary of a plan annotated by ``with_summary`` (its account loaded or joined)."""
    return PlanSummary(
        milestones=plan.s_milestones,
        done=plan.s_done,
        overdue=plan.s_overdue,
        blocked=plan.s_blocked,
        weight=plan.s_weight,
        done_weight=plan.s_done_weight,
        next_due=plan.s_next_due,
        next_name=plan.s_next_name,
        first_value_on=plan.s_first_value_on,
        value_milestones=plan.s_value,
        contract_start=plan.account.contract_start,
        today=today or timezone.localdate(),
    )


def plan_summary(*, plan: OnboardingPlan, today: dt.date | None = None) -> PlanSummary:
    today = today or timezone.localdate()
    annotated = with_summary(
        OnboardingPlan.objects.filter(pk=plan.pk).select_related("account"), today=today
    ).get()
    return summary_of(annotated, today)


def visible_plans(user: User) -> QuerySet[OnboardingPlan]:
    """The plans of the accounts a user may see (a CSM's own, or all for managers)."""
    if getattr(user, "is_authenticated", False) and user.has_app_access and user.sees_all_accounts:
        return OnboardingPlan.objects.all()  # no IN (every account) subquery for managers
    return OnboardingPlan.objects.filter(account__in=Account.objects.visible_to(user).values("pk"))


# ---------------------------------------------------------------- the account 360 card

_PLAN_COLUMNS = (
    "id",
    "name",
    "template_id",
    "start_date",
    "expectations",
    "criteria_reviewed_on",
    "completed_at",
)
_MILESTONE_COLUMNS = (
    "id",
    "position",
    "name",
    "due_date",
    "weight",
    "status",
    "delivers_value",
    "done_on",
    "done_at",
)


@prepared
def _plan_rows(account_id: int) -> QuerySet[OnboardingPlan]:
    columns = [*_PLAN_COLUMNS, *(f"milestones__{c}" for c in _MILESTONE_COLUMNS)]
    columns += ["milestones__done_by__full_name", "milestones__done_by__email"]
    return (
        OnboardingPlan.objects.filter(account_id=account_id)
        .order_by("milestones__position", "milestones__id")
        .values_list(*columns)
    )


@prepared
def _plan_criteria(plan_id: int) -> QuerySet[SuccessCriterion]:
    return SuccessCriterion.objects.filter(plan_id=plan_id).order_by("created_at", "pk")


def account_plan_rows(*, account: Account) -> tuple[OnboardingPlan | None, list[Milestone]]:
    """The account's plan and all its milestones (with who did them) in ONE query: a LEFT JOIN
    from the plan, so an empty plan still comes back. The account 360 shares it between the
    timeline source and the card (see ``account_onboarding_card``)."""
    rows = _plan_rows(account_id=account.pk)
    if not rows:
        return None, []
    width = len(_PLAN_COLUMNS)
    plan = OnboardingPlan(account=account, **dict(zip(_PLAN_COLUMNS, rows[0][:width], strict=True)))
    milestones = []
    for row in rows:
        values = dict(zip(_MILESTONE_COLUMNS, row[width : width + len(_MILESTONE_COLUMNS)], strict=True))
        if values["id"] is None:
            continue  # the plan has no milestones
        milestone = Milestone(plan=plan, **values)
        full_name, email = row[-2], row[-1]
        milestone.actor = full_name or email or ""
        milestones.append(milestone)
    return plan, milestones


def summary_from_milestones(
    milestones: list[Milestone], *, contract_start: dt.date, today: dt.date
) -> PlanSummary:
    """The same summary as ``with_summary`` computes in SQL, from milestones already loaded."""
    done = [m for m in milestones if m.status == MilestoneStatus.DONE]
    open_ = sorted(
        (m for m in milestones if m.status != MilestoneStatus.DONE),
        key=lambda m: (m.due_date, m.position, m.pk),
    )
    value_done = [m.done_on for m in done if m.delivers_value]
    return PlanSummary(
        milestones=len(milestones),
        done=len(done),
        overdue=sum(1 for m in open_ if m.due_date < today),
        blocked=sum(1 for m in milestones if m.status == MilestoneStatus.BLOCKED),
        weight=sum(m.weight for m in milestones),
        done_weight=sum(m.weight for m in done),
        next_due=open_[0].due_date if open_ else None,
        next_name=open_[0].name if open_ else None,
        first_value_on=min(value_done) if value_done else None,
        value_milestones=sum(1 for m in milestones if m.delivers_value),
        contract_start=contract_start,
        today=today,
    )


@dataclass(frozen=True)
class AccountCard:
    plan: OnboardingPlan
    summary: PlanSummary
    criteria: list[SuccessCriterion]


STASH = "_onboarding_rows"  # set on the Account instance by the timeline source, taken by the card


def account_onboarding_card(*, account: Account, today: dt.date | None = None) -> AccountCard | None:
    """Plan progress, expectations, success criteria and time-to-value for the account 360.

    The plan and its milestones come from the query the milestone timeline source just made
    for the same account object (its first page), else from one query of their own; the
    success criteria are one more query when there is a plan. So the card costs the page no
    query without a plan and one with one, whatever the number of milestones or criteria.
    """
    today = today or timezone.localdate()
    stashed = account.__dict__.pop(STASH, None)
    plan, milestones = stashed if stashed is not None else account_plan_rows(account=account)
    if plan is None:
        return None
    criteria = _plan_criteria(plan_id=plan.pk)
    summary = summary_from_milestones(milestones, contract_start=account.contract_start, today=today)
    return AccountCard(plan=plan, summary=summary, criteria=criteria)


def account_time_to_value(*, account: Account) -> int | None:
    """Days from the contract start to the first value milestone done; None when not reached."""
    first = Milestone.objects.filter(
        plan__account=account, status=MilestoneStatus.DONE, delivers_value=True
    ).aggregate(first=Min("done_on"))["first"]
    return None if first is None else (first - account.contract_start).days


# ---------------------------------------------------------------- the plan page


@dataclass
class PlanPage:
    plan: OnboardingPlan
    summary: PlanSummary
    milestones: list[Milestone]
    criteria: list[SuccessCriterion]
    share_link: ShareLink | None
    celebrated: dict[int, int] = field(default_factory=dict)  # milestone id -> emails sent


def plan_page(*, account: Account, today: dt.date | None = None) -> PlanPage | None:
    """Everything the plan page shows, in five queries whatever the plan's size."""
    today = today or timezone.localdate()
    plan = with_summary(
        OnboardingPlan.objects.filter(account=account).select_related("template"), today=today
    ).first()
    if plan is None:
        return None
    plan.account = account
    milestones = list(plan.milestones.select_related("done_by").order_by("position", "pk"))
    for milestone in milestones:
        milestone.plan = plan
        milestone.overdue = milestone.is_overdue(today)
    criteria = list(plan.criteria.order_by("created_at", "pk"))
    link = plan.share_links.filter(revoked_at__isnull=True).select_related("contact").first()
    celebrated = dict(
        Celebration.objects.filter(milestone__plan=plan, status=CelebrationStatus.SENT)
        .order_by()
        .values("milestone_id")
        .annotate(n=Count("id"))
        .values_list("milestone_id", "n")
    )
    return PlanPage(
        plan=plan,
        summary=summary_of(plan, today),
        milestones=milestones,
        criteria=criteria,
        share_link=link,
        celebrated=celebrated,
    )


# ---------------------------------------------------------------- the customer's shared plan


def shared_plan(*, link: ShareLink, today: dt.date | None = None) -> dict[str, Any]:
    """What the customer's page shows, and nothing more: the plan's name and progress, the
    customer-side milestones and the success criteria. Three queries."""
    today = today or timezone.localdate()
    plan = link.plan
    summary = plan_summary(plan=plan, today=today)
    steps = list(plan.milestones.filter(owner_side=OwnerSide.CUSTOMER).order_by("position", "pk"))
    for step in steps:
        step.overdue = step.is_overdue(today)
    criteria = list(plan.criteria.order_by("created_at", "pk"))
    return {
        "account_name": plan.account.name,
        "plan_name": plan.name,
        "summary": summary,
        "steps": steps,
        "steps_done": sum(1 for s in steps if s.is_done),
        "criteria": criteria,
        "today": today,
    }


# ---------------------------------------------------------------- the board


BOARD_STATUSES = ("open", "behind", "on_track", "done", "all")
# Sorted by the plans' cached columns (services.plan_refresh keeps them), so a page is an index
# scan whatever the number of plans. "Behind first, then the soonest due" is one key: the
# earliest due day not done yet (a plan is behind exactly when that day has passed).
BOARD_SORTS = {
    "schedule": (F("next_due_on").asc(nulls_last=True), "account__name", "pk"),
    "progress": ("progress", "account__name", "pk"),
    "-progress": ("-progress", "account__name", "pk"),
    "account": ("account__name", "pk"),
    "start": ("start_date", "account__name", "pk"),
    "-start": ("-start_date", "account__name", "pk"),
}


@dataclass(frozen=True)
class BoardFilters:
    q: str = ""
    status: str = "open"
    segment: str = ""
    owner_id: int | None = None
    template_id: int | None = None
    sort: str = "schedule"


def board_rows(
    *, user: User, filters: BoardFilters, today: dt.date | None = None
) -> QuerySet[OnboardingPlan]:
    """Plans of the accounts the user sees, behind schedule first (then the soonest due), the
    finished last. One query for a page of any size; ``board_summaries`` adds the figures of
    the page's plans in one more."""
    today = today or timezone.localdate()
    qs = visible_plans(user).select_related("account", "account__owner")
    if filters.q:
        qs = qs.filter(Q(account__name__icontains=filters.q) | Q(account__domain__icontains=filters.q))
    if filters.segment:
        qs = qs.filter(account__segment=filters.segment)
    if filters.owner_id:
        qs = qs.filter(account__owner_id=filters.owner_id)
    if filters.template_id:
        qs = qs.filter(template_id=filters.template_id)
    if filters.status in ("open", "behind", "on_track"):
        qs = qs.filter(completed_at__isnull=True)
    elif filters.status == "done":
        qs = qs.filter(completed_at__isnull=False)
    if filters.status == "behind":
        qs = qs.filter(next_due_on__lt=today)
    elif filters.status == "on_track":
        qs = qs.filter(Q(next_due_on__gte=today) | Q(next_due_on__isnull=True))
    return qs.order_by(*BOARD_SORTS.get(filters.sort, BOARD_SORTS["schedule"]))


def board_summaries(plans: list[OnboardingPlan], *, today: dt.date | None = None) -> None:
    """Attach ``summary`` (a PlanSummary, computed from the milestones) to each plan of a page:
    one query whatever the page size."""
    today = today or timezone.localdate()
    by_id = {
        plan.pk: plan
        for plan in with_summary(OnboardingPlan.objects.filter(pk__in=[p.pk for p in plans]), today=today)
    }
    for plan in plans:
        annotated = by_id[plan.pk]
        annotated.account = plan.account
        plan.summary = summary_of(annotated, today)


def board_counts(*, user: User, today: dt.date | None = None) -> dict[str, int]:
    """Open plans, behind, on track and done, for the board's tabs: one query."""
    today = today or timezone.localdate()
    open_ = Q(completed_at__isnull=True)
    row = visible_plans(user).aggregate(
        open=Count("id", filter=open_),
        behind=Count("id", filter=open_ & Q(next_due_on__lt=today)),
        done=Count("id", filter=Q(completed_at__isnull=False)),
        all=Count("id"),
    )
    row["on_track"] = row["open"] - row["behind"]
    return row


# ---------------------------------------------------------------- time-to-value


@dataclass(frozen=True)
class TtvGroup:
    key: str
    label: str
    reached: int  # accounts whose first value milestone is done
    waiting: int  # accounts whose plan has a value milestone not reached yet
    median_days: float | None  # None: no data

    @property
    def accounts(self) -> int:
        return self.reached + self.waiting


TTV_GROUPINGS = ("segment", "cohort", "tier", "plan", "owner", "all")


def _group_label(by: str, key: Any, owners: dict[int, str]) -> str:
    if key in (None, ""):
        return _("Unassigned") if by == "owner" else _("None")
    if by == "segment":
        return str(dict(Segment.choices).get(key, key))
    if by == "tier":
        return str(dict(Tier.choices).get(key, key))
    if by == "cohort":
        return formats.date_format(key, "M Y")
    if by == "owner":
        return owners.get(key, str(key))
    if by == "all":
        return _("All accounts")
    return str(key)


def _ttv_rows(accounts: QuerySet[Account] | None) -> list[tuple]:
    """Per account whose plan has a value milestone: (segment, tier, commercial plan, owner id,
    contract start, first value day or None). One query."""
    plans = OnboardingPlan.objects.all()
    if accounts is not None:
        plans = plans.filter(account__in=accounts.values("pk"))
    # Joined with its value milestones only (an inner join: plans without one drop out).
    return list(
        plans.filter(milestones__delivers_value=True)
        .annotate(first_value=Min("milestones__done_on", filter=DONE))
        .order_by()
        .values_list(
            "account__segment",
            "account__tier",
            "account__plan",
            "account__owner_id",
            "account__contract_start",
            "first_value",
        )
    )


def _ttv_key(by: str, row: tuple) -> Any:
    segment, tier, plan, owner_id, contract_start, _first = row
    return {
        "segment": segment,
        "tier": tier,
        "plan": plan,
        "owner": owner_id,
        "cohort": contract_start.replace(day=1),
        "all": "all",
    }[by]


def _ttv_groups(rows: list[tuple], by: str) -> list[TtvGroup]:
    days: dict[Any, list[int]] = defaultdict(list)
    waiting: dict[Any, int] = defaultdict(int)
    for row in rows:
        key = _ttv_key(by, row)
        contract_start, first_value = row[4], row[5]
        if first_value is None:
            waiting[key] += 1
        else:
            days[key].append((first_value - contract_start).days)
    keys = set(days) | set(waiting)
    owners: dict[int, str] = {}
    if by == "owner" and keys:
        owners = {u.pk: str(u) for u in User.objects.filter(pk__in=[k for k in keys if k])}
    order = {
        "segment": lambda k: (Segment.values.index(k) if k in Segment.values else 99, str(k)),
        "tier": lambda k: (Tier.values.index(k) if k in Tier.values else 99, str(k)),
        "cohort": lambda k: k,
    }.get(by, lambda k: (k in (None, ""), _group_label(by, k, owners).casefold()))
    return [
        TtvGroup(
            key=str(key),
            label=_group_label(by, key, owners),
            reached=len(days.get(key, [])),
            waiting=waiting.get(key, 0),
            median_days=float(statistics.median(days[key])) if days.get(key) else None,
        )
        for key in sorted(keys, key=order)
    ]


def _check_groupings(groupings) -> None:
    for by in groupings:
        if by not in TTV_GROUPINGS:
            raise ValueError(f"time_to_value_median(by={by!r}): use one of {', '.join(TTV_GROUPINGS)}")


def time_to_value_median(*, by: str, accounts: QuerySet[Account] | None = None) -> list[TtvGroup]:
    """Median time-to-value (days) of the accounts in each group: ``segment``, ``cohort`` (the
    month of the contract start, i.e. the signup cohort), ``tier``, ``plan`` (commercial plan),
    ``owner`` or ``all``; ``accounts`` restricts it (e.g. ``Account.objects.visible_to(user)``).
    Only accounts whose plan has a value milestone count; those that have not reached it yet
    are ``waiting``; a group where none has reached it says None ("no data"). One query (plus
    one for the owners' names)."""
    _check_groupings([by])
    return _ttv_groups(_ttv_rows(accounts), by)


def time_to_value_report(
    *, by: tuple[str, ...] = ("all", "segment", "cohort"), accounts: QuerySet[Account] | None = None
) -> dict[str, list[TtvGroup]]:
    """Several groupings from the same one query: ``{grouping: [TtvGroup, ...]}``."""
    _check_groupings(by)
    rows = _ttv_rows(accounts)
    return {grouping: _ttv_groups(rows, grouping) for grouping in by}


# ---------------------------------------------------------------- funnel


@dataclass(frozen=True)
class FunnelStep:
    position: int
    name: str
    delivers_value: bool
    reached: int
    percent: float | None
    median_days: float | None


@dataclass(frozen=True)
class Funnel:
    template: PlanTemplate
    plans: int
    steps: list[FunnelStep]


def template_funnel(*, template: PlanTemplate, accounts: QuerySet[Account] | None = None) -> Funnel:
    """For each milestone of a template: how many accounts on a plan from it reached it, and the
    median days from the contract start to get there. Three queries."""
    plans = OnboardingPlan.objects.filter(template=template)
    if accounts is not None:
        plans = plans.filter(account__in=accounts.values("pk"))
    total = plans.count()
    steps_source = list(template.milestones.order_by("position", "pk"))
    rows = (
        Milestone.objects.filter(
            plan__in=plans.values("pk"), status=MilestoneStatus.DONE, template_milestone__template=template
        )
        .values_list("template_milestone_id", "done_on", "plan__account__contract_start")
        .order_by()
    )
    days: dict[int, list[int]] = defaultdict(list)
    for tm_id, done_on, contract_start in rows:
        days[tm_id].append((done_on - contract_start).days)
    steps = [
        FunnelStep(
            position=index + 1,
            name=tm.name,
            delivers_value=tm.delivers_value,
            reached=len(days[tm.pk]),
            percent=(len(days[tm.pk]) * 100 / total) if total else None,
            median_days=float(statistics.median(days[tm.pk])) if days[tm.pk] else None,
        )
        for index, tm in enumerate(steps_source)
    ]
    return Funnel(template=template, plans=total, steps=steps)
