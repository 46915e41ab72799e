"""Every dashboard figure, computed set-based: a fixed handful of grouped queries per figure,
whatever the number of accounts, never a query per account.

The definitions are DESIGN.md's "Metric definitions":

* MRR of an account on day t is the sum of its MRR movements dated on or before t (amounts in
  the reporting currency; a movement in another currency was converted when recorded). An
  account is active on t when that sum is above zero.
* For a period S..E the starting cohort is the accounts active on S. Logo churn is the share
  of the cohort not active on E; net revenue churn is (cohort MRR on S − the same accounts' MRR
  on E) / cohort MRR on S; NRR is cohort MRR on E / on S; GRR adds up min(MRR on E, MRR on S)
  over the cohort; gross revenue churn is 1 − GRR.
* The MRR waterfall is MRR on S plus the movements dated after S and on or before E, by kind,
  which equals MRR on E.
* ARPA is MRR on E / accounts active on E; the monthly churn rate comes from the logo churn c
  over the 12 months ending E as 1 − (1 − c)^(1/12); simple CLV = ARPA × margin / monthly
  churn rate; discounted CLV = ARPA × margin × r / (1 + d − r) with r = 1 − monthly churn rate.

How: one query reads the movements once, groups them by account into the MRR on each day a
figure needs (and the movements of each window by kind), and a second level groups those
accounts by the slice asked for (segment, tier, plan, owner or signup cohort), so the database
returns a few rows of sums. Every sum is additive, so a total is the sum of its slices.
SQLite adds decimals as floats: an account counts as active above half a cent, and sums are
rounded back to cents in Python, like ``accounts.selectors`` does.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet, FieldDoesNotExist
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import ExtractMonth, ExtractYear
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import Account, ChurnReason, MovementKind, MrrMovement, Segment, Tier
from health.models import Grade, HealthSnapshot, Task, TaskStatus
from team.models import User

from . import sources
from .periods import Period, add_months, month_end, month_start

CENT = Decimal("0.01")
ZERO = Decimal("0")
ACTIVE_ABOVE = "0.005"  # half a cent: MRR sums are whole cents (SQLite's float sums are not quite)
KINDS = tuple(MovementKind.values)  # new, expansion, contraction, churn, reactivation
GRADES = (Grade.RED.value, Grade.YELLOW.value, Grade.GREEN.value)
NO_GRADE = ""


def cents(value: Any) -> Decimal:
    """A database sum back to exact cents (never "-0.00")."""
    if value is None:
        return ZERO
    return Decimal(str(value)).quantize(CENT) + 0


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in the platform's time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


# ---------------------------------------------------------------- scope and slices


def month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def month_from_index(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Scope:
    """Which accounts a figure covers: those the user may see, narrowed by the slice filters."""

    user: User
    segment: str = ""
    tier: str = ""
    plan: str = ""
    owner_id: int | None = None
    cohort: dt.date | None = None  # first day of a signup (contract start) month

    def q(self, prefix: str = "") -> Q:
        """The scope as a filter on accounts (``prefix`` "account__" from a related model)."""
        q = Q()
        if not self.user.sees_all_accounts:
            # Account.objects.visible_to's rule, as a filter on the owner column so the database
            # uses the owner index (a CSM's 2,000 accounts out of 100,000 in milliseconds).
            if self.user.has_app_access:
                q &= Q(**{f"{prefix}owner": self.user})
            else:
                q &= Q(**{f"{prefix}pk__in": []})
        if self.segment:
            q &= Q(**{f"{prefix}segment": self.segment})
        if self.tier:
            q &= Q(**{f"{prefix}tier": self.tier})
        if self.plan:
            q &= Q(**{f"{prefix}plan": self.plan})
        if self.owner_id:
            q &= Q(**{f"{prefix}owner_id": self.owner_id})
        if self.cohort:
            q &= Q(
                **{
                    f"{prefix}contract_start__gte": self.cohort,
                    f"{prefix}contract_start__lte": month_end(self.cohort),
                }
            )
        return q

    def accounts(self) -> QuerySet[Account]:
        return Account.objects.filter(self.q())

    def as_dict(self) -> dict:
        return {
            "segment": self.segment or None,
            "tier": self.tier or None,
            "plan": self.plan or None,
            "owner": self.owner_id,
            "cohort": self.cohort.strftime("%Y-%m") if self.cohort else None,
        }


@dataclass(frozen=True)
class Dimension:
    key: str
    label: str

    def expression(self, prefix: str = ""):
        if self.key == "cohort":
            start = f"{prefix}contract_start"
            return ExtractYear(start) * 12 + ExtractMonth(start) - 1
        return F(prefix + {"owner": "owner_id"}.get(self.key, self.key))

    def normalise(self, value: Any) -> Any:
        if self.key in ("cohort", "owner") and value is not None:
            return int(value)
        return value or ""


def dimensions() -> dict[str, Dimension]:
    return {
        "segment": Dimension("segment", _("Segment")),
        "tier": Dimension("tier", _("Tier")),
        "plan": Dimension("plan", _("Plan")),
        "owner": Dimension("owner", _("Owner")),
        "cohort": Dimension("cohort", _("Signup cohort")),
    }


def slice_labels(dimension: Dimension, keys: Iterable[Any]) -> dict[Any, str]:
    """Human names of a dimension's values (one query for owners, none otherwise)."""
    keys = list(keys)
    if dimension.key == "segment":
        names = dict(Segment.choices)
        return {k: str(names.get(k, k or _("None"))) for k in keys}
    if dimension.key == "tier":
        names = dict(Tier.choices)
        return {k: str(names.get(k, k or _("None"))) for k in keys}
    if dimension.key == "plan":
        return {k: k or _("No plan") for k in keys}
    if dimension.key == "owner":
        ids = [k for k in keys if k]
        users = {u.pk: str(u) for u in User.objects.filter(pk__in=ids)} if ids else {}
        return {k: users.get(k, _("Unassigned")) if k else _("Unassigned") for k in keys}
    return {k: date_format(month_from_index(k), "M Y") if k is not None else _("None") for k in keys}


def slice_value_param(dimension: Dimension, key: Any) -> str:
    """The URL value that filters to one slice (the drill-down from a breakdown row)."""
    if dimension.key == "cohort":
        return month_from_index(key).strftime("%Y-%m")
    return "" if key is None else str(key)


# ---------------------------------------------------------------- the figures


@dataclass(frozen=True)
class Assumptions:
    """What lifetime value depends on beyond the data: gross margin and a monthly discount rate."""

    gross_margin: float
    discount_rate: float

    @classmethod
    def defaults(cls) -> Assumptions:
        return cls(
            gross_margin=float(settings.METRICS_GROSS_MARGIN),
            discount_rate=float(settings.METRICS_MONTHLY_DISCOUNT_RATE),
        )


def _ratio(numerator, denominator) -> float | None:
    if not denominator:
        return None
    return float(numerator) / float(denominator)


def _money(value: float | None) -> Decimal | None:
    if value is None or math.isinf(value) or math.isnan(value):
        return None
    return Decimal(str(round(value, 2))).quantize(CENT) + 0


@dataclass
class Figures:
    """The additive counts and sums of one scope (or one slice of it) over one period, and the
    metrics derived from them. Adding two slices' figures gives the figures of both."""

    with_history: int = 0  # accounts with any MRR movement up to E
    cohort: int = 0  # active on S
    retained: int = 0  # of the cohort, active on E
    cohort_mrr_start: Decimal = ZERO
    cohort_mrr_end: Decimal = ZERO
    grr_mrr: Decimal = ZERO  # Σ min(MRR on E, MRR on S) over the cohort
    active_end: int = 0
    mrr_end: Decimal = ZERO
    cohort_12m: int = 0  # active on the first day of the 12 months ending E
    retained_12m: int = 0
    movements: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(KINDS, ZERO))
    movement_accounts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    surveys: bool = False  # the feedback part is installed
    nps_n: int = 0
    nps_promoters: int = 0
    nps_detractors: int = 0
    csat_n: int = 0
    csat_happy: int = 0
    ces_n: int = 0
    ces_sum: int = 0
    ces_easy: int = 0
    cac_n: int = 0
    cac_sum: Decimal = ZERO
    time_to_value: float | None = None  # median days (from the onboarding part), headline only

    def __add__(self, other: Figures) -> Figures:
        total = Figures()
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.name in ("movements", "movement_accounts"):
                setattr(total, f.name, {k: mine[k] + theirs[k] for k in KINDS})
            elif f.name == "surveys":
                total.surveys = mine or theirs
            elif f.name == "time_to_value":
                total.time_to_value = None  # a median does not add up: set by the caller
            else:
                setattr(total, f.name, mine + theirs)
        return total

    # -------------------------------------------------------------- retention

    @property
    def has_revenue(self) -> bool:
        return self.with_history > 0

    @property
    def lost(self) -> int:
        return self.cohort - self.retained

    @property
    def logo_churn(self) -> float | None:
        return _ratio(self.lost, self.cohort)

    @property
    def net_revenue_churn(self) -> float | None:
        return _ratio(self.cohort_mrr_start - self.cohort_mrr_end, self.cohort_mrr_start)

    @property
    def nrr(self) -> float | None:
        return _ratio(self.cohort_mrr_end, self.cohort_mrr_start)

    @property
    def grr(self) -> float | None:
        return _ratio(self.grr_mrr, self.cohort_mrr_start)

    @property
    def gross_revenue_churn(self) -> float | None:
        grr = self.grr
        return None if grr is None else 1 - grr

    # -------------------------------------------------------------- revenue

    @property
    def mrr_start(self) -> Decimal | None:
        return self.cohort_mrr_start if self.has_revenue else None

    @property
    def mrr_end_or_none(self) -> Decimal | None:
        return self.mrr_end if self.has_revenue else None

    @property
    def active_end_or_none(self) -> int | None:
        return self.active_end if self.has_revenue else None

    @property
    def arpa(self) -> Decimal | None:
        if not self.active_end:
            return None
        return (self.mrr_end / self.active_end).quantize(CENT)

    def waterfall(self) -> list[tuple[str, str, Decimal | None, int | None]]:
        """(key, label, amount, accounts) from MRR on S to MRR on E; amounts of losses negative."""
        if not self.has_revenue:
            return []
        labels = {
            MovementKind.NEW: _("New"),
            MovementKind.EXPANSION: _("Expansion"),
            MovementKind.CONTRACTION: _("Contraction"),
            MovementKind.CHURN: _("Churned"),
            MovementKind.REACTIVATION: _("Reactivation"),
        }
        steps: list[tuple[str, str, Decimal | None, int | None]] = [
            ("start", _("MRR on the first day"), self.cohort_mrr_start, self.cohort)
        ]
        for kind, label in labels.items():
            steps.append((kind.value, str(label), self.movements[kind], self.movement_accounts[kind]))
        steps.append(("end", _("MRR on the last day"), self.mrr_end, self.active_end))
        return steps

    @property
    def waterfall_adds_up(self) -> bool:
        return self.cohort_mrr_start + sum(self.movements.values(), ZERO) == self.mrr_end

    # -------------------------------------------------------------- lifetime value

    @property
    def logo_churn_12m(self) -> float | None:
        return _ratio(self.cohort_12m - self.retained_12m, self.cohort_12m)

    @property
    def monthly_churn_rate(self) -> float | None:
        c = self.logo_churn_12m
        return None if c is None else 1 - (1 - c) ** (1 / 12)

    def clv(self, assumptions: Assumptions) -> Decimal | None:
        rate, arpa = self.monthly_churn_rate, self.arpa
        if arpa is None or not rate:
            return None
        return _money(float(arpa) * assumptions.gross_margin / rate)

    def discounted_clv(self, assumptions: Assumptions) -> Decimal | None:
        rate, arpa = self.monthly_churn_rate, self.arpa
        if arpa is None or rate is None:
            return None
        r = 1 - rate
        denominator = 1 + assumptions.discount_rate - r
        if denominator <= 0:
            return None
        return _money(float(arpa) * assumptions.gross_margin * r / denominator)

    @property
    def mean_cac(self) -> Decimal | None:
        if not self.cac_n:
            return None
        return (self.cac_sum / self.cac_n).quantize(CENT)

    def ltv_cac(self, assumptions: Assumptions) -> float | None:
        clv, cac = self.clv(assumptions), self.mean_cac
        if clv is None or not cac:
            return None
        return float(clv) / float(cac)

    def discounted_ltv_cac(self, assumptions: Assumptions) -> float | None:
        clv, cac = self.discounted_clv(assumptions), self.mean_cac
        if clv is None or not cac:
            return None
        return float(clv) / float(cac)

    # -------------------------------------------------------------- sentiment

    @property
    def nps(self) -> float | None:
        if not self.nps_n:
            return None
        return (self.nps_promoters - self.nps_detractors) * 100 / self.nps_n

    @property
    def nps_passives(self) -> int:
        return self.nps_n - self.nps_promoters - self.nps_detractors

    @property
    def csat(self) -> float | None:
        return _ratio(self.csat_happy, self.csat_n)

    @property
    def ces(self) -> float | None:
        return _ratio(self.ces_sum, self.ces_n)

    @property
    def ces_easy_share(self) -> float | None:
        return _ratio(self.ces_easy, self.ces_n)


# ---------------------------------------------------------------- revenue: the grouped query


@dataclass(frozen=True)
class Window:
    """One period's days, named for the columns of the grouped query."""

    name: str
    start: dt.date
    end: dt.date
    twelve_month_start: dt.date | None = None  # for the monthly churn rate
    by_kind: bool = True  # add up the movements after S up to E by kind


def _movement_rows(scope: Scope, windows: list[Window], dimension: Dimension | None) -> list[dict]:
    """For each slice: the additive sums of every window. Two levels, one statement:
    movements → MRR per account on each day (the ORM, with the scope's filters), then accounts
    → sums per slice."""
    days: dict[str, dt.date] = {}
    annotations: dict[str, Any] = {}
    for w in windows:
        days[f"{w.name}_s"] = w.start
        days[f"{w.name}_e"] = w.end
        if w.twelve_month_start:
            days[f"{w.name}_y"] = w.twelve_month_start
    for name, day in days.items():
        annotations[name] = Sum("amount", filter=Q(date__lte=day))
    for w in windows:
        if w.by_kind:
            for kind in KINDS:
                annotations[f"{w.name}_k_{kind}"] = Sum(
                    "amount", filter=Q(date__gt=w.start, date__lte=w.end, kind=kind)
                )
    movements = MrrMovement.objects.filter(date__lte=max(days.values())).filter(scope.q("account__"))
    group = {"dim": dimension.expression("account__")} if dimension else {}
    inner = movements.order_by().values("account_id", **group).annotate(**annotations)
    try:
        inner_sql, params = inner.query.sql_with_params()
    except EmptyResultSet:
        return []

    def col(name: str) -> str:
        return f"COALESCE(t.{name}, 0)"

    active = ACTIVE_ABOVE
    select = ["t.dim AS dim" if dimension else "0 AS dim", "COUNT(*) AS with_history"]
    for w in windows:
        s, e = col(f"{w.name}_s"), col(f"{w.name}_e")
        p = w.name
        select += [
            f"SUM(CASE WHEN {s} > {active} THEN 1 ELSE 0 END) AS {p}_cohort",
            f"SUM(CASE WHEN {s} > {active} AND {e} > {active} THEN 1 ELSE 0 END) AS {p}_retained",
            f"SUM(CASE WHEN {s} > {active} THEN {s} ELSE 0 END) AS {p}_cohort_mrr_start",
            f"SUM(CASE WHEN {s} > {active} AND {e} > {active} THEN {e} ELSE 0 END) AS {p}_cohort_mrr_end",
            f"SUM(CASE WHEN {s} > {active} AND {e} > {active} "
            f"THEN (CASE WHEN {e} < {s} THEN {e} ELSE {s} END) ELSE 0 END) AS {p}_grr_mrr",
            f"SUM(CASE WHEN {e} > {active} THEN 1 ELSE 0 END) AS {p}_active_end",
            f"SUM(CASE WHEN {e} > {active} THEN {e} ELSE 0 END) AS {p}_mrr_end",
        ]
        if w.twelve_month_start:
            y = col(f"{w.name}_y")
            select += [
                f"SUM(CASE WHEN {y} > {active} THEN 1 ELSE 0 END) AS {p}_cohort_12m",
                f"SUM(CASE WHEN {y} > {active} AND {e} > {active} THEN 1 ELSE 0 END) AS {p}_retained_12m",
            ]
        if w.by_kind:
            for kind in KINDS:
                k = col(f"{p}_k_{kind}")
                select += [
                    f"SUM({k}) AS {p}_k_{kind}",
                    f"SUM(CASE WHEN {k} <> 0 THEN 1 ELSE 0 END) AS {p}_n_{kind}",
                ]
    sql = f"SELECT {', '.join(select)} FROM ({inner_sql}) t"  # noqa: S608 (names are ours; values are params)
    if dimension:
        sql += " GROUP BY t.dim"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


MONEY_FIELDS = ("cohort_mrr_start", "cohort_mrr_end", "grr_mrr", "mrr_end")
COUNT_FIELDS = ("cohort", "retained", "active_end", "cohort_12m", "retained_12m")


def _fill_revenue(figures: Figures, row: dict, window: Window) -> None:
    p = window.name
    figures.with_history = int(row["with_history"] or 0)
    for name in MONEY_FIELDS:
        setattr(figures, name, cents(row[f"{p}_{name}"]))
    for name in COUNT_FIELDS:
        if f"{p}_{name}" in row:
            setattr(figures, name, int(row[f"{p}_{name}"] or 0))
    if window.by_kind:
        figures.movements = {k: cents(row[f"{p}_k_{k}"]) for k in KINDS}
        figures.movement_accounts = {k: int(row[f"{p}_n_{k}"] or 0) for k in KINDS}


# ---------------------------------------------------------------- sentiment and acquisition cost


def _in_period(period: Period) -> Q:
    return Q(
        answered_at__gte=day_start(period.start), answered_at__lt=day_start(period.end + dt.timedelta(1))
    )


def _sentiment_rows(
    scope: Scope, periods: dict[str, Period], dimension: Dimension | None
) -> list[dict] | None:
    """NPS, CSAT and CES counts per slice for each period (one query); None without surveys."""
    answers = sources.survey_answers()
    if answers is None:
        return None
    earliest = min(p.start for p in periods.values())
    latest = max(p.end for p in periods.values())
    qs = answers.filter(
        answered_at__gte=day_start(earliest),
        answered_at__lt=day_start(latest + dt.timedelta(1)),
        score__isnull=False,
        kind__in=("nps", "csat", "ces"),
    ).filter(scope.q("account__"))
    aggregates: dict[str, Any] = {}
    for name, period in periods.items():
        within = _in_period(period)
        nps, csat, ces = within & Q(kind="nps"), within & Q(kind="csat"), within & Q(kind="ces")
        aggregates.update(
            {
                f"{name}_nps_n": Count("pk", filter=nps),
                f"{name}_nps_promoters": Count("pk", filter=nps & Q(score__gte=9)),
                f"{name}_nps_detractors": Count("pk", filter=nps & Q(score__lte=6)),
                f"{name}_csat_n": Count("pk", filter=csat),
                f"{name}_csat_happy": Count("pk", filter=csat & Q(score__gte=4)),
                f"{name}_ces_n": Count("pk", filter=ces),
                f"{name}_ces_sum": Sum("score", filter=ces),
                f"{name}_ces_easy": Count("pk", filter=ces & Q(score__gte=5)),
            }
        )
    if dimension:
        return list(qs.order_by().values(dim=dimension.expression("account__")).annotate(**aggregates))
    return [{"dim": 0, **qs.aggregate(**aggregates)}]


SENTIMENT_FIELDS = (
    "nps_n",
    "nps_promoters",
    "nps_detractors",
    "csat_n",
    "csat_happy",
    "ces_n",
    "ces_sum",
    "ces_easy",
)


def _cac_rows(scope: Scope, ends: dict[str, dt.date], dimension: Dimension | None) -> list[dict]:
    """Accounts won by each period's end that record an acquisition cost: how many, and the
    total. One query for every period."""
    qs = scope.accounts().filter(acquisition_cost__isnull=False, contract_start__lte=max(ends.values()))
    aggregates: dict[str, Any] = {}
    for name, end in ends.items():
        aggregates[f"{name}_cac_n"] = Count("pk", filter=Q(contract_start__lte=end))
        aggregates[f"{name}_cac_sum"] = Sum("acquisition_cost", filter=Q(contract_start__lte=end))
    if dimension:
        return list(qs.order_by().values(dim=dimension.expression()).annotate(**aggregates))
    return [{"dim": 0, **qs.aggregate(**aggregates)}]


# ---------------------------------------------------------------- the leadership figures


@dataclass
class Slice:
    key: Any
    label: str
    param: str  # the URL value that filters to this slice
    figures: Figures


@dataclass
class Report:
    """The leadership dashboard's figures for one scope and period, with the period before."""

    scope: Scope
    period: Period
    previous_period: Period
    current: Figures
    previous: Figures
    assumptions: Assumptions
    dimension: Dimension | None = None
    slices: list[Slice] = field(default_factory=list)


def _windows(period: Period, previous: Period) -> list[Window]:
    return [
        Window("cur", period.start, period.end, period.twelve_month_start),
        Window("prv", previous.start, previous.end, previous.twelve_month_start),
    ]


def leadership_report(
    *,
    scope: Scope,
    period: Period,
    assumptions: Assumptions | None = None,
    dimension: Dimension | None = None,
) -> Report:
    """Every headline figure for the period and the one before, and (with ``dimension``) the
    same figures for each slice. Three queries (revenue, survey answers, acquisition costs;
    plus one for owner names and the onboarding part's own for time-to-value), whatever the
    number of accounts."""
    previous = period.previous()
    windows = _windows(period, previous)
    current_by: dict[Any, Figures] = defaultdict(Figures)
    previous_by: dict[Any, Figures] = defaultdict(Figures)

    for row in _movement_rows(scope, windows, dimension):
        key = dimension.normalise(row["dim"]) if dimension else None
        _fill_revenue(current_by[key], row, windows[0])
        _fill_revenue(previous_by[key], row, windows[1])

    sentiment = _sentiment_rows(scope, {"cur": period, "prv": previous}, dimension)
    for row in sentiment or []:
        key = dimension.normalise(row["dim"]) if dimension else None
        for name, by in (("cur", current_by), ("prv", previous_by)):
            for f in SENTIMENT_FIELDS:
                setattr(by[key], f, int(row[f"{name}_{f}"] or 0))

    for row in _cac_rows(scope, {"cur": period.end, "prv": previous.end}, dimension):
        key = dimension.normalise(row["dim"]) if dimension else None
        for name, by in (("cur", current_by), ("prv", previous_by)):
            by[key].cac_n = int(row[f"{name}_cac_n"] or 0)
            by[key].cac_sum = cents(row[f"{name}_cac_sum"])

    keys = set(current_by) | set(previous_by)
    current = sum((current_by[k] for k in keys), Figures())
    prev = sum((previous_by[k] for k in keys), Figures())
    for figures in (current, prev, *current_by.values(), *previous_by.values()):
        figures.surveys = sentiment is not None
    current.time_to_value = sources.time_to_value_median(accounts=signed_within_year(scope, period))
    prev.time_to_value = sources.time_to_value_median(accounts=signed_within_year(scope, previous))
    report = Report(
        scope=scope,
        period=period,
        previous_period=previous,
        current=current,
        previous=prev,
        assumptions=assumptions or Assumptions.defaults(),
        dimension=dimension,
    )
    if dimension:
        keys = {k for k in keys if current_by[k].has_revenue or current_by[k].cac_n or current_by[k].nps_n}
        ttv = sources.time_to_value_by(by=dimension.key, accounts=signed_within_year(scope, period))
        if ttv is not None:
            for k in keys:
                current_by[k].time_to_value = ttv.get(_ttv_key(dimension, k))
        labels = slice_labels(dimension, keys)
        report.slices = sorted(
            (
                Slice(key=k, label=labels[k], param=slice_value_param(dimension, k), figures=current_by[k])
                for k in keys
            ),
            key=lambda s: (-s.figures.mrr_end, s.label) if dimension.key != "cohort" else (-(s.key or 0),),
        )
    return report


def signed_within_year(scope: Scope, period: Period) -> QuerySet[Account]:
    """The scope's accounts whose contract started in the 12 months to the period's last day:
    the accounts time-to-value is measured on, so that it moves from period to period."""
    return scope.accounts().filter(
        contract_start__gte=period.twelve_month_start, contract_start__lte=period.end
    )


def _ttv_key(dimension: Dimension, key: Any) -> str:
    """Our slice key as the onboarding part names its groups."""
    if dimension.key == "cohort":
        return month_from_index(key).isoformat() if key is not None else "None"
    if dimension.key == "owner":
        return str(key) if key else "None"
    return str(key)


# ---------------------------------------------------------------- the monthly trend


@dataclass(frozen=True)
class TrendPoint:
    month: dt.date
    period: Period
    figures: Figures


def monthly_trend(*, scope: Scope, end: dt.date, months: int = 12) -> list[TrendPoint]:
    """Each of the ``months`` calendar months up to the one holding ``end`` (that one to
    ``end``): MRR and active accounts at the month's end, logo churn, NRR and GRR. One query."""
    first = add_months(month_start(end), -(months - 1))
    periods = []
    for i in range(months):
        start = add_months(first, i)
        periods.append(Period("month", start, min(month_end(start), end), month_end(start)))
    windows = [Window(f"m{i}", p.start, p.end, by_kind=False) for i, p in enumerate(periods)]
    rows = _movement_rows(scope, windows, None)
    points = []
    for i, p in enumerate(periods):
        figures = Figures()
        if rows:
            _fill_revenue(figures, rows[0], windows[i])
        points.append(TrendPoint(month=p.start, period=p, figures=figures))
    return points


# ---------------------------------------------------------------- cohort retention


@dataclass
class CohortRow:
    month: dt.date
    signed: int  # accounts whose contract started that month
    base_accounts: int  # of those, active at the end of the signup month
    base_mrr: Decimal
    cells: list[tuple[int | None, Decimal | None]]  # per month since signup: (active, MRR); None: future

    def logo(self, index: int) -> float | None:
        active = self.cells[index][0]
        return None if active is None else _ratio(active, self.base_accounts)

    def revenue(self, index: int) -> float | None:
        mrr = self.cells[index][1]
        return None if mrr is None else _ratio(mrr, self.base_mrr)


def cohort_retention(*, scope: Scope, today: dt.date | None = None, months: int = 12) -> list[CohortRow]:
    """Accounts by signup month (contract start) for the last ``months`` months: how many were
    active at the end of their signup month (the base), and at the end of each month after it,
    how many of those were still active (logo retention) and their MRR (revenue retention,
    which expansion can lift above 100 %). Two queries, whatever the number of accounts."""
    today = today or timezone.localdate()
    last = month_start(today)
    first = add_months(last, -(months - 1))
    cohorts = [add_months(first, i) for i in range(months)]
    ends = [min(month_end(c), today) for c in cohorts]  # end of each calendar month (to today)

    signed = _signed_by_cohort(scope, first, today)

    # A per-account day for "the end of the signup month" and for "k months after it".
    def day_for(offset: int):
        whens = []
        for j, cohort in enumerate(cohorts):
            if j + offset < months:
                whens.append(
                    When(
                        account__contract_start__gte=cohort,
                        account__contract_start__lte=month_end(cohort),
                        then=Value(ends[j + offset]),
                    )
                )
        return Case(*whens, default=None, output_field=DateField())

    annotations = {f"c{k}": Sum("amount", filter=Q(date__lte=day_for(k))) for k in range(months)}
    movements = MrrMovement.objects.filter(
        date__lte=today,
        account__contract_start__gte=first,
        account__contract_start__lte=today,
    ).filter(scope.q("account__"))
    inner = (
        movements.order_by()
        .values("account_id", dim=Dimension("cohort", "").expression("account__"))
        .annotate(**annotations)
    )
    try:
        inner_sql, params = inner.query.sql_with_params()
    except EmptyResultSet:
        inner_sql = None
    base = "COALESCE(t.c0, 0)"
    active = ACTIVE_ABOVE
    select = [
        "t.dim AS dim",
        f"SUM(CASE WHEN {base} > {active} THEN 1 ELSE 0 END) AS base_n",
        f"SUM(CASE WHEN {base} > {active} THEN {base} ELSE 0 END) AS base_mrr",
    ]
    for k in range(months):
        ck = f"COALESCE(t.c{k}, 0)"
        select += [
            f"SUM(CASE WHEN {base} > {active} AND {ck} > {active} THEN 1 ELSE 0 END) AS n{k}",
            f"SUM(CASE WHEN {base} > {active} AND {ck} > {active} THEN {ck} ELSE 0 END) AS m{k}",
        ]
    found: dict[int, dict] = {}
    if inner_sql:
        sql = f"SELECT {', '.join(select)} FROM ({inner_sql}) t GROUP BY t.dim"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            names = [c[0] for c in cursor.description]
            for values in cursor.fetchall():
                row = dict(zip(names, values, strict=True))
                found[int(row["dim"])] = row
    result = []
    for j, cohort in enumerate(cohorts):
        row = found.get(month_index(cohort))
        cells: list[tuple[int | None, Decimal | None]] = []
        for k in range(months):
            if j + k >= months:
                cells.append((None, None))
            elif row is None:
                cells.append((0, ZERO))
            else:
                cells.append((int(row[f"n{k}"] or 0), cents(row[f"m{k}"])))
        result.append(
            CohortRow(
                month=cohort,
                signed=signed.get(month_index(cohort), 0),
                base_accounts=int(row["base_n"] or 0) if row else 0,
                base_mrr=cents(row["base_mrr"]) if row else ZERO,
                cells=cells,
            )
        )
    result.reverse()  # newest first
    return result


def _signed_by_cohort(scope: Scope, first: dt.date, today: dt.date) -> dict[int, int]:
    rows = (
        scope.accounts()
        .filter(contract_start__gte=first, contract_start__lte=today)
        .order_by()
        .values(dim=Dimension("cohort", "").expression())
        .annotate(n=Count("pk"))
    )
    return {int(row["dim"]): row["n"] for row in rows}


# ---------------------------------------------------------------- health


@dataclass
class HealthReport:
    day_start: dt.date | None  # the snapshot day used for S (the latest on or before it)
    day_end: dt.date | None
    start: dict[str, int]  # grade -> accounts ("" for scored without a grade)
    end: dict[str, int]
    matrix: dict[tuple[str | None, str | None], int]  # (grade on S or None, grade on E or None)

    @property
    def has_data(self) -> bool:
        return self.day_end is not None

    @property
    def has_migration(self) -> bool:
        return self.day_start is not None and self.day_end is not None and self.day_start != self.day_end


def health_report(*, scope: Scope, period: Period) -> HealthReport:
    """The grade distribution on S and on E (from the daily snapshots: the latest day on or
    before each), and how accounts moved between grades. Two queries: the snapshot days, then
    the snapshots of those two days grouped by account into (grade on S, grade on E) pairs and
    counted by pair; the distributions are the matrix's row and column totals."""
    days = HealthSnapshot.objects.aggregate(
        s=Max("day", filter=Q(day__lte=period.start)), e=Max("day", filter=Q(day__lte=period.end))
    )
    day_s, day_e = days["s"], days["e"]
    report = HealthReport(day_start=day_s, day_end=day_e, start={}, end={}, matrix={})
    if day_e is None:
        return report
    wanted = {d for d in (day_s, day_e) if d is not None}
    inner = (
        HealthSnapshot.objects.filter(day__in=wanted)
        .filter(scope.q("account__"))
        .order_by()
        .values("account_id")
        .annotate(
            before=Max("grade", filter=Q(day=day_s)) if day_s else Value(None, output_field=CharField()),
            after=Max("grade", filter=Q(day=day_e)),
        )
    )
    try:
        inner_sql, params = inner.query.sql_with_params()
    except EmptyResultSet:
        return report
    sql = f"SELECT t.before, t.after, COUNT(*) FROM ({inner_sql}) t GROUP BY t.before, t.after"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        pairs = cursor.fetchall()
    for before, after, n in pairs:
        if after is not None:
            report.end[after] = report.end.get(after, 0) + n
        if before is not None and day_s is not None:
            report.start[before] = report.start.get(before, 0) + n
        report.matrix[(before, after)] = n
    if not report.has_migration:
        report.matrix = {}
    return report


# ---------------------------------------------------------------- churn reasons


@dataclass(frozen=True)
class ReasonRow:
    reason: str
    label: str
    accounts: int
    mrr: Decimal  # MRR lost (positive)
    previous_accounts: int


def churn_reasons(*, scope: Scope, period: Period, previous: Period) -> list[ReasonRow]:
    """Churn movements in the period (and the one before) by the account's churn reason; an
    account that came back since has no reason any more. One query."""
    labels = dict(ChurnReason.choices)
    cur = Q(date__gt=period.start, date__lte=period.end)
    prv = Q(date__gt=previous.start, date__lte=previous.end)
    rows = (
        MrrMovement.objects.filter(kind=MovementKind.CHURN)
        .filter(cur | prv)
        .filter(scope.q("account__"))
        .order_by()
        .values("account__churn_reason")
        .annotate(
            n=Count("account", filter=cur, distinct=True),
            mrr=Sum("amount", filter=cur),
            p=Count("account", filter=prv, distinct=True),
        )
    )
    result = [
        ReasonRow(
            reason=row["account__churn_reason"],
            label=str(labels.get(row["account__churn_reason"], _("Came back since (reactivated)"))),
            accounts=row["n"],
            mrr=-cents(row["mrr"]) + 0,
            previous_accounts=row["p"],
        )
        for row in rows
    ]
    result.sort(key=lambda r: (-r.accounts, -r.mrr, r.label))
    return result


# ---------------------------------------------------------------- drill-down lists

DRILLDOWNS = ("cohort", "retained", "lost", "active", *KINDS)


def drilldown_accounts(*, scope: Scope, period: Period, which: str) -> QuerySet[Account]:
    """The accounts behind a figure: the cohort, those retained or lost, those active on E,
    or those with a movement of one kind in the period; each with its MRR on S and on E.
    One query for a page of any size."""
    per_account = (
        MrrMovement.objects.filter(date__lte=period.end, account=OuterRef("pk")).order_by().values("account")
    )
    mrr_s = per_account.annotate(t=Sum("amount", filter=Q(date__lte=period.start))).values("t")
    mrr_e = per_account.annotate(t=Sum("amount")).values("t")
    sums: dict[str, Any] = {"s": Sum("amount", filter=Q(date__lte=period.start)), "e": Sum("amount")}
    if which in KINDS:
        sums["k"] = Sum("amount", filter=Q(date__gt=period.start, kind=which))
    grouped = (
        MrrMovement.objects.filter(date__lte=period.end)
        .filter(scope.q("account__"))
        .order_by()
        .values("account_id")
        .annotate(**sums)
    )
    half_cent = Decimal(ACTIVE_ABOVE)
    if which == "cohort":
        grouped = grouped.filter(s__gt=half_cent)
    elif which == "retained":
        grouped = grouped.filter(s__gt=half_cent, e__gt=half_cent)
    elif which == "lost":
        grouped = grouped.filter(s__gt=half_cent).exclude(e__gt=half_cent)
    elif which == "active":
        grouped = grouped.filter(e__gt=half_cent)
    elif which in KINDS:
        grouped = grouped.filter(Q(k__gt=0) | Q(k__lt=0))
    else:
        raise ValueError(which)
    return (
        Account.objects.filter(pk__in=Subquery(grouped.values("account_id")))
        .select_related("owner")
        .annotate(mrr_start=Subquery(mrr_s), mrr_end=Subquery(mrr_e))
        .order_by("name", "pk")
    )


# ---------------------------------------------------------------- renewals


RENEWAL_WINDOWS = (30, 60, 90)


@dataclass
class RenewalWindow:
    days: int
    accounts: int = 0
    mrr: Decimal = ZERO
    by_grade: dict[str, int] = field(default_factory=dict)
    mrr_by_grade: dict[str, Decimal] = field(default_factory=dict)

    @property
    def at_risk_accounts(self) -> int:
        return self.by_grade.get(Grade.RED, 0) + self.by_grade.get(Grade.YELLOW, 0)

    @property
    def mrr_at_risk(self) -> Decimal:
        return self.mrr_by_grade.get(Grade.RED, ZERO) + self.mrr_by_grade.get(Grade.YELLOW, ZERO)

    @property
    def unscored(self) -> int:
        return self.by_grade.get(NO_GRADE, 0)


def renewing_accounts(*, scope: Scope, today: dt.date, days: int) -> QuerySet[Account]:
    """Current customers renewing within ``days`` days, soonest first, with their health."""
    return (
        scope.accounts()
        .filter(
            churned_at__isnull=True, renewal_date__gte=today, renewal_date__lte=today + dt.timedelta(days)
        )
        .select_related("owner", "health")
        .order_by("renewal_date", "name", "pk")
    )


def renewal_windows(*, scope: Scope, today: dt.date | None = None) -> list[RenewalWindow]:
    """Renewals in the next 30, 60 and 90 days: accounts, MRR, and how much of it sits on red
    or yellow accounts (MRR at risk). MRR is today's, in the reporting currency. One query."""
    today = today or timezone.localdate()
    aggregates: dict[str, Any] = {}
    for days in RENEWAL_WINDOWS:
        within = Q(renewal_date__lte=today + dt.timedelta(days))
        aggregates[f"n{days}"] = Count("pk", filter=within)
        aggregates[f"m{days}"] = Sum("mrr", filter=within)
    rows = (
        renewing_accounts(scope=scope, today=today, days=max(RENEWAL_WINDOWS))
        .select_related(None)
        .order_by()
        .values("health__grade")
        .annotate(**aggregates)
    )
    windows = {days: RenewalWindow(days=days) for days in RENEWAL_WINDOWS}
    for row in rows:
        grade = row["health__grade"] or NO_GRADE
        for days, window in windows.items():
            n, mrr = row[f"n{days}"], cents(row[f"m{days}"])
            window.accounts += n
            window.mrr += mrr
            window.by_grade[grade] = window.by_grade.get(grade, 0) + n
            window.mrr_by_grade[grade] = window.mrr_by_grade.get(grade, ZERO) + mrr
    return list(windows.values())


# ---------------------------------------------------------------- the CSM's dashboard


@dataclass
class GradeCount:
    grade: str
    accounts: int
    mrr: Decimal


@dataclass
class Detractor:
    account_id: int
    account_name: str
    contact: str
    kind: str
    score: int
    answered_at: dt.datetime
    comment: str


@dataclass
class Desk:
    """What a CSM sees first: their accounts by grade, MRR at risk, tasks due, renewals coming,
    recent detractors and onboarding behind schedule."""

    accounts: int
    mrr: Decimal
    grades: list[GradeCount]
    tasks_due_today: int
    tasks_overdue: int
    renewals: list[RenewalWindow]
    detractors: list[Detractor] | None  # None: no survey data (the feedback part is missing)
    detractors_total: int | None
    onboarding_behind: int | None  # None: no onboarding data

    @property
    def mrr_at_risk(self) -> Decimal:
        return sum((g.mrr for g in self.grades if g.grade in (Grade.RED, Grade.YELLOW)), ZERO)

    @property
    def accounts_at_risk(self) -> int:
        return sum(g.accounts for g in self.grades if g.grade in (Grade.RED, Grade.YELLOW))


DETRACTOR_DAYS = 30
# An unhappy answer: an NPS detractor (0-6), a CSAT of 1-2, a CES of 1-3.
UNHAPPY = Q(kind="nps", score__lte=6) | Q(kind="csat", score__lte=2) | Q(kind="ces", score__lte=3)


def desk(*, user: User, today: dt.date | None = None, detractors: int = 5) -> Desk:
    """The CSM dashboard for ``user`` (managers: every account). At most six queries."""
    today = today or timezone.localdate()
    scope = Scope(user=user)
    customers = scope.accounts().filter(churned_at__isnull=True)
    by_grade = {
        row["health__grade"] or NO_GRADE: row
        for row in customers.order_by().values("health__grade").annotate(n=Count("pk"), mrr=Sum("mrr"))
    }
    grades = [
        GradeCount(g, by_grade[g]["n"] if g in by_grade else 0, cents(by_grade.get(g, {}).get("mrr")))
        for g in (*GRADES, NO_GRADE)
    ]
    awake = Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today)
    tasks = (
        Task.objects.filter(owner=user, status=TaskStatus.OPEN)
        .filter(awake)
        .aggregate(
            today=Count("pk", filter=Q(due_date=today)), overdue=Count("pk", filter=Q(due_date__lt=today))
        )
    )
    found, total = None, None
    answers = sources.survey_answers()
    if answers is not None:
        recent = answers.filter(
            scope.q("account__"),
            answered_at__gte=day_start(today - dt.timedelta(DETRACTOR_DAYS)),
        ).filter(UNHAPPY)
        total = recent.count()
        with_contact = _has_field(answers, "contact")
        rows = recent.select_related("account", *(["contact"] if with_contact else [])).order_by(
            "-answered_at"
        )
        found = [
            Detractor(
                account_id=r.account_id,
                account_name=r.account.name,
                contact=r.contact.name if with_contact and r.contact else "",
                kind=r.kind,
                score=r.score,
                answered_at=r.answered_at,
                comment=getattr(r, "comment", "") or "",
            )
            for r in rows[:detractors]
        ]
    return Desk(
        accounts=sum(g.accounts for g in grades),
        mrr=sum((g.mrr for g in grades), ZERO),
        grades=grades,
        tasks_due_today=tasks["today"],
        tasks_overdue=tasks["overdue"],
        renewals=renewal_windows(scope=scope, today=today),
        detractors=found,
        detractors_total=total,
        onboarding_behind=sources.onboarding_behind_schedule(user=user),
    )


def _has_field(qs: QuerySet, name: str) -> bool:
    try:
        qs.model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True
