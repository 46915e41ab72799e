"""Onboarding: plan templates and their milestones, each account's plan, its milestones,
expectations and success criteria, the customer's share links and the celebration emails.

Progress, schedule status and time-to-value are computed (``onboarding.selectors``), never
stored, so they cannot drift from the milestones.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Contact, Language, Segment

MAX_DUE_DAY = 730  # a milestone is due at most two years after the start
MAX_WEIGHT = 100


class OwnerSide(models.TextChoices):
    CSM = "csm", _("CSM")
    CUSTOMER = "customer", _("Customer")


class MilestoneStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    BLOCKED = "blocked", _("Blocked")


class ScheduleStatus(models.TextChoices):
    """Computed from the milestones: behind when any is overdue, done when all are done."""

    BEHIND = "behind", _("Behind")
    ON_TRACK = "on_track", _("On track")
    DONE = "done", _("Done")


# ---------------------------------------------------------------- templates


class PlanTemplate(models.Model):
    """A named plan for a segment and/or a commercial plan, with ordered milestones."""

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    segment = models.CharField(
        _("segment"),
        max_length=20,
        choices=[("", _("Any segment")), *Segment.choices],
        blank=True,
        help_text=_("The segment whose new accounts get this plan."),
    )
    account_plan = models.CharField(
        _("account plan"),
        max_length=100,
        blank=True,
        help_text=_(
            "Only for accounts on this commercial plan (the account's Plan field, e.g. Enterprise Plus); "
            "empty for any plan."
        ),
    )
    auto_assign = models.BooleanField(
        _("start automatically"),
        default=True,
        help_text=_(
            "New accounts in the Onboarding stage that match the segment and plan get this plan when "
            "they are created (pages, admin, API and import alike). The most specific match wins."
        ),
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive templates are not offered.")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("plan template")
        verbose_name_plural = _("plan templates")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="onb_template_name_ci_unique"),
            models.UniqueConstraint(
                "segment",
                Lower("account_plan"),
                condition=Q(is_active=True, auto_assign=True),
                name="onb_template_one_auto_per_match",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="onb_template_name_required"),
            models.CheckConstraint(
                condition=Q(segment__in=["", *Segment.values]), name="onb_template_segment_valid"
            ),
            models.CheckConstraint(
                condition=Q(auto_assign=False) | ~Q(segment="") | ~Q(account_plan=""),
                name="onb_template_auto_needs_match",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def audience(self) -> str:
        parts = [str(self.get_segment_display()) if self.segment else ""]
        if self.account_plan:
            parts.append(str(_("plan “%(plan)s”") % {"plan": self.account_plan}))
        return " · ".join(p for p in parts if p) or str(_("Any account"))


class MilestoneTemplate(models.Model):
    template = models.ForeignKey(
        PlanTemplate, verbose_name=_("template"), on_delete=models.CASCADE, related_name="milestones"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    name = models.CharField(_("name"), max_length=150)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    due_day = models.PositiveSmallIntegerField(
        _("due day"),
        default=0,
        help_text=_("Days after the contract start (0: the start day itself)."),
    )
    owner_side = models.CharField(
        _("owner side"), max_length=10, choices=OwnerSide.choices, default=OwnerSide.CSM
    )
    weight = models.PositiveSmallIntegerField(
        _("weight"), default=1, help_text=_("Share of the plan's progress, 1 to 100.")
    )
    delivers_value = models.BooleanField(
        _("delivers value"),
        default=False,
        help_text=_("Reaching it proves value: the first one reached ends the time-to-value clock."),
    )
    celebrate = models.BooleanField(
        _("celebrate"), default=False, help_text=_("Email the account's contacts a short congratulation.")
    )

    class Meta:
        verbose_name = _("template milestone")
        verbose_name_plural = _("template milestones")
        ordering = ["template", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["template", "position"], name="onb_tmilestone_position_unique"),
            models.CheckConstraint(condition=~Q(name=""), name="onb_tmilestone_name_required"),
            models.CheckConstraint(
                condition=Q(weight__gte=1, weight__lte=MAX_WEIGHT), name="onb_tmilestone_weight_range"
            ),
            models.CheckConstraint(
                condition=Q(due_day__lte=MAX_DUE_DAY), name="onb_tmilestone_due_day_range"
            ),
            models.CheckConstraint(
                condition=Q(owner_side__in=OwnerSide.values), name="onb_tmilestone_owner_side_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


# ---------------------------------------------------------------- plans


class OnboardingPlan(models.Model):
    """An account's onboarding plan (one per account): milestones, expectations, success criteria."""

    account = models.OneToOneField(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="onboarding_plan"
    )
    template = models.ForeignKey(
        PlanTemplate,
        verbose_name=_("template"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="plans",
    )
    name = models.CharField(_("name"), max_length=120)
    start_date = models.DateField(
        _("start date"), help_text=_("Milestones are due this many days after it (the contract start).")
    )
    expectations = models.TextField(
        _("expectations"),
        blank=True,
        max_length=5000,
        help_text=_("What the customer said they want from the product, in their words."),
    )
    criteria_reviewed_on = models.DateField(_("criteria reviewed on"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True, editable=False)
    # Kept by services.plan_refresh so the board sorts thousands of plans by an index, never by
    # an aggregate; the figures pages show are always computed from the milestones themselves.
    next_due_on = models.DateField(
        _("next due"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("The earliest due day not done yet."),
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("started"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("onboarding plan")
        verbose_name_plural = _("onboarding plans")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="onb_plan_name_required"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="onb_plan_progress_range"),
        ]
        indexes = [
            models.Index(fields=["completed_at"], name="onb_plan_completed_idx"),
            # The board: open plans, the earliest due first (behind schedule comes first).
            models.Index(
                fields=["next_due_on", "id"],
                name="onb_plan_open_due_idx",
                condition=Q(completed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} · {self.account}" if self.account_id else self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("onboarding:plan", args=[self.account_id])


class Milestone(models.Model):
    plan = models.ForeignKey(
        OnboardingPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="milestones"
    )
    template_milestone = models.ForeignKey(
        MilestoneTemplate,
        verbose_name=_("from template milestone"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Where it came from; the funnel counts accounts per template milestone."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    name = models.CharField(_("name"), max_length=150)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    due_date = models.DateField(_("due date"))
    owner_side = models.CharField(
        _("owner side"), max_length=10, choices=OwnerSide.choices, default=OwnerSide.CSM
    )
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)
    delivers_value = models.BooleanField(_("delivers value"), default=False)
    celebrate = models.BooleanField(_("celebrate"), default=False)
    status = models.CharField(
        _("status"), max_length=12, choices=MilestoneStatus.choices, default=MilestoneStatus.NOT_STARTED
    )
    done_on = models.DateField(_("done on"), null=True, blank=True)
    done_at = models.DateTimeField(
        _("done at"), null=True, blank=True, editable=False, help_text=_("Its place on the timeline.")
    )
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    first_done_at = models.DateTimeField(_("first done"), null=True, blank=True, editable=False)
    blocked_reason = models.CharField(_("blocked because"), max_length=500, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["plan", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="onb_milestone_position_unique"),
            models.CheckConstraint(condition=~Q(name=""), name="onb_milestone_name_required"),
            models.CheckConstraint(
                condition=Q(weight__gte=1, weight__lte=MAX_WEIGHT), name="onb_milestone_weight_range"
            ),
            models.CheckConstraint(
                condition=Q(status__in=MilestoneStatus.values), name="onb_milestone_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(owner_side__in=OwnerSide.values), name="onb_milestone_owner_side_valid"
            ),
            # Done exactly when it has a date; a date only when done.
            models.CheckConstraint(
                condition=(
                    Q(status=MilestoneStatus.DONE, done_on__isnull=False, done_at__isnull=False)
                    | (~Q(status=MilestoneStatus.DONE) & Q(done_on__isnull=True, done_at__isnull=True))
                ),
                name="onb_milestone_done_has_date",
            ),
            # Blocked exactly when there is a reason.
            models.CheckConstraint(
                condition=(Q(status=MilestoneStatus.BLOCKED) & ~Q(blocked_reason=""))
                | (~Q(status=MilestoneStatus.BLOCKED) & Q(blocked_reason="")),
                name="onb_milestone_blocked_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["plan", "done_at"], name="onb_milestone_done_idx"),
            models.Index(fields=["template_milestone", "status"], name="onb_milestone_funnel_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """What the database cannot check: no due date before the account's contract start."""
        super().clean()
        if self.plan_id and isinstance(self.due_date, dt.date):
            contract_start = (
                Account.objects.filter(onboarding_plan=self.plan_id)
                .values_list("contract_start", flat=True)
                .first()
            )
            if contract_start and self.due_date < contract_start:
                from django.core.exceptions import ValidationError

                raise ValidationError(
                    {
                        "due_date": _("The due date cannot be before the contract start (%(day)s).")
                        % {"day": contract_start.isoformat()}
                    }
                )

    @property
    def is_done(self) -> bool:
        return self.status == MilestoneStatus.DONE

    def is_overdue(self, today: dt.date) -> bool:
        """Past its due day (in the platform's calendar) and not done."""
        return self.status != MilestoneStatus.DONE and self.due_date < today


class SuccessCriterion(models.Model):
    """A measurable goal: metric, baseline, target, current value, due date, achieved."""

    plan = models.ForeignKey(
        OnboardingPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="criteria"
    )
    metric = models.CharField(_("metric"), max_length=200, help_text=_("e.g. Weekly active users"))
    unit = models.CharField(_("unit"), max_length=30, blank=True, help_text=_("e.g. users, %, hours"))
    baseline = models.DecimalField(_("baseline"), max_digits=16, decimal_places=2, null=True, blank=True)
    target = models.DecimalField(_("target"), max_digits=16, decimal_places=2)
    current = models.DecimalField(_("current value"), max_digits=16, decimal_places=2, null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    achieved_on = models.DateField(_("achieved on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("success criterion")
        verbose_name_plural = _("success criteria")
        ordering = ["plan", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(metric=""), name="onb_criterion_metric_required"),
        ]

    def __str__(self) -> str:
        return self.metric

    @property
    def achieved(self) -> bool:
        return self.achieved_on is not None

    @property
    def lower_is_better(self) -> bool:
        return self.baseline is not None and self.target < self.baseline

    def reaches_target(self, value: Decimal | None) -> bool:
        if value is None:
            return False
        return value <= self.target if self.lower_is_better else value >= self.target

    @property
    def percent(self) -> int | None:
        """How far from the baseline to the target the current value is, 0 to 100."""
        if self.current is None:
            return None
        if self.baseline is None or self.baseline == self.target:
            return 100 if self.reaches_target(self.current) else None
        share = (self.current - self.baseline) / (self.target - self.baseline) * 100
        return int(max(Decimal(0), min(Decimal(100), share)))


# ---------------------------------------------------------------- sharing and celebrating


class ShareLink(models.Model):
    """A read-only link to a plan for the customer. The secret part of the link is derived from
    ``selector`` with the site's secret key (``services.share_link_token``), never stored."""

    plan = models.ForeignKey(
        OnboardingPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="share_links"
    )
    selector = models.CharField(_("selector"), max_length=32, unique=True, editable=False)
    language = models.CharField(_("language"), max_length=10, choices=Language.choices, default=Language.EN)
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("made for"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    last_viewed_at = models.DateTimeField(_("last opened"), null=True, blank=True, editable=False)
    views = models.PositiveIntegerField(_("times opened"), default=0, editable=False)

    class Meta:
        verbose_name = _("share link")
        verbose_name_plural = _("share links")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan"], condition=Q(revoked_at__isnull=True), name="onb_share_one_active_per_plan"
            ),
            models.CheckConstraint(
                condition=Q(language__in=Language.values), name="onb_share_language_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} ({self.selector[:6]}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class CelebrationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")


class Celebration(models.Model):
    """One congratulation email to one contact for one milestone: sent once, ever."""

    milestone = models.ForeignKey(
        Milestone, verbose_name=_("milestone"), on_delete=models.CASCADE, related_name="celebrations"
    )
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    email = models.EmailField(_("email"))
    language = models.CharField(_("language"), max_length=10, choices=Language.choices, default=Language.EN)
    status = models.CharField(
        _("status"), max_length=10, choices=CelebrationStatus.choices, default=CelebrationStatus.PENDING
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("celebration email")
        verbose_name_plural = _("celebration emails")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint("milestone", Lower("email"), name="onb_celebration_once_per_email"),
            models.CheckConstraint(
                condition=Q(status=CelebrationStatus.SENT, sent_at__isnull=False)
                | Q(status=CelebrationStatus.PENDING, sent_at__isnull=True),
                name="onb_celebration_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.milestone} → {self.email}"
