"""Reads on health: scoring (set-based, for every account in a handful of queries), the account's
explanation and trend, the task inbox and its counts, and the backtest."""

from __future__ import annotations

import datetime as dt
import gc
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account
from accounts.selectors import mrr_by_account_on
from cs_app.plain_rows import plain_rows
from cs_app.prepared import prepared
from team.models import Role, User

from .models import Alert, AlertStatus, Grade, HealthSnapshot, Playbook, Scorecard, Task, TaskStatus
from .registry import CAPS, MEASURES, ScoringContext, Signals, collect_signals, provided_signals
from .scoring import CapConfig, CardConfig, MeasureConfig, Result, Scorer, roc_auc

# ---------------------------------------------------------------- scoring


@dataclass(frozen=True)
class Cards:
    by_segment: dict[str, CardConfig]
    default: CardConfig | None

    def for_segment(self, segment: str) -> CardConfig | None:
        return self.by_segment.get(segment) or self.default


def scorecards_load() -> Cards:
    """Every scorecard with its measures and caps: three queries."""
    cards: dict[str, CardConfig] = {}
    for card in Scorecard.objects.prefetch_related("measures", "caps"):
        cards[card.segment] = CardConfig(
            id=card.pk,
            name=card.name,
            green_from=card.green_from,
            yellow_from=card.yellow_from,
            measures=tuple(
                MeasureConfig(key=m.key, weight=m.weight, zero_at=m.zero_at, full_at=m.full_at)
                for m in card.measures.all()
            ),
            caps=tuple(
                CapConfig(condition=c.condition, cap=c.cap, window_days=c.window_days, threshold=c.threshold)
                for c in card.caps.all()
                if c.is_active
            ),
        )
    default = cards.pop("", None)
    return Cards(by_segment=cards, default=default)


@dataclass
class Computed:
    ctx: ScoringContext
    signals: Signals
    results: dict[int, Result]
    card_ids: dict[int, int | None]  # account id -> scorecard id used
    cards: Cards | None = None

    def signals_for(self, account_id: int) -> dict[str, Any]:
        return {key: values[account_id] for key, values in self.signals.items() if account_id in values}

    def score(self) -> None:
        """Score every account from the raw values (pure Python; the garbage collector is paused:
        the loop makes many small objects and tracing them all costs more than the scoring)."""
        by_card: dict[int | None, tuple[CardConfig, list[int]]] = {}
        for account_id, row in self.ctx.account_rows.items():
            card = self.cards.for_segment(row[0])
            if card is not None:
                by_card.setdefault(card.id, (card, []))[1].append(account_id)
        enabled = gc.isenabled()
        gc.disable()
        try:
            for card_id, (card, account_ids) in by_card.items():
                self.results.update(Scorer(card).score_many(account_ids, self.signals, self.ctx.as_of))
                self.card_ids.update(dict.fromkeys(account_ids, card_id))
        finally:
            if enabled:
                gc.enable()


def scores_compute(
    *,
    day: dt.date,
    as_of: dt.datetime,
    accounts: QuerySet[Account] | None = None,
    replay: bool = False,
    cards: Cards | None = None,
    id_range: tuple[int, int] | None = None,
    score: bool = True,
) -> Computed:
    """Score every account in ``accounts`` (default: every account not churned; ``id_range``: only
    ids in it) using only data before ``as_of``. A fixed number of queries whatever the number of
    accounts: one for the accounts, three for the scorecards, and one or two per source.
    ``score=False`` gathers the raw values only (``Computed.score()`` scores them later)."""
    cards = cards or scorecards_load()
    scope = Account.objects.all() if accounts is None else accounts
    if id_range is not None:
        scope = scope.filter(pk__gte=id_range[0], pk__lte=id_range[1])
    if not replay:
        scope = scope.filter(churned_at__isnull=True)
    rows = scope.order_by().values_list(
        "id", "segment", "owner_id", "renewal_date", "contract_start", "last_touch_at", "mrr"
    )
    ctx = ScoringContext(day=day, as_of=as_of, accounts=accounts, replay=replay, id_range=id_range)
    ctx.account_rows = {row[0]: row[1:] for row in plain_rows(rows)}
    computed = Computed(ctx=ctx, signals=collect_signals(ctx), results={}, card_ids={}, cards=cards)
    if score:
        computed.score()
    return computed


# ---------------------------------------------------------------- one account's health


@dataclass(frozen=True)
class MeasureLine:
    key: str
    label: str
    unit: str
    description: str
    raw: float | None
    score: float | None
    weight: int
    contribution: float | None
    share: float  # the most this measure could contribute, in points
    lost: float  # points it pulls the score down by
    needs: str

    @property
    def has_data(self) -> bool:
        return self.raw is not None


@dataclass(frozen=True)
class Change:
    label: str
    before: float | None
    after: float | None
    delta: float


@dataclass
class HealthView:
    snapshot: HealthSnapshot | None
    lines: list[MeasureLine] = field(default_factory=list)  # with data, most pulling down first
    missing: list[MeasureLine] = field(default_factory=list)
    cap_label: str = ""
    cap_points: float = 0.0
    change_7d: int | None = None
    change_30d: int | None = None
    changes: list[Change] = field(default_factory=list)  # since last week, biggest first
    trend: list[tuple[dt.date, int]] = field(default_factory=list)  # (day, score), oldest first
    points: str = ""  # SVG polyline points of the 90-day trend

    @property
    def score(self) -> int | None:
        return self.snapshot.score if self.snapshot else None

    @property
    def total_contribution(self) -> float:
        return round(sum(line.contribution or 0 for line in self.lines), 1)


def _lines(measures: dict[str, list[Any]]) -> tuple[list[MeasureLine], list[MeasureLine]]:
    used = [(k, v) for k, v in measures.items() if v[0] is not None]
    total_weight = sum(v[2] for _k, v in used) or 1
    lines, missing = [], []
    for key, (raw, score, weight, contribution) in measures.items():
        spec = MEASURES.get(key)
        share = weight * 100 / total_weight if raw is not None else 0.0
        line = MeasureLine(
            key=key,
            label=str(spec.label) if spec else key,
            unit=str(spec.unit) if spec else "",
            description=str(spec.description) if spec else "",
            raw=raw,
            score=score,
            weight=weight,
            contribution=contribution,
            share=round(share, 1),
            lost=round(share - (contribution or 0), 1) if raw is not None else 0.0,
            needs=str(spec.needs) if spec else "",
        )
        (lines if raw is not None else missing).append(line)
    lines.sort(key=lambda line: (-line.lost, line.label))
    missing.sort(key=lambda line: line.label)
    return lines, missing


SNAPSHOT_FIELDS = (
    "day",
    "score",
    "uncapped_score",
    "capped_by",
    "grade",
    "raw",
    "account_id",
    "card_version__config",
)


@prepared
def _snapshots_between(account_id: int, after: dt.date, until: dt.date) -> QuerySet[HealthSnapshot]:
    return (
        HealthSnapshot.objects.filter(account_id=account_id, day__gt=after, day__lte=until)
        .order_by("day")
        .select_related("card_version")
        .only(*SNAPSHOT_FIELDS)
    )


def account_health(*, account: Account, today: dt.date | None = None, days: int = 90) -> HealthView:
    """The account's latest score explained, its 90-day trend and what changed since last week.
    One query (the snapshots with their scorecard versions)."""
    today = today or timezone.localdate()
    snapshots = _snapshots_between(account_id=account.pk, after=today - dt.timedelta(days=days), until=today)
    if not snapshots:
        return HealthView(snapshot=None)
    latest = snapshots[-1]
    view = HealthView(snapshot=latest)
    latest_measures = latest.measures
    view.lines, view.missing = _lines(latest_measures)
    if latest.capped_by and latest.uncapped_score is not None and latest.score is not None:
        spec = CAPS.get(latest.capped_by)
        view.cap_label = str(spec.label) if spec else latest.capped_by
        view.cap_points = float(latest.score - latest.uncapped_score)
    by_day = {snap.day: snap for snap in snapshots}
    week_ago = by_day.get(latest.day - dt.timedelta(days=7))
    month_ago = by_day.get(latest.day - dt.timedelta(days=30))
    if latest.score is not None:
        if week_ago and week_ago.score is not None:
            view.change_7d = latest.score - week_ago.score
        if month_ago and month_ago.score is not None:
            view.change_30d = latest.score - month_ago.score
    if week_ago:
        changes = []
        week_measures = week_ago.measures
        for key, now in latest_measures.items():
            before = week_measures.get(key)
            now_c = now[3] or 0.0
            before_c = (before[3] or 0.0) if before else 0.0
            if (now[0] is None) != (before is None or before[0] is None) or abs(now_c - before_c) >= 0.5:
                spec = MEASURES.get(key)
                changes.append(
                    Change(
                        label=str(spec.label) if spec else key,
                        before=before[0] if before else None,
                        after=now[0],
                        delta=round(now_c - before_c, 1),
                    )
                )
        changes.sort(key=lambda change: abs(change.delta), reverse=True)
        view.changes = changes[:5]
    view.trend = [(snap.day, snap.score) for snap in snapshots if snap.score is not None]
    if view.trend:
        first = today - dt.timedelta(days=days - 1)
        step = 300 / max(1, days - 1)
        view.points = " ".join(f"{(d - first).days * step:.1f},{100 - score:.0f}" for d, score in view.trend)
    return view


ACCOUNT_LIST_LIMIT = 10  # alerts and tasks on the account 360


def account_alerts(*, account: Account) -> list[Alert]:
    """Open and snoozed alerts of the account, newest first. One query, or none when the account's
    timeline has just been read (its first page brings them along)."""
    from .timeline import OPEN_ALERTS_ATTR

    if hasattr(account, OPEN_ALERTS_ATTR):
        return getattr(account, OPEN_ALERTS_ATTR)[:ACCOUNT_LIST_LIMIT]
    return _open_alerts(account_id=account.pk)


@prepared
def _open_alerts(account_id: int) -> QuerySet[Alert]:
    return (
        Alert.objects.filter(account_id=account_id)
        .exclude(status=AlertStatus.RESOLVED)
        .select_related("rule")
        .order_by("-opened_at", "-pk")[:ACCOUNT_LIST_LIMIT]
    )


@prepared
def _open_tasks(account_id: int) -> QuerySet[Task]:
    return (
        Task.objects.filter(account_id=account_id, status=TaskStatus.OPEN)
        .select_related("owner")
        .order_by("due_date", "-priority", "pk")[:ACCOUNT_LIST_LIMIT]
    )


def account_tasks(*, account: Account) -> list[Task]:
    """The account's first open tasks, soonest due first. One query."""
    return _open_tasks(account_id=account.pk)


def active_playbooks() -> list[tuple[int, str]]:
    """(id, name) of the active playbooks, for the "apply a playbook" menu. One query."""
    return list(Playbook.objects.filter(is_active=True).order_by("name").values_list("pk", "name"))


def missing_sources() -> list[str]:
    """Measures no installed part of the product provides data for yet."""
    provided = provided_signals()
    return [str(spec.label) for key, spec in MEASURES.items() if key not in provided]


# ---------------------------------------------------------------- tasks


INBOX_VIEWS = ("open", "snoozed", "done")


def inbox_tasks(*, user: User, view: str = "open", owner: User | None = None, today: dt.date | None = None):
    """The task inbox: overdue first, then by due date and priority (most urgent first). One query.

    ``owner``: whose inbox (managers may look at anyone's; a CSM only ever sees their own).
    """
    today = today or timezone.localdate()
    owner = owner if (owner is not None and user.sees_all_accounts) else user
    qs = Task.objects.visible_to(user).filter(owner=owner).select_related("account")
    if view == "snoozed":
        return qs.filter(status=TaskStatus.OPEN, snoozed_until__gt=today).order_by(
            "snoozed_until", "-priority", "pk"
        )
    if view == "done":
        return qs.filter(status=TaskStatus.DONE).order_by("-completed_at", "-pk")
    return (
        qs.actionable(today)
        .annotate(
            overdue=Case(
                When(due_date__lt=today, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("overdue", "due_date", "-priority", "pk")
    )


@dataclass(frozen=True)
class TaskCounts:
    open: int
    overdue: int
    snoozed: int


def task_counts(*, user: User, today: dt.date | None = None) -> TaskCounts:
    """The navigation's counts of the user's own tasks. One query."""
    today = today or timezone.localdate()
    if not getattr(user, "is_authenticated", False):
        return TaskCounts(0, 0, 0)
    awake = Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today)
    row = Task.objects.filter(owner=user, status=TaskStatus.OPEN).aggregate(
        open=Count("pk", filter=awake),
        overdue=Count("pk", filter=awake & Q(due_date__lt=today)),
        snoozed=Count("pk", filter=Q(snoozed_until__gt=today)),
    )
    return TaskCounts(**row)


def assignees() -> list[tuple[int, str]]:
    """Who a task can be given to: active CSMs and managers. One query."""
    users = User.objects.filter(is_active=True, role__in=[Role.CSM, Role.MANAGER]).order_by(
        "full_name", "email"
    )
    return [(user.pk, str(user)) for user in users]


# ---------------------------------------------------------------- backtest


@dataclass(frozen=True)
class GradeRow:
    grade: str
    label: str
    accounts: int
    churned: int

    @property
    def rate(self) -> float | None:
        return self.churned / self.accounts if self.accounts else None

    @property
    def rate_pct(self) -> float | None:
        return None if self.rate is None else self.rate * 100


@dataclass
class Backtest:
    day: dt.date
    horizon: int
    start: dt.date  # cohort: accounts paying at the end of this day (the day before ``day``)
    end: dt.date  # churned: no longer paying at the end of this day
    cohort: int
    scored: int
    churned: int
    by_grade: list[GradeRow]
    no_data: GradeRow
    auc: float | None
    base_rate: float | None
    red_lift: float | None
    bands: list[GradeRow]  # churn by score band of 10 points
    rows: list[tuple[int, int, str, bool]]  # account id, score, grade, churned

    @property
    def base_rate_pct(self) -> float | None:
        return None if self.base_rate is None else self.base_rate * 100


def backtest(*, day: dt.date, horizon: int = 90) -> Backtest:
    """Replay the scoring as of the start of ``day`` (only data from before it) for the accounts
    paying the day before, and compare the grades with who churned over the next ``horizon`` days.

    A constant number of queries: the scoring's, plus two grouped MRR queries.
    """
    tz = timezone.get_current_timezone()
    as_of = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    start = day - dt.timedelta(days=1)
    end = start + dt.timedelta(days=horizon)
    paying_then = {aid for aid, mrr in mrr_by_account_on(day=start).items() if mrr > 0}
    paying_after = {aid for aid, mrr in mrr_by_account_on(day=end).items() if mrr > 0}
    computed = scores_compute(day=day, as_of=as_of, replay=True)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    bands: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    scores: list[float] = []
    outcomes: list[bool] = []
    rows = []
    for account_id in sorted(paying_then):
        result = computed.results.get(account_id)
        lost = account_id not in paying_after
        grade = result.grade if result and result.score is not None else ""
        counts[grade][0] += 1
        counts[grade][1] += lost
        if grade:
            scores.append(result.score)
            outcomes.append(lost)
            band = min(9, result.score // 10)
            bands[band][0] += 1
            bands[band][1] += lost
            rows.append((account_id, result.score, grade, lost))
    labels = dict(Grade.choices)
    by_grade = [
        GradeRow(g, str(labels[g]), *counts.get(g, [0, 0])) for g in (Grade.RED, Grade.YELLOW, Grade.GREEN)
    ]
    scored, churned = len(scores), sum(outcomes)
    base_rate = churned / scored if scored else None
    red = by_grade[0]
    red_lift = red.rate / base_rate if (base_rate and red.rate is not None) else None
    return Backtest(
        day=day,
        horizon=horizon,
        start=start,
        end=end,
        cohort=len(paying_then),
        scored=scored,
        churned=churned,
        by_grade=by_grade,
        no_data=GradeRow("", _("No data"), *counts.get("", [0, 0])),
        auc=roc_auc(scores, outcomes),
        base_rate=base_rate,
        red_lift=red_lift,
        bands=[
            GradeRow(str(b), f"{b * 10}–{b * 10 + 9 if b < 9 else 100}", *bands[b])
            for b in range(10)
            if b in bands
        ],
        rows=rows,
    )
