"""Health scores and what they turn into: scorecards, snapshots, alert rules, alerts, playbooks, tasks."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Segment

from .registry import CAP_CHOICES, CAPS, MEASURE_CHOICES, MEASURES


class Grade(models.TextChoices):
    GREEN = "green", _("Green")
    YELLOW = "yellow", _("Yellow")
    RED = "red", _("Red")


# Worse grades sort first: red 1, yellow 2, green 3.
GRADE_ORDER = {Grade.RED: 1, Grade.YELLOW: 2, Grade.GREEN: 3}


class Scorecard(models.Model):
    """A weighted set of measures and the grade bands. An account uses its segment's scorecard,
    else the default one (the scorecard without a segment)."""

    name = models.CharField(_("name"), max_length=100)
    segment = models.CharField(
        _("segment"),
        max_length=20,
        choices=[("", _("Default (every segment without its own)")), *Segment.choices],
        blank=True,
        help_text=_("Leave empty for the default scorecard. At most one scorecard per segment."),
    )
    green_from = models.PositiveSmallIntegerField(
        _("green from"), default=70, help_text=_("A score at or above this is green (default 70).")
    )
    yellow_from = models.PositiveSmallIntegerField(
        _("yellow from"),
        default=40,
        help_text=_("A score at or above this, and below green, is yellow; below it is red (default 40)."),
    )
    description = models.TextField(_("description"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        ordering = ["segment", "name"]
        constraints = [
            models.UniqueConstraint(fields=["segment"], name="scorecard_one_per_segment"),
            models.CheckConstraint(
                condition=Q(segment__in=["", *Segment.values]), name="scorecard_segment_valid"
            ),
            models.CheckConstraint(
                condition=Q(yellow_from__gt=0) & Q(yellow_from__lt=F("green_from")) & Q(green_from__lte=100),
                name="scorecard_bands_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def grade_for(self, score: int | None) -> str:
        if score is None:
            return ""
        if score >= self.green_from:
            return Grade.GREEN
        if score >= self.yellow_from:
            return Grade.YELLOW
        return Grade.RED


class Measure(models.Model):
    """One measure of a scorecard. The raw value scores 0 at ``zero_at`` (or worse), 100 at
    ``full_at`` (or better), linearly in between; ``full_at`` below ``zero_at`` means lower is better."""

    scorecard = models.ForeignKey(
        Scorecard, verbose_name=_("scorecard"), on_delete=models.CASCADE, related_name="measures"
    )
    key = models.CharField(
        _("measure"),
        max_length=40,
        choices=MEASURE_CHOICES,
        help_text=_(
            "What each measure's raw value is, and its default thresholds: see 'How measures score' above."
        ),
    )
    weight = models.PositiveSmallIntegerField(
        _("weight"),
        default=10,
        help_text=_(
            "Relative weight; 0 turns the measure off. A measure without data for an account is left "
            "out and the others are re-weighted."
        ),
    )
    zero_at = models.FloatField(
        _("scores 0 at"), help_text=_("The raw value that scores 0, and anything worse.")
    )
    full_at = models.FloatField(
        _("scores 100 at"),
        help_text=_(
            "The raw value that scores 100, and anything better. In between, the score is linear. "
            "Below 'scores 0 at' means a lower raw value is better (days, overdue tasks)."
        ),
    )

    class Meta:
        verbose_name = _("measure")
        verbose_name_plural = _("measures")
        ordering = ["scorecard", "-weight", "key"]
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "key"], name="measure_once_per_scorecard"),
            models.CheckConstraint(condition=Q(key__in=list(MEASURES)), name="measure_key_valid"),
            models.CheckConstraint(condition=~Q(zero_at=F("full_at")), name="measure_thresholds_differ"),
            models.CheckConstraint(condition=Q(weight__lte=1000), name="measure_weight_bounded"),
        ]

    def __str__(self) -> str:
        return f"{self.get_key_display()} × {self.weight}"


class ScoreCap(models.Model):
    """An exception that overrides the weighted total: while its condition holds, the score is at
    most ``cap`` (for example: a detractor answer in the last 30 days caps the score at 40)."""

    scorecard = models.ForeignKey(
        Scorecard, verbose_name=_("scorecard"), on_delete=models.CASCADE, related_name="caps"
    )
    condition = models.CharField(
        _("condition"),
        max_length=40,
        choices=CAP_CHOICES,
        help_text=_(
            "Detractor answer recently: a 0-6 NPS answer from one of the account's contacts within the "
            "window (default cap 40, 30 days). Champion left: the account has contacts but none of them "
            "is its champion any more (default cap 60). Usage collapsed: events in the last 30 days fell by "
            "N % or more against the 30 before, which had at least 10 (default N 60, cap 39: red)."
        ),
    )
    cap = models.PositiveSmallIntegerField(_("caps the score at"), help_text=_("0 to 100."))
    window_days = models.PositiveSmallIntegerField(
        _("window (days)"),
        default=30,
        help_text=_("For conditions on a recent event (a detractor answer): how many days back count."),
    )
    threshold = models.PositiveSmallIntegerField(
        _("N"),
        null=True,
        blank=True,
        help_text=_("For 'usage collapsed': the % fall that caps the score (default 60)."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("score cap (exception)")
        verbose_name_plural = _("score caps (exceptions)")
        ordering = ["scorecard", "cap"]
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "condition"], name="cap_once_per_scorecard"),
            models.CheckConstraint(condition=Q(cap__lte=100), name="cap_at_most_100"),
            models.CheckConstraint(condition=Q(condition__in=list(CAPS)), name="cap_condition_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_condition_display()} → ≤ {self.cap}"


class ScorecardVersion(models.Model):
    """The exact configuration a scorecard had when scores were computed (weights, thresholds,
    caps, bands), recorded once per change. Snapshots point at it, so a past day's explanation
    is recomputed exactly even after the scorecard was edited."""

    scorecard = models.ForeignKey(
        Scorecard,
        verbose_name=_("scorecard"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="versions",
    )
    digest = models.CharField(_("digest"), max_length=64, unique=True)
    config = models.JSONField(_("configuration"))
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("scorecard version")
        verbose_name_plural = _("scorecard versions")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.config.get('name', '?')} ({self.created_at:%Y-%m-%d %H:%M})"


class HealthSnapshot(models.Model):
    """An account's score on one day: score, grade, and every measure's raw value (``raw``, in the
    order of its scorecard version's measures; null: no data). Each measure's score, weight and
    contribution follow exactly from the raw values and the version (``measures``); contributions
    add up to ``uncapped_score``, and ``score`` is the same unless a cap (``capped_by``) lowered it.
    """

    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="health_snapshots",
        db_index=False,  # covered by the (account, day) unique constraint
        # No foreign-key constraint in the database: the nightly job writes a snapshot per
        # account and day, and checking each one locked its account row (0.46 s of 3.7 s for
        # 78,000 accounts; BENCHMARKS.md). The rows come from accounts just read; deleting an
        # account through Django still deletes its snapshots (on_delete), and nothing deletes
        # accounts behind Django's back (privacy erasure removes contacts, not accounts).
        db_constraint=False,
    )
    day = models.DateField(_("day"))
    card_version = models.ForeignKey(
        ScorecardVersion,
        verbose_name=_("scorecard version"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # a handful of versions: never looked up from this side
        db_constraint=False,  # as for the account; versions are never deleted (PROTECT besides)
    )
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    uncapped_score = models.PositiveSmallIntegerField(_("score before caps"), null=True, blank=True)
    capped_by = models.CharField(_("capped by"), max_length=40, blank=True, choices=CAP_CHOICES)
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices, blank=True)
    raw = models.JSONField(_("raw values"), default=list)
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)

    class Meta:
        verbose_name = _("health snapshot")
        verbose_name_plural = _("health snapshots")
        ordering = ["account", "-day"]
        constraints = [
            models.UniqueConstraint(fields=["account", "day"], name="snapshot_one_per_account_day"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__lte=100), name="snapshot_score_0_100"
            ),
            models.CheckConstraint(condition=Q(grade__in=["", *Grade.values]), name="snapshot_grade_valid"),
        ]
        # (day, account): today's rows of a batch, the scores 7 and 30 days ago, a day's grades
        indexes = [models.Index(fields=["day", "account"], name="snapshot_day_account_idx")]

    def __str__(self) -> str:
        return f"{self.account_id} on {self.day}: {self.score}"

    @property
    def measures(self) -> dict[str, list]:
        """key -> [raw, score, weight, contribution] (no data: [None, None, weight, None])."""
        from .scoring import CardConfig, Scorer

        return Scorer(CardConfig.from_config(self.card_version.config)).explain(self.raw)


class AccountHealth(models.Model):
    """The account's current score, kept on one row per account so the portfolio can sort and
    filter 100,000 accounts by score, grade and 7-day change with a join. Written with the
    snapshots; ``recompute_requested_at`` de-duplicates debounced recomputes."""

    account = models.OneToOneField(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, primary_key=True, related_name="health"
    )
    day = models.DateField(_("day"), null=True, blank=True)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices, blank=True)
    grade_order = models.PositiveSmallIntegerField(
        _("grade order"), null=True, blank=True, help_text=_("1 red, 2 yellow, 3 green: sorts worst first.")
    )
    change_7d = models.SmallIntegerField(_("change over 7 days"), null=True, blank=True)
    change_30d = models.SmallIntegerField(_("change over 30 days"), null=True, blank=True)
    previous_score = models.PositiveSmallIntegerField(_("previous score"), null=True, blank=True)
    previous_grade = models.CharField(_("previous grade"), max_length=10, choices=Grade.choices, blank=True)
    recompute_requested_at = models.DateTimeField(_("recompute requested"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # The account's owner, copied here so one CSM's health sorts read the health indexes alone
    # (INCLUDE below). PostgreSQL keeps it in step with accounts_account.owner_id by triggers
    # (migration 0008): on every change of an account's owner, and on every insert here. Not
    # kept on SQLite, where the portfolio does not use it.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.DO_NOTHING,  # the account's owner is PROTECTed: an owner is never deleted
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        verbose_name = _("current health")
        verbose_name_plural = _("current health")
        # The portfolio's health sorts (accounts.selectors.HealthSortedRows) read these in order,
        # forwards or backwards, ending in the account id as the sort does. A CSM's walks the
        # same index and keeps their own rows by the owner it carries (no visit to the rows).
        indexes = [
            models.Index(fields=["score", "account"], include=["owner"], name="health_score_idx"),
            models.Index(
                fields=["grade_order", "score", "account"], include=["owner"], name="health_grade_idx"
            ),
            models.Index(fields=["change_7d", "account"], include=["owner"], name="health_change_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.score} {self.grade}"


# ---------------------------------------------------------------- playbooks and tasks


class Priority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class Playbook(models.Model):
    """Ordered task templates, applied when an alert opens (if its rule names the playbook) or by hand."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("playbook")
        verbose_name_plural = _("playbooks")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PlaybookStep(models.Model):
    playbook = models.ForeignKey(
        Playbook, verbose_name=_("playbook"), on_delete=models.CASCADE, related_name="steps"
    )
    position = models.PositiveSmallIntegerField(_("order"))
    title = models.CharField(_("task title"), max_length=200)
    due_in_days = models.PositiveSmallIntegerField(
        _("due after (days)"), help_text=_("The task is due this many days after the playbook is applied.")
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("playbook step")
        verbose_name_plural = _("playbook steps")
        ordering = ["playbook", "position"]
        constraints = [
            models.UniqueConstraint(fields=["playbook", "position"], name="step_position_unique"),
            models.CheckConstraint(condition=Q(priority__in=Priority.values), name="step_priority_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"


class RuleKind(models.TextChoices):
    GRADE_DROP = "grade_drop", _("Score fell into a worse grade")
    SCORE_DROP = "score_drop", _("Score dropped by N points in 7 days")
    USAGE_DROP = "usage_drop", _("Usage fell by N % week over week")
    DETRACTOR = "detractor", _("Detractor answer")
    RENEWAL_RISK = "renewal_risk", _("Renewal within N days while not green")
    ONBOARDING_OVERDUE = "onboarding_overdue", _("Onboarding milestone overdue")
    NO_TOUCH = "no_touch", _("No touchpoint for N days")
    PROMOTER = "promoter", _("Promoter answer (opportunity)")
    USAGE_UP = "usage_up", _("Usage up by N % (opportunity)")


OPPORTUNITY_KINDS = (RuleKind.PROMOTER, RuleKind.USAGE_UP)
EVENT_KINDS = (RuleKind.DETRACTOR, RuleKind.PROMOTER)  # one alert per answer, not per day
KINDS_WITH_THRESHOLD = (
    RuleKind.SCORE_DROP,
    RuleKind.USAGE_DROP,
    RuleKind.DETRACTOR,
    RuleKind.RENEWAL_RISK,
    RuleKind.NO_TOUCH,
    RuleKind.PROMOTER,
    RuleKind.USAGE_UP,
)

RULE_HELP = _(
    "What N means for each kind — Score fell into a worse grade: no N; set the grade (the rule fires "
    "when the account's grade becomes that grade or worse, from a better one or from no score). "
    "Score dropped: N points lost against the score 7 days before. Usage fell: N % fewer events in the "
    "last 7 days than the 7 before (needs at least 5 events the week before). Detractor / promoter "
    "answer: an answer in the last N days (once per answer). Renewal: renewal date within N days and "
    "the grade is not green. Onboarding: any milestone overdue. No touchpoint: N days or more since the "
    "last one (or since the contract started). Usage up: N % more events in the last 30 days than the "
    "30 before (with at least 20 events the 30 days before)."
)


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class AlertRule(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=30, choices=RuleKind.choices, help_text=RULE_HELP)
    threshold = models.IntegerField(
        _("N"), null=True, blank=True, help_text=_("See the kind for what N means.")
    )
    grade = models.CharField(
        _("grade"),
        max_length=10,
        choices=[(Grade.RED, _("Red")), (Grade.YELLOW, _("Yellow or red"))],
        blank=True,
        help_text=_("For 'score fell into a worse grade' only."),
    )
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.MEDIUM
    )
    playbook = models.ForeignKey(
        Playbook,
        verbose_name=_("playbook"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rules",
        help_text=_("Applied when the alert opens: its steps become tasks for the account's owner."),
    )
    cooldown_days = models.PositiveSmallIntegerField(
        _("cool-down (days)"),
        default=30,
        help_text=_(
            "After an alert of this rule is resolved, the rule raises no new alert for the same account "
            "for this many days (answers are exempt: each new answer can raise one)."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=RuleKind.values), name="rule_kind_valid"),
            models.CheckConstraint(
                condition=~Q(kind=RuleKind.GRADE_DROP) | Q(grade__in=[Grade.RED, Grade.YELLOW]),
                name="rule_grade_drop_has_grade",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=KINDS_WITH_THRESHOLD) | Q(threshold__isnull=False, threshold__gt=0),
                name="rule_threshold_when_needed",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_opportunity(self) -> bool:
        return self.kind in OPPORTUNITY_KINDS


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    SNOOZED = "snoozed", _("Snoozed")
    RESOLVED = "resolved", _("Resolved")


class AlertOutcome(models.TextChoices):
    SAVED = "saved", _("Risk addressed")
    WON = "won", _("Opportunity taken")
    NO_ACTION = "no_action", _("No action needed")
    FALSE_ALARM = "false_alarm", _("False alarm")
    CHURNED = "churned", _("Customer churned")
    OTHER = "other", _("Other")


class Alert(models.Model):
    """A rule that fired for an account. At most one open (or snoozed) alert per account and rule."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="alerts"
    )
    rule = models.ForeignKey(
        AlertRule, verbose_name=_("rule"), on_delete=models.PROTECT, related_name="alerts"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=AlertStatus.choices, default=AlertStatus.OPEN
    )
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    details = models.CharField(_("details"), max_length=300, blank=True)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    snoozed_until = models.DateField(_("snoozed until"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=AlertOutcome.choices, blank=True)
    outcome_note = models.CharField(_("outcome note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "rule"],
                condition=~Q(status=AlertStatus.RESOLVED),
                name="alert_one_open_per_account_rule",
            ),
            models.CheckConstraint(condition=Q(status__in=AlertStatus.values), name="alert_status_valid"),
            models.CheckConstraint(
                condition=~Q(status=AlertStatus.RESOLVED) | (Q(resolved_at__isnull=False) & ~Q(outcome="")),
                name="alert_resolved_has_outcome",
            ),
            models.CheckConstraint(
                condition=~Q(status=AlertStatus.SNOOZED) | Q(snoozed_until__isnull=False),
                name="alert_snoozed_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "-opened_at", "-id"], name="alert_account_idx"),
            models.Index(fields=["status", "opened_at"], name="alert_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} · {self.account_id}"

    @property
    def is_open(self) -> bool:
        return self.status != AlertStatus.RESOLVED


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class TaskQuerySet(models.QuerySet["Task"]):
    def visible_to(self, user) -> TaskQuerySet:
        """CSMs see their own tasks; managers and admins see every task."""
        if not getattr(user, "is_authenticated", False) or not user.has_app_access:
            return self.none()
        if user.sees_all_accounts:
            return self
        return self.filter(owner=user)

    def actionable(self, today: dt.date) -> TaskQuerySet:
        """Open and not snoozed past today: what the inbox shows."""
        return self.filter(status=TaskStatus.OPEN).filter(
            Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today)
        )


class Task(models.Model):
    title = models.CharField(_("title"), max_length=200)
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="tasks"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
    )
    due_date = models.DateField(_("due"))
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    notes = models.TextField(_("notes"), blank=True, max_length=5000)
    snoozed_until = models.DateField(_("snoozed until"), null=True, blank=True)
    alert = models.ForeignKey(
        Alert, verbose_name=_("alert"), on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks"
    )
    playbook = models.ForeignKey(
        Playbook,
        verbose_name=_("playbook"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("completed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_date", "-priority", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=TaskStatus.values), name="task_status_valid"),
            models.CheckConstraint(condition=Q(priority__in=Priority.values), name="task_priority_valid"),
            models.CheckConstraint(
                condition=~Q(status=TaskStatus.DONE) | Q(completed_at__isnull=False),
                name="task_done_has_time",
            ),
            models.CheckConstraint(condition=~Q(title=""), name="task_title_required"),
        ]
        indexes = [
            models.Index(fields=["owner", "status", "due_date"], name="task_inbox_idx"),
            models.Index(fields=["account", "status", "due_date"], name="task_account_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def is_overdue(self, today: dt.date | None = None) -> bool:
        return self.status == TaskStatus.OPEN and self.due_date < (today or timezone.localdate())


class DigestSent(models.Model):
    """One daily digest per user and day: a retried job never sends it twice."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField(_("day"))
    tasks = models.PositiveIntegerField(_("tasks"), default=0)
    alerts = models.PositiveIntegerField(_("alerts"), default=0)
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        verbose_name = _("digest sent")
        verbose_name_plural = _("digests sent")
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="digest_once_per_user_day")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day}"
