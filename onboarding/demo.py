"""Demo onboarding data: plans from the segment templates for the accounts of the last year,
with milestones done at a realistic pace (some early, many late, a few stalled or blocked),
expectations, success criteria and a few share links. Deterministic: the same ``rng`` seed and
the same accounts give the same rows.

``accounts.demo.seed_demo`` calls it once the accounts are written, inside its transaction::

    from onboarding.demo import demo_onboarding_seed

    report.onboarding = demo_onboarding_seed(
        rng=random.Random(f"{seed}/onboarding"),
        accounts=Account.objects.using(using).filter(pk__gte=first_new_account_id),
        today=today,
        using=using,
    )
"""

from __future__ import annotations

import base64
import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from accounts.models import Account, LifecycleStage

from .models import (
    Milestone,
    MilestoneStatus,
    MilestoneTemplate,
    OnboardingPlan,
    PlanTemplate,
    ShareLink,
    SuccessCriterion,
)
from .selectors import percent_of

WINDOW_DAYS = 365  # accounts whose contract started within this many days get a plan
BATCH = 2_000

EXPECTATIONS = [
    "Replace the spreadsheets the team uses for weekly reporting.",
    "Get every regional manager looking at the same numbers by the end of the quarter.",
    "Cut the time to prepare the board pack from three days to one.",
    "Roll out to the support team first, then sales.",
    "Prove the value to the CFO before the budget review.",
    "Self-serve reporting for the operations team, without waiting on IT.",
    "Connect the CRM and the billing system so renewals are visible in one place.",
]
BLOCKERS = [
    "Waiting for their IT team to approve SSO.",
    "Customer's admin on leave for two weeks.",
    "Data export from their old tool is incomplete.",
    "Security review still open on their side.",
    "Champion changed roles; finding a new owner.",
]
CRITERIA = [
    ("Weekly active users", "users", (5, 20), (40, 120)),
    ("Reports shared per week", "reports", (0, 3), (10, 30)),
    ("Time to prepare the monthly report", "hours", (16, 40), (2, 6)),
    ("Teams onboarded", "teams", (0, 1), (4, 10)),
    ("Support tickets per week", "tickets", (20, 50), (5, 15)),
]


@dataclass
class OnboardingDemoReport:
    plans: int = 0
    milestones: int = 0
    criteria: int = 0
    share_links: int = 0


def _templates(using: str) -> dict[str, PlanTemplate]:
    """The automatic template of each segment (commercial-plan templates are left to the app)."""
    templates = (
        PlanTemplate.objects.using(using)
        .filter(is_active=True, auto_assign=True, account_plan="")
        .exclude(segment="")
        .prefetch_related(
            Prefetch("milestones", queryset=MilestoneTemplate.objects.order_by("position", "pk"))
        )
        .order_by("pk")
    )
    return {t.segment: t for t in templates if t.milestones.all()}


def _noon(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))


def demo_onboarding_seed(
    *,
    rng: random.Random,
    accounts: QuerySet[Account] | Iterable[Account],
    today: dt.date,
    using: str = "default",
) -> OnboardingDemoReport:
    """Plans for the given accounts that started within the last year and have none yet."""
    report = OnboardingDemoReport()
    templates = _templates(using)
    if not templates:
        return report
    ids_qs = accounts.values("pk") if isinstance(accounts, QuerySet) else [a.pk for a in accounts]
    rows = list(
        Account.objects.using(using)
        .filter(
            pk__in=ids_qs,
            contract_start__gte=today - dt.timedelta(days=WINDOW_DAYS),
            contract_start__lte=today,
        )
        .exclude(onboarding_plan__isnull=False)
        .order_by("pk")
        .values_list("pk", "segment", "contract_start", "owner_id", "churned_at", "lifecycle_stage")
    )
    for start in range(0, len(rows), BATCH):
        _seed_batch(rng, rows[start : start + BATCH], templates, today, using, report)
    return report


def _seed_batch(rng, rows, templates, today, using, report) -> None:
    plans: list[OnboardingPlan] = []
    plan_rows = []
    for account_id, segment, contract_start, owner_id, churned_at, stage in rows:
        template = templates.get(segment)
        if template is None:
            continue
        plans.append(
            OnboardingPlan(
                account_id=account_id,
                template=template,
                name=template.name,
                start_date=contract_start,
                expectations=rng.choice(EXPECTATIONS) if rng.random() < 0.8 else "",
                created_by_id=owner_id,
                created_at=_noon(contract_start),
            )
        )
        plan_rows.append((template, contract_start, owner_id, churned_at, stage))
    if not plans:
        return
    # Everything is planned first (the plan's cached columns need its milestones), then written
    # plans first: bulk_create fills the children's plan ids from the saved plans.
    milestones: list[Milestone] = []
    criteria: list[SuccessCriterion] = []
    links: list[ShareLink] = []
    for plan, (template, contract_start, owner_id, churned_at, stage) in zip(plans, plan_rows, strict=True):
        days_in = (min(today, churned_at or today) - contract_start).days
        # Pace: 1 is on schedule; most customers run a little late, some much later.
        pace = rng.lognormvariate(0.1, 0.35)
        troubled = churned_at is not None or stage == LifecycleStage.AT_RISK
        stall_at = rng.randint(1, 4) if (troubled and rng.random() < 0.7) or rng.random() < 0.06 else None
        reached = 0
        last_done: dt.date | None = None
        all_done = True
        for index, tm in enumerate(template.milestones.all()):
            due = contract_start + dt.timedelta(days=tm.due_day)
            expected = max(0, round(tm.due_day * pace + rng.randint(-3, 6)))
            done_on = contract_start + dt.timedelta(days=expected)
            if last_done and done_on < last_done:
                done_on = last_done
            milestone = Milestone(
                plan=plan,
                template_milestone=tm,
                position=index,
                name=tm.name,
                description=tm.description,
                due_date=due,
                owner_side=tm.owner_side,
                weight=tm.weight,
                delivers_value=tm.delivers_value,
                celebrate=tm.celebrate,
            )
            is_done = expected <= days_in and done_on <= today and (stall_at is None or index < stall_at)
            if is_done:
                milestone.status = MilestoneStatus.DONE
                milestone.done_on = done_on
                milestone.done_at = milestone.first_done_at = _noon(done_on)
                milestone.done_by_id = owner_id if tm.owner_side == "csm" or rng.random() < 0.5 else None
                last_done = done_on
                reached += 1
            else:
                all_done = False
                if due < today and rng.random() < 0.12:
                    milestone.status = MilestoneStatus.BLOCKED
                    milestone.blocked_reason = rng.choice(BLOCKERS)
                elif reached == index and rng.random() < 0.6:
                    milestone.status = MilestoneStatus.IN_PROGRESS
            milestones.append(milestone)
        if all_done and last_done is not None:
            plan.completed_at = _noon(last_done)
        plan_milestones = milestones[-len(template.milestones.all()) :]
        open_due = [m.due_date for m in plan_milestones if m.status != MilestoneStatus.DONE]
        plan.next_due_on = min(open_due) if open_due else None
        plan.progress = percent_of(
            sum(m.weight for m in plan_milestones),
            sum(m.weight for m in plan_milestones if m.status == MilestoneStatus.DONE),
        )
        for metric, unit, baseline_range, target_range in rng.sample(CRITERIA, rng.randint(1, 3)):
            baseline = Decimal(rng.randint(*baseline_range))
            target = Decimal(rng.randint(*target_range))
            share = min(1.0, reached / max(1, len(template.milestones.all())) * rng.uniform(0.6, 1.2))
            current = (baseline + (target - baseline) * Decimal(str(round(share, 2)))).quantize(Decimal("1"))
            lower_better = target < baseline
            achieved = current <= target if lower_better else current >= target
            criteria.append(
                SuccessCriterion(
                    plan=plan,
                    metric=metric,
                    unit=unit,
                    baseline=baseline,
                    target=target,
                    current=current if reached else None,
                    due_date=contract_start + dt.timedelta(days=90),
                    achieved_on=(last_done or today) if achieved and reached else None,
                )
            )
        if rng.random() < 0.1:
            selector = base64.urlsafe_b64encode(rng.getrandbits(96).to_bytes(12, "big")).decode()
            links.append(ShareLink(plan=plan, selector=selector, language="en", created_by_id=owner_id))
    OnboardingPlan.objects.using(using).bulk_create(plans)
    if plans[0].pk is None:  # a backend that does not return ids
        by_account = dict(
            OnboardingPlan.objects.using(using)
            .filter(account_id__in=[p.account_id for p in plans])
            .values_list("account_id", "pk")
        )
        for plan in plans:
            plan.pk = plan.id = by_account[plan.account_id]
    Milestone.objects.using(using).bulk_create(milestones, batch_size=5_000)
    SuccessCriterion.objects.using(using).bulk_create(criteria, batch_size=5_000)
    ShareLink.objects.using(using).bulk_create(links, ignore_conflicts=True)
    report.plans += len(plans)
    report.milestones += len(milestones)
    report.criteria += len(criteria)
    report.share_links += len(links)
