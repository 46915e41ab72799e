"""Reads on surveys, set-based: a fixed number of queries whatever the number of rows.

Metrics follow DESIGN.md: NPS = % promoters (9-10) − % detractors (0-6) among 0-10 answers given
in the period; CSAT = % of 1-5 answers that are 4 or 5; CES = the mean of 1-7 answers, and the %
answering 5-7. Periods are calendar days in the platform's time zone. No answers: no data (None),
never 0.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import (
    Avg,
    CharField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Concat, ExtractMonth, ExtractYear, Lower, TruncMonth
from django.utils import timezone

from accounts.models import Account
from cs_app.prepared import prepared

from . import services_outbox as outbox
from .models import (
    Campaign,
    CampaignRound,
    FollowUp,
    Invitation,
    InvitationStatus,
    ReminderStatus,
    Response,
    SkipReason,
    SurveyKind,
)

METRIC_KINDS = (SurveyKind.NPS, SurveyKind.CSAT, SurveyKind.CES)

# What counts as "high" and "low" in each kind (for NPS: promoters and detractors).
HIGH = {SurveyKind.NPS: Q(score__gte=9), SurveyKind.CSAT: Q(score__gte=4), SurveyKind.CES: Q(score__gte=5)}
LOW = {SurveyKind.NPS: Q(score__lte=6), SurveyKind.CSAT: Q(score__lte=2), SurveyKind.CES: Q(score__lte=3)}


# ---------------------------------------------------------------- metrics


@dataclass(frozen=True)
class Metric:
    """One kind's figure over a set of answers. ``value`` is None when there are no answers."""

    kind: str
    answers: int
    high: int  # NPS promoters (9-10); CSAT 4-5; CES 5-7
    low: int  # NPS detractors (0-6); CSAT 1-2; CES 1-3
    total: int  # the sum of scores (CES mean)

    @property
    def has_data(self) -> bool:
        return self.answers > 0

    @property
    def value(self) -> float | None:
        if not self.answers:
            return None
        if self.kind == SurveyKind.NPS:
            return (self.high - self.low) * 100.0 / self.answers
        if self.kind == SurveyKind.CSAT:
            return self.high * 100.0 / self.answers
        return self.total / self.answers  # CES mean

    @property
    def high_pct(self) -> float | None:
        return self.high * 100.0 / self.answers if self.answers else None

    @property
    def low_pct(self) -> float | None:
        return self.low * 100.0 / self.answers if self.answers else None

    @property
    def middle(self) -> int:
        return self.answers - self.high - self.low

    @property
    def display(self) -> str:
        value = self.value
        if value is None:
            return ""
        if self.kind == SurveyKind.NPS:
            return f"{value:+.0f}" if round(value) else "0"
        if self.kind == SurveyKind.CSAT:
            return f"{value:.0f}%"
        return f"{value:.2f}"


def _metric_aggregates(kind: str, prefix: str = "") -> dict:
    return {
        f"{prefix}answers": Count("id"),
        f"{prefix}high": Count("id", filter=HIGH[kind]),
        f"{prefix}low": Count("id", filter=LOW[kind]),
        f"{prefix}total": Coalesce(Sum("score"), 0),
    }


def _metric(kind: str, row: dict, prefix: str = "") -> Metric:
    return Metric(
        kind=kind,
        answers=row[f"{prefix}answers"] or 0,
        high=row[f"{prefix}high"] or 0,
        low=row[f"{prefix}low"] or 0,
        total=int(row[f"{prefix}total"] or 0),
    )


def metric(*, responses: QuerySet[Response], kind: str) -> Metric:
    """One query: the metric of ``kind`` over the given responses."""
    row = responses.filter(kind=kind, score__isnull=False).aggregate(**_metric_aggregates(kind))
    return _metric(kind, row)


def metrics_all(*, responses: QuerySet[Response]) -> dict[str, Metric]:
    """NPS, CSAT and CES over the given responses, in one query."""
    aggregates = {}
    for kind in METRIC_KINDS:
        scoped = Q(kind=kind, score__isnull=False)
        aggregates |= {
            f"{kind}_answers": Count("id", filter=scoped),
            f"{kind}_high": Count("id", filter=scoped & HIGH[kind]),
            f"{kind}_low": Count("id", filter=scoped & LOW[kind]),
            f"{kind}_total": Coalesce(Sum("score", filter=scoped), 0),
        }
    row = responses.aggregate(**aggregates)
    return {kind: _metric(kind, row, f"{kind}_") for kind in METRIC_KINDS}


# ---------------------------------------------------------------- analysis


def period_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, day after end 00:00) in the platform's time zone."""
    tz = timezone.get_current_timezone()
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=tz),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
    )


@dataclass(frozen=True)
class AnalysisFilters:
    kind: str = SurveyKind.NPS
    start: dt.date | None = None
    end: dt.date | None = None
    campaign_id: int | None = None
    segment: str = ""
    tier: str = ""
    plan: str = ""
    owner_id: int | None = None
    cohort: str = ""  # "2025-Q3": accounts whose contract started in that quarter

    def period(self) -> tuple[dt.date, dt.date]:
        end = self.end or timezone.localdate()
        start = self.start or (end - dt.timedelta(days=364))
        return start, end


def _cohort_q(prefix: str, cohort: str) -> Q:
    try:
        year, quarter = cohort.split("-Q")
        year, quarter = int(year), int(quarter)
    except ValueError:
        return Q()
    if not 1 <= quarter <= 4:
        return Q()
    first = dt.date(year, quarter * 3 - 2, 1)
    last = dt.date(year + (quarter == 4), (quarter * 3) % 12 + 1, 1)
    return Q(**{f"{prefix}contract_start__gte": first, f"{prefix}contract_start__lt": last})


def _account_filters(filters: AnalysisFilters, prefix: str = "account__") -> Q:
    q = Q()
    if filters.segment:
        q &= Q(**{f"{prefix}segment": filters.segment})
    if filters.tier:
        q &= Q(**{f"{prefix}tier": filters.tier})
    if filters.plan:
        q &= Q(**{f"{prefix}plan": filters.plan})
    if filters.owner_id:
        q &= Q(**{f"{prefix}owner_id": filters.owner_id})
    if filters.cohort:
        q &= _cohort_q(prefix, filters.cohort)
    return q


def visible_responses(user) -> QuerySet[Response]:
    """The answers a staff user may read: those of accounts they may see."""
    return Response.objects.filter(account__in=Account.objects.visible_to(user).values("pk"))


def visible_invitations(user) -> QuerySet[Invitation]:
    return Invitation.objects.filter(account__in=Account.objects.visible_to(user).values("pk"))


def analysis_responses(*, user, filters: AnalysisFilters) -> QuerySet[Response]:
    start, end = filters.period()
    since, until = period_bounds(start, end)
    qs = visible_responses(user).filter(
        kind=filters.kind, score__isnull=False, answered_at__gte=since, answered_at__lt=until
    )
    if filters.campaign_id:
        qs = qs.filter(campaign_id=filters.campaign_id)
    return qs.filter(_account_filters(filters))


@dataclass
class Breakdown:
    label: str
    rows: list[tuple[str, Metric]]


@dataclass
class Analysis:
    filters: AnalysisFilters
    start: dt.date
    end: dt.date
    metric: Metric
    invitations_sent: int
    invitations_answered: int
    months: list[tuple[dt.date, Metric]]
    breakdowns: list[Breakdown] = field(default_factory=list)

    @property
    def response_rate(self) -> float | None:
        if not self.invitations_sent:
            return None
        return self.invitations_answered * 100.0 / self.invitations_sent


def _month_starts(start: dt.date, end: dt.date) -> list[dt.date]:
    months, cursor = [], start.replace(day=1)
    while cursor <= end:
        months.append(cursor)
        cursor = (cursor + dt.timedelta(days=32)).replace(day=1)
    return months


def analysis(*, user, filters: AnalysisFilters, labels: dict[str, dict[str, str]] | None = None) -> Analysis:
    """The metric for the period, the response rate, the trend by month and the breakdowns by
    segment, tier, plan, owner and signup cohort. Eight grouped queries in all."""
    from accounts.models import Segment, Tier

    labels = labels or {}
    kind = filters.kind
    start, end = filters.period()
    responses = analysis_responses(user=user, filters=filters)
    overall = metric(responses=responses, kind=kind)

    since, until = period_bounds(start, end)
    sent = visible_invitations(user).filter(
        campaign__survey__kind=kind, status=InvitationStatus.SENT, sent_at__gte=since, sent_at__lt=until
    )
    if filters.campaign_id:
        sent = sent.filter(campaign_id=filters.campaign_id)
    sent = sent.filter(_account_filters(filters))
    rate_row = sent.aggregate(sent=Count("id"), answered=Count("response"))

    tz = timezone.get_current_timezone()
    by_month = {
        row["month"].date() if isinstance(row["month"], dt.datetime) else row["month"]: _metric(kind, row)
        for row in responses.annotate(month=TruncMonth("answered_at", tzinfo=tz))
        .values("month")
        .annotate(**_metric_aggregates(kind))
        .order_by("month")
    }
    empty = Metric(kind=kind, answers=0, high=0, low=0, total=0)
    months = [(month, by_month.get(month, empty)) for month in _month_starts(start, end)]

    def grouped(expression, label_of) -> list[tuple[str, Metric]]:
        rows = (
            responses.annotate(group=expression)
            .values("group")
            .annotate(**_metric_aggregates(kind))
            .order_by("group")
        )
        result = [(label_of(row["group"]), _metric(kind, row)) for row in rows]
        return sorted(result, key=lambda item: (-item[1].answers, item[0]))

    segments, tiers = dict(Segment.choices), dict(Tier.choices)
    owners = labels.get("owners", {})
    breakdowns = [
        Breakdown(
            str(labels.get("segment", "Segment")),
            grouped(F("account__segment"), lambda v: str(segments.get(v, v))),
        ),
        Breakdown(
            str(labels.get("tier", "Tier")), grouped(F("account__tier"), lambda v: str(tiers.get(v, v)))
        ),
        Breakdown(str(labels.get("plan", "Plan")), grouped(F("account__plan"), lambda v: v or "—")),
        Breakdown(
            str(labels.get("owner", "Owner")),
            grouped(
                Coalesce(
                    F("account__owner__full_name"),
                    F("account__owner__email"),
                    Value(""),
                    output_field=CharField(),
                ),
                lambda v: v or owners.get("", "—"),
            ),
        ),
        Breakdown(
            str(labels.get("cohort", "Signup cohort")),
            grouped(
                Concat(
                    ExtractYear("account__contract_start"),
                    Value("-Q"),
                    (ExtractMonth("account__contract_start") + 2) / 3,
                    output_field=CharField(),
                ),
                lambda v: v,
            ),
        ),
    ]
    return Analysis(
        filters=filters,
        start=start,
        end=end,
        metric=overall,
        invitations_sent=rate_row["sent"],
        invitations_answered=rate_row["answered"],
        months=months,
        breakdowns=breakdowns,
    )


def verbatims(
    *,
    user,
    q: str = "",
    kind: str = "",
    band: str = "",
    campaign_id: int | None = None,
    account_id: int | None = None,
) -> QuerySet[Response]:
    """Answers with words in them (follow-up or comment), newest first, with search and filters."""
    qs = (
        visible_responses(user)
        .filter(~Q(follow_up="") | ~Q(comment=""))
        .select_related("account", "contact", "campaign")
        .order_by("-answered_at", "-id")
    )
    if q:
        qs = qs.filter(
            Q(follow_up__icontains=q)
            | Q(comment__icontains=q)
            | Q(contact__name__icontains=q)
            | Q(account__name__icontains=q)
        )
    if kind:
        qs = qs.filter(kind=kind)
    if band:
        qs = qs.filter(band=band)
    if campaign_id:
        qs = qs.filter(campaign_id=campaign_id)
    if account_id:
        qs = qs.filter(account_id=account_id)
    return qs


# ---------------------------------------------------------------- closing the loop


def visible_follow_ups(user) -> QuerySet[FollowUp]:
    return FollowUp.objects.filter(account__in=Account.objects.visible_to(user).values("pk"))


def follow_up_rows(*, user, state: str = "open", q: str = "") -> QuerySet[FollowUp]:
    qs = visible_follow_ups(user).select_related("account", "owner", "response__contact", "task", "closed_by")
    if state == "open":
        qs = qs.filter(closed_at__isnull=True)
    elif state == "closed":
        qs = qs.filter(closed_at__isnull=False)
    if q:
        qs = qs.filter(
            Q(account__name__icontains=q)
            | Q(response__contact__name__icontains=q)
            | Q(response__contact__email__icontains=q)
            | Q(response__comment__icontains=q)
            | Q(response__follow_up__icontains=q)
        )
    return (
        qs.order_by("closed_at", "-opened_at", "-pk")
        if state != "closed"
        else qs.order_by("-closed_at", "-pk")
    )


@dataclass(frozen=True)
class LoopStats:
    opened: int
    closed: int
    avg_hours_to_close: float | None

    @property
    def closed_rate(self) -> float | None:
        return self.closed * 100.0 / self.opened if self.opened else None


def loop_stats(*, user, since: dt.datetime | None = None) -> LoopStats:
    """Loop-closed rate and the mean time from the answer to the recorded outcome. One query."""
    qs = visible_follow_ups(user)
    if since is not None:
        qs = qs.filter(opened_at__gte=since)
    row = qs.aggregate(
        opened=Count("id"),
        closed=Count("id", filter=Q(closed_at__isnull=False)),
        avg=Avg(
            ExpressionWrapper(F("closed_at") - F("response__answered_at"), output_field=DurationField()),
            filter=Q(closed_at__isnull=False),
        ),
    )
    avg = row["avg"]
    hours = None
    if avg is not None:
        hours = (avg.total_seconds() if isinstance(avg, dt.timedelta) else float(avg) / 1e6) / 3600
    return LoopStats(opened=row["opened"], closed=row["closed"], avg_hours_to_close=hours)


# ---------------------------------------------------------------- campaigns


def campaign_rows(*, user, q: str = "", status: str = "", kind: str = "") -> QuerySet[Campaign]:
    """The campaigns a user may see with their sent, answered and skipped counts. One query."""
    sent = (
        Invitation.objects.filter(campaign=OuterRef("pk"), status=InvitationStatus.SENT)
        .order_by()
        .values("campaign")
        .annotate(n=Count("*"))
        .values("n")
    )
    answered = (
        Response.objects.filter(campaign=OuterRef("pk"))
        .order_by()
        .values("campaign")
        .annotate(n=Count("*"))
        .values("n")
    )
    qs = (
        Campaign.objects.visible_to(user)
        .select_related("survey", "created_by")
        .annotate(sent_count=Coalesce(Subquery(sent), 0), answered_count=Coalesce(Subquery(answered), 0))
    )
    if q:
        qs = qs.filter(name__icontains=q)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(survey__kind=kind)
    return qs.order_by("-created_at", "-pk")


@dataclass(frozen=True)
class Progress:
    total: int
    queued: int
    sending: int
    sent: int
    failed: int
    cancelled: int
    skipped: int
    skipped_by_reason: dict[str, int]
    answered: int
    opened: int
    reminders_sent: int
    reminders_waiting: int

    @property
    def processed(self) -> int:
        return self.sent + self.failed + self.skipped + self.cancelled

    @property
    def percent(self) -> int:
        if not self.total:
            return 0
        return int(self.processed * 100 / self.total)

    @property
    def done(self) -> bool:
        return self.total > 0 and not self.queued and not self.sending

    @property
    def response_rate(self) -> float | None:
        return self.answered * 100.0 / self.sent if self.sent else None


def _progress_aggregates() -> dict:
    reasons = [r for r in SkipReason.values if r]
    aggregates = {
        "total": Count("id"),
        "queued": Count("id", filter=Q(status=InvitationStatus.QUEUED)),
        "sending": Count("id", filter=Q(status=InvitationStatus.SENDING)),
        "sent": Count("id", filter=Q(status=InvitationStatus.SENT)),
        "failed": Count("id", filter=Q(status=InvitationStatus.FAILED)),
        "cancelled": Count("id", filter=Q(status=InvitationStatus.CANCELLED)),
        "answered": Count("response"),
        "opened": Count("id", filter=Q(opened_at__isnull=False)),
        "reminders_sent": Count("id", filter=Q(reminder_status=ReminderStatus.SENT)),
        "reminders_waiting": Count(
            "id", filter=Q(reminder_status__in=[ReminderStatus.QUEUED, ReminderStatus.SENDING])
        ),
    }
    for reason in reasons:
        aggregates[f"skip_{reason}"] = Count(
            "id", filter=Q(status=InvitationStatus.SKIPPED, skip_reason=reason)
        )
    return aggregates


def _progress(row: dict) -> Progress:
    by_reason = {key[5:]: row[key] for key in row if key.startswith("skip_") and row[key]}
    return Progress(
        total=row["total"],
        queued=row["queued"],
        sending=row["sending"],
        sent=row["sent"],
        failed=row["failed"],
        cancelled=row["cancelled"],
        skipped=sum(by_reason.values()),
        skipped_by_reason=by_reason,
        answered=row["answered"],
        opened=row["opened"],
        reminders_sent=row["reminders_sent"],
        reminders_waiting=row["reminders_waiting"],
    )


def campaign_progress(*, campaign: Campaign, round_id: int | None = None) -> Progress:
    """Queued, sent, failed, skipped (by reason) and answered, over the campaign or one round. One query."""
    qs = Invitation.objects.filter(campaign=campaign)
    if round_id is not None:
        qs = qs.filter(round_id=round_id)
    return _progress(qs.aggregate(**_progress_aggregates()))


@dataclass(frozen=True)
class RoundSummary:
    round: CampaignRound
    progress: Progress
    metric: Metric


def campaign_rounds(*, campaign: Campaign) -> list[RoundSummary]:
    """Every round with its counts and its own score. Three queries whatever the rounds."""
    rounds = list(campaign.rounds.order_by("-number"))
    kind = campaign.survey.kind
    progress_rows = {
        row["round_id"]: _progress(row)
        for row in Invitation.objects.filter(campaign=campaign)
        .order_by()
        .values("round_id")
        .annotate(**_progress_aggregates())
    }
    metric_kind = kind if kind in METRIC_KINDS else SurveyKind.CSAT
    metric_rows = {
        row["round_id"]: _metric(metric_kind, row)
        for row in Response.objects.filter(campaign=campaign, score__isnull=False)
        .order_by()
        .values("round_id")
        .annotate(**_metric_aggregates(metric_kind))
    }
    empty_progress = _progress(dict.fromkeys(["total", *_progress_aggregates().keys()], 0))
    empty_metric = Metric(kind=metric_kind, answers=0, high=0, low=0, total=0)
    return [
        RoundSummary(
            round=rnd,
            progress=progress_rows.get(rnd.pk, empty_progress),
            metric=metric_rows.get(rnd.pk, empty_metric),
        )
        for rnd in rounds
    ]


@dataclass(frozen=True)
class AudiencePreview:
    contacts: int
    accounts: int
    would_send: int
    opted_out: int
    suppressed: int
    throttled: int
    duplicates: int


def audience_preview(*, campaign: Campaign, now: dt.datetime | None = None) -> AudiencePreview:
    """Who the campaign would reach if it were sent now, and who would be skipped and why. One query."""
    now = now or timezone.now()
    contacts = outbox.classify(
        outbox.audience_contacts(campaign), throttle_days=campaign.throttle_days, now=now
    )
    eligible = Q(accepts_surveys=True, is_suppressed=False, is_throttled=False)
    row = contacts.aggregate(
        contacts=Count("id"),
        accounts=Count("account", distinct=True),
        opted_out=Count("id", filter=Q(accepts_surveys=False)),
        suppressed=Count("id", filter=Q(accepts_surveys=True, is_suppressed=True)),
        throttled=Count("id", filter=Q(accepts_surveys=True, is_suppressed=False, is_throttled=True)),
        eligible=Count("id", filter=eligible),
        addresses=Count(Lower("email"), filter=eligible, distinct=True),
    )
    return AudiencePreview(
        contacts=row["contacts"],
        accounts=row["accounts"],
        would_send=row["addresses"],
        opted_out=row["opted_out"],
        suppressed=row["suppressed"],
        throttled=row["throttled"],
        duplicates=row["eligible"] - row["addresses"],
    )


def invitation_rows(
    *, campaign: Campaign, status: str = "", reason: str = "", q: str = "", round_id: int | None = None
) -> QuerySet[Invitation]:
    qs = (
        Invitation.objects.filter(campaign=campaign)
        .select_related("contact", "account", "round", "response")
        .order_by("-id")
    )
    if status:
        qs = qs.filter(status=status)
    if reason:
        qs = qs.filter(skip_reason=reason)
    if round_id:
        qs = qs.filter(round_id=round_id)
    if q:
        qs = qs.filter(Q(email__icontains=q) | Q(contact__name__icontains=q) | Q(account__name__icontains=q))
    return qs


# ---------------------------------------------------------------- the account 360


@dataclass(frozen=True)
class AccountFeedback:
    latest: dict[str, Response | None]
    recent: list[Response]

    @property
    def has_data(self) -> bool:
        return bool(self.recent)


RECENT_ANSWERS = 5  # on the account 360


@prepared
def _recent_answers(account_id: int) -> QuerySet[Response]:
    return (
        Response.objects.filter(account_id=account_id)
        .select_related("contact")
        .order_by("-answered_at", "-id")[:RECENT_ANSWERS]
    )


@prepared
def _latest_answer_ids(account_id: int) -> QuerySet[Account]:
    latest = {
        f"latest_{kind}": Subquery(
            Response.objects.filter(account=OuterRef("pk"), kind=kind)
            .order_by("-answered_at", "-id")
            .values("id")[:1]
        )
        for kind in METRIC_KINDS
    }
    return Account.objects.filter(pk=account_id).annotate(**latest).values(*latest)[:1]


def account_feedback(*, account: Account) -> AccountFeedback:
    """The account's latest NPS, CSAT and CES answers and its most recent answers. Two queries
    (three when a latest answer is older than the recent ones)."""
    rows = _recent_answers(account_id=account.pk)
    ids_row = next(iter(_latest_answer_ids(account_id=account.pk)), {})
    by_id = {response.pk: response for response in rows}
    missing = [pk for pk in ids_row.values() if pk and pk not in by_id]
    if missing:
        for response in Response.objects.filter(pk__in=missing).select_related("contact"):
            by_id[response.pk] = response
    latest = {kind: by_id.get(ids_row.get(f"latest_{kind}")) for kind in METRIC_KINDS}
    return AccountFeedback(latest=latest, recent=rows)
