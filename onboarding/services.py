"""Every write on onboarding that carries a business rule. Views, the API, the admin, tasks and
accounts.services.account_create call these; none of them repeats a rule.

Dates are calendar days in the platform's time zone (``timezone.localdate``). A milestone is
overdue when its due day has passed and it is not done.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import logging
import re
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Case, Count, IntegerField, Min, Prefetch, Q, QuerySet, Sum, Value, When
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from accounts.models import Account, Contact, Language, LifecycleStage, Segment
from audit.models import AuditAction
from audit.services import audit_record
from team.models import User

from . import signals
from .models import (
    MAX_DUE_DAY,
    MAX_WEIGHT,
    Celebration,
    CelebrationStatus,
    Milestone,
    MilestoneStatus,
    MilestoneTemplate,
    OnboardingPlan,
    OwnerSide,
    PlanTemplate,
    ShareLink,
    SuccessCriterion,
)

log = logging.getLogger(__name__)

MAX_MILESTONES = 100  # per plan or template
MAX_CRITERIA = 50  # per plan
CELEBRATE_WITHIN_DAYS = 14  # a milestone back-dated further than this is recorded without an email
SHARE_SALT = "onboarding.share-link"
_SELECTOR_RE = re.compile(r"[A-Za-z0-9_-]{16}")
_VERIFIER_RE = re.compile(r"[A-Za-z0-9_-]{43}")
_POSITION_PARK = 10_000  # positions are moved above this while reordering (unique per plan)
_MAX_AMOUNT = Decimal("99999999999999.99")

MILESTONE_FIELDS = ("name", "description", "due_date", "owner_side", "weight", "delivers_value", "celebrate")
CRITERION_FIELDS = ("metric", "unit", "baseline", "target", "current", "due_date", "achieved")
TEMPLATE_FIELDS = ("name", "description", "segment", "account_plan", "auto_assign", "is_active")
TEMPLATE_MILESTONE_FIELDS = (
    "name",
    "description",
    "due_day",
    "owner_side",
    "weight",
    "delivers_value",
    "celebrate",
)


def _raise(errors: dict[str, Any]) -> None:
    if errors:
        raise ValidationError(errors)


def _unknown_fields(data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in sorted(unknown)})


def _require_manager(by: User | None) -> None:
    if by is not None and not by.sees_all_accounts:
        raise PermissionDenied(_("Only managers and admins edit plan templates."))


def _park_and_number(queryset: QuerySet, ordered_ids: list[int]) -> None:
    """Give the rows of ``queryset`` the positions 0..n-1 in ``ordered_ids`` order, in two
    statements: first parked above the range, so the unique (parent, position) never collides."""
    if not ordered_ids:
        return
    queryset.filter(pk__in=ordered_ids).update(
        position=Case(
            *[When(pk=pk, then=Value(_POSITION_PARK + index)) for index, pk in enumerate(ordered_ids)],
            output_field=IntegerField(),
        )
    )
    queryset.filter(pk__in=ordered_ids).update(
        position=Case(
            *[When(pk=pk, then=Value(index)) for index, pk in enumerate(ordered_ids)],
            output_field=IntegerField(),
        )
    )


def _text(value: Any) -> str:
    return (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()


# ---------------------------------------------------------------- templates


def template_for_account(*, account: Account) -> PlanTemplate | None:
    """The active automatic template that fits the account best (a commercial-plan match beats a
    segment match; both beat either), with its milestones prefetched; None when none fits."""
    plan_name = (account.plan or "").strip()
    candidates = (
        PlanTemplate.objects.filter(is_active=True, auto_assign=True)
        .filter(Q(segment=account.segment) | Q(segment=""))
        .filter(Q(account_plan="") | Q(account_plan__iexact=plan_name) if plan_name else Q(account_plan=""))
        .prefetch_related(
            Prefetch("milestones", queryset=MilestoneTemplate.objects.order_by("position", "pk"))
        )
    )
    ranked = sorted(
        (t for t in candidates if t.milestones.all()),
        key=lambda t: (bool(t.account_plan) * 2 + bool(t.segment), -t.pk),
        reverse=True,
    )
    return ranked[0] if ranked else None


def _template_errors(template: PlanTemplate) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not template.name:
        errors.setdefault("name", []).append(_("Name the template."))
    elif len(template.name) > 120:
        errors.setdefault("name", []).append(_("Keep the name under 120 characters."))
    elif PlanTemplate.objects.filter(name__iexact=template.name).exclude(pk=template.pk).exists():
        errors.setdefault("name", []).append(_("Another template already has this name."))
    if template.segment not in ("", *Segment.values):
        errors.setdefault("segment", []).append(_("Choose a segment, or any segment."))
    if len(template.account_plan) > 100:
        errors.setdefault("account_plan", []).append(_("Keep the plan name under 100 characters."))
    if len(template.description) > 2000:
        errors.setdefault("description", []).append(_("Keep the description under 2,000 characters."))
    if template.auto_assign and not (template.segment or template.account_plan):
        errors.setdefault("auto_assign", []).append(
            _("To start automatically, the template needs a segment or an account plan.")
        )
    if template.auto_assign and template.is_active and not errors:
        clash = (
            PlanTemplate.objects.filter(
                is_active=True,
                auto_assign=True,
                segment=template.segment,
                account_plan__iexact=template.account_plan,
            )
            .exclude(pk=template.pk)
            .first()
        )
        if clash is not None:
            errors.setdefault("auto_assign", []).append(
                _(
                    "“%(name)s” already starts automatically for this segment and plan; "
                    "turn it off there first."
                )
                % {"name": clash.name}
            )
    return errors


def _template_apply(template: PlanTemplate, data: dict[str, Any]) -> None:
    for field, value in data.items():
        if field in ("name", "description", "account_plan", "segment"):
            value = _text(value)
        elif field in ("auto_assign", "is_active"):
            value = bool(value)
        setattr(template, field, value)


@transaction.atomic
def template_create(*, data: dict[str, Any], by: User | None = None) -> PlanTemplate:
    _require_manager(by)
    _unknown_fields(data, TEMPLATE_FIELDS)
    template = PlanTemplate()
    _template_apply(template, data)
    _raise(_template_errors(template))
    template.save()
    return template


@transaction.atomic
def template_update(*, template: PlanTemplate, data: dict[str, Any], by: User | None = None) -> PlanTemplate:
    _require_manager(by)
    _unknown_fields(data, TEMPLATE_FIELDS)
    template = PlanTemplate.objects.select_for_update().get(pk=template.pk)
    _template_apply(template, data)
    _raise(_template_errors(template))
    template.save()
    return template


def _int_in(value: Any, low: int, high: int) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    if isinstance(value, float | Decimal) and number != value:
        return None
    return number if low <= number <= high else None


def _milestone_common_errors(obj: Milestone | MilestoneTemplate) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not obj.name:
        errors["name"] = [_("Name the milestone.")]
    elif len(obj.name) > 150:
        errors["name"] = [_("Keep the name under 150 characters.")]
    if len(obj.description or "") > 2000:
        errors["description"] = [_("Keep the description under 2,000 characters.")]
    if obj.owner_side not in OwnerSide.values:
        errors["owner_side"] = [_("Choose CSM or customer.")]
    if _int_in(obj.weight, 1, MAX_WEIGHT) is None:
        errors["weight"] = [_("Enter a weight from 1 to %(max)s.") % {"max": MAX_WEIGHT}]
    return errors


def _template_milestone_apply(milestone: MilestoneTemplate, data: dict[str, Any]) -> dict[str, list[str]]:
    for field, value in data.items():
        if field in ("name", "description"):
            value = _text(value)
        elif field in ("delivers_value", "celebrate"):
            value = bool(value)
        setattr(milestone, field, value)
    errors = _milestone_common_errors(milestone)
    due_day = _int_in(milestone.due_day, 0, MAX_DUE_DAY)
    if due_day is None:
        errors["due_day"] = [_("Enter a day from 0 to %(max)s after the start.") % {"max": MAX_DUE_DAY}]
    else:
        milestone.due_day = due_day
    if "weight" not in errors:
        milestone.weight = int(milestone.weight)
    return errors


@transaction.atomic
def template_milestone_add(
    *, template: PlanTemplate, data: dict[str, Any], by: User | None = None
) -> MilestoneTemplate:
    _require_manager(by)
    _unknown_fields(data, TEMPLATE_MILESTONE_FIELDS)
    template = PlanTemplate.objects.select_for_update().get(pk=template.pk)
    existing = list(template.milestones.values_list("position", flat=True))
    if len(existing) >= MAX_MILESTONES:
        raise ValidationError({"name": _("A template has at most %(n)s milestones.") % {"n": MAX_MILESTONES}})
    milestone = MilestoneTemplate(template=template, position=max(existing, default=-1) + 1)
    _raise(_template_milestone_apply(milestone, data))
    milestone.save()
    PlanTemplate.objects.filter(pk=template.pk).update(updated_at=timezone.now())
    return milestone


@transaction.atomic
def template_milestone_update(
    *, milestone: MilestoneTemplate, data: dict[str, Any], by: User | None = None
) -> MilestoneTemplate:
    _require_manager(by)
    if "template" in data and getattr(data["template"], "pk", data["template"]) != milestone.template_id:
        raise ValidationError({"template": _("A milestone stays in its template; add it to the other one.")})
    data = {k: v for k, v in data.items() if k != "template"}
    _unknown_fields(data, TEMPLATE_MILESTONE_FIELDS)
    milestone = MilestoneTemplate.objects.select_for_update().get(pk=milestone.pk)
    _raise(_template_milestone_apply(milestone, data))
    milestone.save()
    return milestone


@transaction.atomic
def template_milestone_remove(*, milestone: MilestoneTemplate, by: User | None = None) -> None:
    _require_manager(by)
    template_id = milestone.template_id
    MilestoneTemplate.objects.filter(pk=milestone.pk).delete()
    ids = list(
        MilestoneTemplate.objects.filter(template_id=template_id)
        .order_by("position", "pk")
        .values_list("pk", flat=True)
    )
    _park_and_number(MilestoneTemplate.objects.filter(template_id=template_id), ids)


def _reorder_check(current: list[int], order: list[Any], field: str = "order") -> list[int]:
    try:
        wanted = [int(pk) for pk in order]
    except (TypeError, ValueError):
        raise ValidationError({field: _("Send the milestone ids in their new order.")}) from None
    if len(wanted) != len(set(wanted)):
        raise ValidationError({field: _("Each milestone may appear once.")})
    if set(wanted) != set(current):
        raise ValidationError(
            {field: _("Send exactly this plan's milestones; a milestone cannot move to another plan.")}
        )
    return wanted


@transaction.atomic
def template_milestones_reorder(*, template: PlanTemplate, order: list[int], by: User | None = None) -> None:
    _require_manager(by)
    template = PlanTemplate.objects.select_for_update().get(pk=template.pk)
    current = list(template.milestones.values_list("pk", flat=True))
    _park_and_number(MilestoneTemplate.objects.filter(template=template), _reorder_check(current, order))


@transaction.atomic
def template_milestone_move(*, milestone: MilestoneTemplate, direction: str, by: User | None = None) -> None:
    _require_manager(by)
    template = PlanTemplate.objects.select_for_update().get(pk=milestone.template_id)
    ids = list(template.milestones.order_by("position", "pk").values_list("pk", flat=True))
    _park_and_number(
        MilestoneTemplate.objects.filter(template=template), _moved(ids, milestone.pk, direction)
    )


def _moved(ids: list[int], pk: int, direction: str) -> list[int]:
    if direction not in ("up", "down"):
        raise ValidationError({"direction": _("Move up or down.")})
    index = ids.index(pk)
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(ids):
        ids[index], ids[target] = ids[target], ids[index]
    return ids


# ---------------------------------------------------------------- plans


def _from_template(plan: OnboardingPlan, tm: MilestoneTemplate, position: int) -> Milestone:
    return Milestone(
        plan=plan,
        template_milestone=tm,
        position=position,
        name=tm.name,
        description=tm.description,
        due_date=plan.start_date + dt.timedelta(days=tm.due_day),
        owner_side=tm.owner_side,
        weight=tm.weight,
        delivers_value=tm.delivers_value,
        celebrate=tm.celebrate,
    )


def _plan_create(
    *, account: Account, template: PlanTemplate | None, start_date: dt.date, by: User | None, name: str = ""
) -> OnboardingPlan:
    due_days = [tm.due_day for tm in template.milestones.all()] if template is not None else []
    plan = OnboardingPlan.objects.create(
        account=account,
        template=template,
        name=(template.name if template else (name or _("Onboarding plan")))[:120],
        start_date=start_date,
        created_by=by,
        next_due_on=start_date + dt.timedelta(days=min(due_days)) if due_days else None,
        progress=0,
    )
    if template is not None:
        Milestone.objects.bulk_create(
            [_from_template(plan, tm, index) for index, tm in enumerate(template.milestones.all())]
        )
    return plan


@transaction.atomic
def plan_start(
    *,
    account: Account,
    template: PlanTemplate | None = None,
    start_date: dt.date | None = None,
    by: User | None = None,
    name: str = "",
) -> OnboardingPlan:
    """Start an account's plan from a template (or empty, to build by hand). One plan per account."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    start_date = start_date or account.contract_start
    errors: dict[str, list[str]] = {}
    if OnboardingPlan.objects.filter(account=account).exists():
        errors["template"] = [_("This account already has an onboarding plan; switch its template instead.")]
    if template is not None and not template.is_active:
        errors["template"] = [_("This template is no longer in use; choose another.")]
    if start_date < account.contract_start:
        errors["start_date"] = [
            _("The plan cannot start before the contract start (%(day)s).")
            % {"day": account.contract_start.isoformat()}
        ]
    if len(_text(name)) > 120:
        errors["name"] = [_("Keep the name under 120 characters.")]
    _raise(errors)
    if template is not None:
        template = PlanTemplate.objects.prefetch_related(
            Prefetch("milestones", queryset=MilestoneTemplate.objects.order_by("position", "pk"))
        ).get(pk=template.pk)
    return _plan_create(account=account, template=template, start_date=start_date, by=by, name=_text(name))


def plan_start_for_new_account(*, account: Account) -> OnboardingPlan | None:
    """Called by accounts.services.account_create: a new account in the Onboarding stage whose
    segment (or commercial plan) has an automatic template gets that plan. Four queries."""
    if account.lifecycle_stage != LifecycleStage.ONBOARDING or account.churned_at is not None:
        return None
    template = template_for_account(account=account)
    if template is None:
        return None
    with transaction.atomic():
        return _plan_create(account=account, template=template, start_date=account.contract_start, by=None)


@transaction.atomic
def plan_switch_template(
    *, plan: OnboardingPlan, template: PlanTemplate, by: User | None = None
) -> OnboardingPlan:
    """Use another template: milestones already done stay (they are history and time-to-value);
    the others are replaced by the new template's, due from the plan's start date."""
    plan = OnboardingPlan.objects.select_for_update().select_related("account").get(pk=plan.pk)
    if not template.is_active:
        raise ValidationError({"template": _("This template is no longer in use; choose another.")})
    if plan.template_id == template.pk:
        raise ValidationError({"template": _("The plan already uses this template.")})
    template = PlanTemplate.objects.prefetch_related(
        Prefetch("milestones", queryset=MilestoneTemplate.objects.order_by("position", "pk"))
    ).get(pk=template.pk)
    kept = list(plan.milestones.filter(status=MilestoneStatus.DONE).order_by("position", "pk"))
    plan.milestones.exclude(status=MilestoneStatus.DONE).delete()
    kept_names = {m.name.casefold() for m in kept}
    new = [
        _from_template(plan, tm, 0)
        for tm in template.milestones.all()
        if tm.name.casefold() not in kept_names
    ]
    order = {id(m): (m.due_date, 0, index) for index, m in enumerate(kept)}
    order.update({id(m): (m.due_date, 1, index) for index, m in enumerate(new)})
    merged = sorted([*kept, *new], key=lambda m: order[id(m)])
    final = {id(m): index for index, m in enumerate(merged)}
    kept_rows = Milestone.objects.filter(plan=plan, pk__in=[m.pk for m in kept])
    if kept:  # park the kept rows, insert the new ones at their places, then number the kept ones
        kept_rows.update(
            position=Case(
                *[When(pk=m.pk, then=Value(_POSITION_PARK + index)) for index, m in enumerate(kept)],
                output_field=IntegerField(),
            )
        )
    for m in new:
        m.position = final[id(m)]
    Milestone.objects.bulk_create(new)
    if kept:
        kept_rows.update(
            position=Case(
                *[When(pk=m.pk, then=Value(final[id(m)])) for m in kept], output_field=IntegerField()
            )
        )
    plan.template = template
    plan.name = template.name
    plan.save(update_fields=["template", "name", "updated_at"])
    plan_refresh(plan=plan, now=timezone.now())
    return plan


@transaction.atomic
def plan_shift(*, plan: OnboardingPlan, start_date: dt.date, by: User | None = None) -> OnboardingPlan:
    """Move the plan's start; every milestone not yet done moves by the same number of days."""
    plan = OnboardingPlan.objects.select_for_update().select_related("account").get(pk=plan.pk)
    contract_start = plan.account.contract_start
    if start_date is None:
        raise ValidationError({"start_date": _("Enter the new start date.")})
    if start_date < contract_start:
        raise ValidationError(
            {
                "start_date": _("The plan cannot start before the contract start (%(day)s).")
                % {"day": contract_start.isoformat()}
            }
        )
    delta = start_date - plan.start_date
    open_milestones = list(plan.milestones.exclude(status=MilestoneStatus.DONE))
    for milestone in open_milestones:
        milestone.due_date += delta
        if milestone.due_date < contract_start:
            raise ValidationError(
                {
                    "start_date": _(
                        "“%(name)s” would fall due on %(day)s, before the contract start; "
                        "choose a later date."
                    )
                    % {"name": milestone.name, "day": milestone.due_date.isoformat()}
                }
            )
    Milestone.objects.bulk_update(open_milestones, ["due_date"])
    plan.start_date = start_date
    plan.save(update_fields=["start_date", "updated_at"])
    plan_refresh(plan=plan)
    return plan


@transaction.atomic
def plan_expectations_set(
    *, plan: OnboardingPlan, expectations: str, by: User | None = None
) -> OnboardingPlan:
    expectations = _text(expectations).replace("\r\n", "\n")
    if len(expectations) > 5000:
        raise ValidationError({"expectations": _("Keep the expectations under 5,000 characters.")})
    OnboardingPlan.objects.filter(pk=plan.pk).update(expectations=expectations, updated_at=timezone.now())
    plan.expectations = expectations
    return plan


@transaction.atomic
def plan_delete(*, plan: OnboardingPlan, by: User | None = None) -> None:
    """Remove the plan with its milestones, criteria, links and celebration records."""
    audit_record(actor=by, action=AuditAction.DELETE, target=plan, details={"account_id": plan.account_id})
    OnboardingPlan.objects.filter(pk=plan.pk).delete()


# ---------------------------------------------------------------- milestones


def _milestone_apply(milestone: Milestone, data: dict[str, Any], contract_start: dt.date) -> dict:
    for field, value in data.items():
        if field in ("name", "description"):
            value = _text(value)
        elif field in ("delivers_value", "celebrate"):
            value = bool(value)
        setattr(milestone, field, value)
    errors = _milestone_common_errors(milestone)
    if not isinstance(milestone.due_date, dt.date):
        errors["due_date"] = [_("Enter the due date.")]
    elif milestone.due_date < contract_start:
        errors["due_date"] = [
            _("The due date cannot be before the contract start (%(day)s).")
            % {"day": contract_start.isoformat()}
        ]
    elif milestone.due_date > contract_start + dt.timedelta(days=MAX_DUE_DAY):
        errors["due_date"] = [_("Keep the due date within two years of the contract start.")]
    if "weight" not in errors:
        milestone.weight = int(milestone.weight)
    return errors


@transaction.atomic
def milestone_add(*, plan: OnboardingPlan, data: dict[str, Any], by: User | None = None) -> Milestone:
    _unknown_fields(data, MILESTONE_FIELDS)
    plan = OnboardingPlan.objects.select_for_update().select_related("account").get(pk=plan.pk)
    positions = list(plan.milestones.values_list("position", flat=True))
    if len(positions) >= MAX_MILESTONES:
        raise ValidationError({"name": _("A plan has at most %(n)s milestones.") % {"n": MAX_MILESTONES}})
    milestone = Milestone(plan=plan, position=max(positions, default=-1) + 1)
    _raise(_milestone_apply(milestone, data, plan.account.contract_start))
    milestone.save()
    plan_refresh(plan=plan, now=timezone.now())
    return milestone


@transaction.atomic
def milestone_update(*, milestone: Milestone, data: dict[str, Any], by: User | None = None) -> Milestone:
    """Change a milestone's name, description, due date, side, weight and flags (not its status:
    see milestone_status_set). A milestone never moves to another plan."""
    if "plan" in data and getattr(data["plan"], "pk", data["plan"]) != milestone.plan_id:
        raise ValidationError({"plan": _("A milestone stays on its plan; add a new one to the other plan.")})
    data = {k: v for k, v in data.items() if k != "plan"}
    _unknown_fields(data, MILESTONE_FIELDS)
    plan = OnboardingPlan.objects.select_for_update().select_related("account").get(pk=milestone.plan_id)
    milestone = Milestone.objects.get(pk=milestone.pk)
    _raise(_milestone_apply(milestone, data, plan.account.contract_start))
    milestone.save()
    plan_refresh(plan=plan)  # the due date or the weight may have changed
    return milestone


@transaction.atomic
def milestone_remove(*, milestone: Milestone, by: User | None = None) -> None:
    plan = OnboardingPlan.objects.select_for_update().get(pk=milestone.plan_id)
    Milestone.objects.filter(pk=milestone.pk).delete()
    ids = list(plan.milestones.order_by("position", "pk").values_list("pk", flat=True))
    _park_and_number(Milestone.objects.filter(plan=plan), ids)
    plan_refresh(plan=plan, now=timezone.now())


@transaction.atomic
def milestones_reorder(*, plan: OnboardingPlan, order: list[int], by: User | None = None) -> None:
    """Put the plan's milestones in ``order`` (all of them, each once; ids of another plan are refused)."""
    plan = OnboardingPlan.objects.select_for_update().get(pk=plan.pk)
    current = list(plan.milestones.values_list("pk", flat=True))
    _park_and_number(Milestone.objects.filter(plan=plan), _reorder_check(current, order))


@transaction.atomic
def milestone_move(*, milestone: Milestone, direction: str, by: User | None = None) -> None:
    plan = OnboardingPlan.objects.select_for_update().get(pk=milestone.plan_id)
    ids = list(plan.milestones.order_by("position", "pk").values_list("pk", flat=True))
    _park_and_number(Milestone.objects.filter(plan=plan), _moved(ids, milestone.pk, direction))


def _done_at(done_on: dt.date, now: dt.datetime) -> dt.datetime:
    """When a milestone done on ``done_on`` sits on the timeline: now if today, else noon that day."""
    if done_on == timezone.localdate(now):
        return now
    return timezone.make_aware(dt.datetime.combine(done_on, dt.time(12, 0)))


@transaction.atomic
def milestone_status_set(
    *,
    milestone: Milestone,
    status: str,
    done_on: dt.date | None = None,
    blocked_reason: str = "",
    by: User | None = None,
    now: dt.datetime | None = None,
) -> Milestone:
    """Not started, in progress, done (with the date and who) or blocked (with the reason).

    Done for the first time: the "milestone completed" webhook, the celebration email (when
    the milestone celebrates; once, ever) and the ``milestone_completed`` signal, all after
    commit. The plan is complete when every milestone is done.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    plan = OnboardingPlan.objects.select_for_update().select_related("account").get(pk=milestone.plan_id)
    milestone = Milestone.objects.select_related("done_by").get(pk=milestone.pk)
    blocked_reason = _text(blocked_reason)
    errors: dict[str, list[str]] = {}
    if status not in MilestoneStatus.values:
        errors["status"] = [_("Choose not started, in progress, done or blocked.")]
    elif status == MilestoneStatus.DONE:
        if not isinstance(done_on, dt.date):
            errors["done_on"] = [_("Enter the date it was done.")]
        elif done_on > today:
            errors["done_on"] = [_("A milestone cannot be done in the future.")]
        elif done_on < plan.account.contract_start:
            errors["done_on"] = [
                _("It cannot be done before the contract start (%(day)s).")
                % {"day": plan.account.contract_start.isoformat()}
            ]
    elif status == MilestoneStatus.BLOCKED:
        if not blocked_reason:
            errors["blocked_reason"] = [_("Say what it is blocked on.")]
        elif len(blocked_reason) > 500:
            errors["blocked_reason"] = [_("Keep the reason under 500 characters.")]
    _raise(errors)

    was_done = milestone.status == MilestoneStatus.DONE
    became_done = status == MilestoneStatus.DONE and not was_done
    first_time = milestone.first_done_at is None
    milestone.status = status
    milestone.blocked_reason = blocked_reason if status == MilestoneStatus.BLOCKED else ""
    if status == MilestoneStatus.DONE:
        if became_done or milestone.done_on != done_on:
            milestone.done_on = done_on
            milestone.done_at = _done_at(done_on, now)
        if became_done:
            milestone.done_by = by
            if first_time:
                milestone.first_done_at = milestone.done_at
    else:
        milestone.done_on = milestone.done_at = milestone.done_by = None
    milestone.save()
    if became_done:
        _milestone_done_effects(milestone=milestone, plan=plan, first_time=first_time, today=today)
    plan_refresh(plan=plan, now=now)
    return milestone


def _plan_counts(plan_id: int) -> dict[str, Any]:
    done = Q(status=MilestoneStatus.DONE)
    return Milestone.objects.filter(plan_id=plan_id).aggregate(
        n=Count("id"),
        done=Count("id", filter=done),
        total_weight=Sum("weight"),
        done_weight=Sum("weight", filter=done),
        next_due=Min("due_date", filter=~done),
    )


def _milestone_done_effects(
    *, milestone: Milestone, plan: OnboardingPlan, first_time: bool, today: dt.date
) -> None:
    from api.services import webhooks_emit

    account = plan.account
    counts = _plan_counts(plan.pk)
    total = counts["total_weight"] or 0
    progress = round((counts["done_weight"] or 0) * 100 / total) if total else 0
    webhooks_emit(
        event="milestone.completed",
        payload={
            "milestone": {
                "id": milestone.pk,
                "name": milestone.name,
                "done_on": milestone.done_on,
                "due_date": milestone.due_date,
                "owner_side": milestone.owner_side,
                "delivers_value": milestone.delivers_value,
                "first_time": first_time,
            },
            "plan": {"id": plan.pk, "name": plan.name, "progress": progress},
            "account": {"id": account.pk, "name": account.name, "external_id": account.external_id},
            "done_by": milestone.done_by.email if milestone.done_by else None,
        },
    )
    if (
        milestone.celebrate
        and (today - milestone.done_on).days <= CELEBRATE_WITHIN_DAYS
        and not Celebration.objects.filter(milestone=milestone).exists()
    ):
        from .tasks import milestone_celebrate_task

        milestone_id = milestone.pk
        # robust: a broker that is down must not turn a saved tick into an error page; the
        # sweep (celebrations_sweep, every few minutes) sends what was not enqueued.
        transaction.on_commit(lambda: milestone_celebrate_task.delay(milestone_id=milestone_id), robust=True)

    def announce() -> None:
        _send_robust(
            signals.milestone_completed,
            sender=Milestone,
            milestone=milestone,
            account=account,
            first_time=first_time,
        )

    transaction.on_commit(announce)


def _send_robust(signal, **kwargs) -> None:
    """Tell the listeners; one that fails is logged and does not fail the request (the change
    is committed already)."""
    for receiver, result in signal.send_robust(**kwargs):
        if isinstance(result, Exception):
            log.error("%s receiver %r failed", signal, receiver, exc_info=result)


def plan_refresh(*, plan: OnboardingPlan, now: dt.datetime | None = None) -> None:
    """After any change to a plan's milestones: keep its cached order fields (next due day,
    progress) in line, complete the plan when every milestone is done (once) and reopen it when
    one no longer is. Two queries at most."""
    from .selectors import percent_of

    now = now or timezone.now()
    counts = _plan_counts(plan.pk)
    changes: dict[str, Any] = {}
    progress = percent_of(counts["total_weight"] or 0, counts["done_weight"] or 0)
    if plan.progress != progress:
        changes["progress"] = progress
    if plan.next_due_on != counts["next_due"]:
        changes["next_due_on"] = counts["next_due"]
    complete = bool(counts["n"]) and counts["n"] == counts["done"]
    if complete and plan.completed_at is None:
        changes["completed_at"] = now
        # Onboarding is over: the account moves on to adoption (unless someone moved it already).
        Account.objects.filter(pk=plan.account_id, lifecycle_stage=LifecycleStage.ONBOARDING).update(
            lifecycle_stage=LifecycleStage.ADOPTION, updated_at=now
        )
        account = plan.account

        def announce() -> None:
            _send_robust(
                signals.onboarding_completed,
                sender=OnboardingPlan,
                plan=plan,
                account=account,
                completed_at=now,
            )

        transaction.on_commit(announce)
    elif not complete and plan.completed_at is not None:
        changes["completed_at"] = None
    if changes:
        for name, value in changes.items():
            setattr(plan, name, value)
        OnboardingPlan.objects.filter(pk=plan.pk).update(**changes, updated_at=now)


# ---------------------------------------------------------------- success criteria


def _decimal(value: Any, field: str, errors: dict, *, required: bool = False) -> Decimal | None:
    if value is None or value == "":
        if required:
            errors[field] = [_("Enter a number.")]
        return None
    if isinstance(value, bool):
        errors[field] = [_("Enter a number.")]
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        errors[field] = [_("Enter a number.")]
        return None
    if not number.is_finite() or abs(number) > _MAX_AMOUNT:
        errors[field] = [_("Enter a number below 100 trillion.")]
        return None
    return number.quantize(Decimal("0.01"))


def _criterion_apply(
    criterion: SuccessCriterion, data: dict[str, Any], plan: OnboardingPlan, today: dt.date
) -> None:
    errors: dict[str, list[str]] = {}
    explicit = None
    for field, value in data.items():
        if field in ("metric", "unit"):
            setattr(criterion, field, _text(value))
        elif field in ("baseline", "current"):
            setattr(criterion, field, _decimal(value, field, errors))
        elif field == "target":
            setattr(criterion, field, _decimal(value, field, errors, required=True))
        elif field == "due_date":
            if value is not None and not isinstance(value, dt.date):
                errors["due_date"] = [_("Enter a date.")]
            else:
                criterion.due_date = value
        elif field == "achieved":
            explicit = bool(value)
    if not criterion.metric:
        errors["metric"] = [_("Say what will be measured, e.g. weekly active users.")]
    elif len(criterion.metric) > 200:
        errors["metric"] = [_("Keep the metric under 200 characters.")]
    if len(criterion.unit) > 30:
        errors["unit"] = [_("Keep the unit under 30 characters.")]
    if criterion.target is None and "target" not in errors:
        errors["target"] = [_("Enter the target value.")]
    if criterion.due_date and criterion.due_date < plan.account.contract_start:
        errors["due_date"] = [
            _("The due date cannot be before the contract start (%(day)s).")
            % {"day": plan.account.contract_start.isoformat()}
        ]
    _raise(errors)
    achieved = criterion.reaches_target(criterion.current) or bool(
        explicit if explicit is not None else criterion.achieved_on
    )
    if achieved and criterion.achieved_on is None:
        criterion.achieved_on = today
    elif not achieved:
        criterion.achieved_on = None


@transaction.atomic
def criterion_add(*, plan: OnboardingPlan, data: dict[str, Any], by: User | None = None) -> SuccessCriterion:
    """A measurable goal. It counts as achieved when the current value reaches the target (in the
    direction from the baseline), or when someone ticks it."""
    _unknown_fields(data, CRITERION_FIELDS)
    plan = OnboardingPlan.objects.select_for_update().select_related("account").get(pk=plan.pk)
    if plan.criteria.count() >= MAX_CRITERIA:
        raise ValidationError(
            {"metric": _("A plan has at most %(n)s success criteria.") % {"n": MAX_CRITERIA}}
        )
    criterion = SuccessCriterion(plan=plan, metric="", unit="")
    _criterion_apply(criterion, data, plan, timezone.localdate())
    criterion.save()
    return criterion


@transaction.atomic
def criterion_update(
    *, criterion: SuccessCriterion, data: dict[str, Any], by: User | None = None
) -> SuccessCriterion:
    if "plan" in data and getattr(data["plan"], "pk", data["plan"]) != criterion.plan_id:
        raise ValidationError({"plan": _("A success criterion stays on its plan.")})
    data = {k: v for k, v in data.items() if k != "plan"}
    _unknown_fields(data, CRITERION_FIELDS)
    plan = OnboardingPlan.objects.select_for_update().select_related("account").get(pk=criterion.plan_id)
    criterion = SuccessCriterion.objects.get(pk=criterion.pk)
    _criterion_apply(criterion, data, plan, timezone.localdate())
    criterion.save()
    return criterion


@transaction.atomic
def criterion_remove(*, criterion: SuccessCriterion, by: User | None = None) -> None:
    SuccessCriterion.objects.filter(pk=criterion.pk).delete()


@transaction.atomic
def criteria_review(
    *, plan: OnboardingPlan, by: User | None, note: str = "", log_touchpoint: bool = True
) -> OnboardingPlan:
    """Record that the success criteria were reviewed with the customer (at a QBR): the day, and
    a QBR touchpoint on the timeline summarising where each criterion stands."""
    from accounts.services import touchpoint_log

    plan = OnboardingPlan.objects.select_for_update().select_related("account").get(pk=plan.pk)
    criteria = list(plan.criteria.order_by("created_at", "pk"))
    if not criteria:
        raise ValidationError({"criteria": _("Add a success criterion before reviewing them.")})
    note = _text(note)
    if len(note) > 2000:
        raise ValidationError({"note": _("Keep the note under 2,000 characters.")})
    today = timezone.localdate()
    plan.criteria_reviewed_on = today
    OnboardingPlan.objects.filter(pk=plan.pk).update(criteria_reviewed_on=today, updated_at=timezone.now())
    if log_touchpoint:
        lines = [_("Success criteria reviewed:")]
        for criterion in criteria:
            current = "—" if criterion.current is None else f"{criterion.current.normalize():f}"
            target = f"{criterion.target.normalize():f}"
            state = _("achieved") if criterion.achieved else _("in progress")
            lines.append(
                f"• {criterion.metric}: {current} / {target} {criterion.unit} ({state})".replace("  ", " ")
            )
        if note:
            lines.append(note)
        touchpoint_log(account=plan.account, author=by, kind="qbr", summary="\n".join(lines)[:5000])
    return plan


# ---------------------------------------------------------------- share links


def _verifier(selector: str) -> str:
    digest = salted_hmac(SHARE_SALT, selector, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def share_link_token(link: ShareLink) -> str:
    """The link's secret: its selector and an HMAC of it keyed with the site's secret key
    (256 bits; nothing secret is stored, so a database copy alone opens no plan)."""
    return f"{link.selector}.{_verifier(link.selector)}"


def share_link_resolve(*, token: Any) -> ShareLink | None:
    """The active link for ``token``, or None (unknown, malformed, forged or revoked alike).
    The secret part is checked in constant time before the database is asked anything."""
    if not isinstance(token, str) or len(token) > 100:
        return None
    selector, dot, verifier = token.partition(".")
    if not dot or not _SELECTOR_RE.fullmatch(selector) or not _VERIFIER_RE.fullmatch(verifier):
        return None
    if not hmac.compare_digest(_verifier(selector).encode(), verifier.encode()):
        return None
    return (
        ShareLink.objects.select_related("plan__account")
        .filter(selector=selector, revoked_at__isnull=True)
        .first()
    )


@transaction.atomic
def share_link_create(
    *, plan: OnboardingPlan, by: User | None, contact: Contact | None = None, language: str | None = None
) -> ShareLink:
    """One active link per plan; its page is in the contact's language (or the one chosen)."""
    plan = OnboardingPlan.objects.select_for_update().get(pk=plan.pk)
    errors: dict[str, list[str]] = {}
    if plan.share_links.filter(revoked_at__isnull=True).exists():
        errors["contact"] = [_("This plan already has a link; revoke it first to make a new one.")]
    if contact is not None and contact.account_id != plan.account_id:
        errors["contact"] = [_("Choose a contact of this account.")]
    language = contact.language if contact is not None else (language or Language.EN)
    if language not in Language.values:
        errors["language"] = [_("Choose English, Turkish or Traditional Chinese.")]
    _raise(errors)
    return ShareLink.objects.create(
        plan=plan, selector=secrets.token_urlsafe(12), language=language, contact=contact, created_by=by
    )


@transaction.atomic
def share_link_revoke(*, link: ShareLink, by: User | None) -> ShareLink:
    """Switch a link off at once; the next visit is a 404. Revoking twice changes nothing."""
    now = timezone.now()
    if ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=now, revoked_by=by):
        link.revoked_at, link.revoked_by = now, by
    return link


def share_link_viewed(*, link: ShareLink) -> None:
    from django.db.models import F

    ShareLink.objects.filter(pk=link.pk).update(views=F("views") + 1, last_viewed_at=timezone.now())


# ---------------------------------------------------------------- celebrations


def celebrations_sweep(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Enqueue the celebration of milestones done recently whose email was never started (the
    enqueue after commit failed, e.g. the broker was down). Idempotent; returns the count."""
    from .tasks import milestone_celebrate_task

    now = now or timezone.now()
    today = timezone.localdate(now)
    ids = list(
        Milestone.objects.filter(
            status=MilestoneStatus.DONE,
            celebrate=True,
            done_on__gte=today - dt.timedelta(days=CELEBRATE_WITHIN_DAYS),
            first_done_at__lt=now - dt.timedelta(minutes=2),
            plan__account__contacts__isnull=False,
        )
        .exclude(celebrations__isnull=False)
        .values_list("pk", flat=True)
        .distinct()
        .order_by("pk")[:limit]
    )
    for milestone_id in ids:
        milestone_celebrate_task.delay(milestone_id=milestone_id)
    return len(ids)


def milestone_celebrate(*, milestone_id: int) -> int:
    """Email each contact of the account a short congratulation for a milestone, in their
    language; once per milestone and contact, ever. Safe to run again (a retry sends only what
    is still pending; a row is locked while its email goes out). Returns the emails sent."""
    from .emails import celebration_context, celebration_message

    milestone = Milestone.objects.select_related("plan__account").filter(pk=milestone_id).first()
    if milestone is None or not milestone.celebrate or milestone.status != MilestoneStatus.DONE:
        return 0
    account = milestone.plan.account
    if not Celebration.objects.filter(milestone=milestone).exists():
        Celebration.objects.bulk_create(
            [
                Celebration(
                    milestone=milestone,
                    contact=contact,
                    email=contact.email.lower(),
                    language=contact.language,
                )
                for contact in account.contacts.exclude(email="").order_by("pk")
            ],
            ignore_conflicts=True,
        )
    pending = list(
        Celebration.objects.filter(milestone=milestone, status=CelebrationStatus.PENDING)
        .select_related("contact")
        .order_by("pk")
    )
    if not pending:
        return 0
    context = celebration_context(milestone)
    connection = get_connection()
    sent = 0
    for celebration in pending:
        with transaction.atomic():
            claimed = (
                Celebration.objects.select_for_update(skip_locked=True)
                .filter(pk=celebration.pk, status=CelebrationStatus.PENDING)
                .first()
            )
            if claimed is None:
                continue  # sent meanwhile, or being sent by another worker
            message = celebration_message(celebration=celebration, context=context)
            message.connection = connection
            message.send()
            Celebration.objects.filter(pk=celebration.pk).update(
                status=CelebrationStatus.SENT, sent_at=timezone.now()
            )
        sent += 1
    return sent
