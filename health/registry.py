"""What a health score is made of: the catalogue of measures and the registry of raw-value sources.

A *source* computes raw values ("signals") for many accounts at once, set-based: one or two
grouped queries for every account in scope, never a query per account. It returns
``{signal key: {account id: value}}``; an account missing from a signal's dict has no data for
it. Values are numbers (int, float or Decimal; datetimes for answer times). Measures read the
signal of the same key; exceptions (caps) and alert rules read signals
too. A measure whose signal no source provides (yet) simply has no data: it is left out and
the other measures are re-weighted.

Later apps add their sources from their ``AppConfig.ready()``::

    # feedback/health.py
    from health.registry import raw_values_source

    @raw_values_source("feedback", provides=("nps_latest", "nps_avg_12m", "csat", "ces", "detractor_at"))
    def feedback_signals(ctx):
        answers = scoped(Answer.objects.filter(answered_at__lt=ctx.as_of), ctx)  # health.sources.scoped
        ...  # grouped queries over answers given before ctx.as_of
        return {"nps_latest": {...}, "csat": {...}, "detractor_at": {account_id: datetime}}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from accounts.models import Account


@dataclass(frozen=True)
class MeasureSpec:
    """One kind of measure: where its raw value comes from and sensible default thresholds."""

    key: str
    label: str
    unit: str  # shown after the raw value: "days", "%", "points", "tasks"
    description: str
    zero_at: float  # default raw value that scores 0
    full_at: float  # default raw value that scores 100
    weight: int  # default weight in the default scorecard
    needs: str = ""  # the part of the product that provides the data, when not built in


MEASURES: dict[str, MeasureSpec] = {
    spec.key: spec
    for spec in (
        MeasureSpec(
            "days_since_usage",
            _("Days since last usage"),
            _("days"),
            _(
                "Days since the account's newest usage event. No event in the last 60 days counts as 60 "
                "(or the days since the contract started, if fewer)."
            ),
            zero_at=30,
            full_at=3,
            weight=15,
        ),
        MeasureSpec(
            "active_users",
            _("Active users, last 30 days"),
            "%",
            _("Distinct contacts with a usage event in the last 30 days, as a % of the account's contacts."),
            zero_at=10,
            full_at=60,
            weight=15,
        ),
        MeasureSpec(
            "usage_trend",
            _("Usage trend"),
            "%",
            _("Usage events in the last 30 days against the 30 days before, as a % change."),
            zero_at=-50,
            full_at=0,
            weight=15,
        ),
        MeasureSpec(
            "nps_latest",
            _("Latest NPS answer"),
            _("points"),
            _("The newest 0-10 NPS answer from the account's contacts in the last 12 months."),
            zero_at=6,
            full_at=9,
            weight=10,
            needs=_("surveys"),
        ),
        MeasureSpec(
            "nps_avg_12m",
            _("NPS answers, 12-month average"),
            _("points"),
            _("The mean of the account's 0-10 NPS answers in the last 12 months."),
            zero_at=6,
            full_at=9,
            weight=5,
            needs=_("surveys"),
        ),
        MeasureSpec(
            "csat",
            _("CSAT"),
            "%",
            _("% of the account's 1-5 CSAT answers in the last 12 months that are 4 or 5."),
            zero_at=50,
            full_at=90,
            weight=5,
            needs=_("surveys"),
        ),
        MeasureSpec(
            "ces",
            _("CES"),
            _("points"),
            _("The mean of the account's 1-7 customer-effort answers in the last 12 months."),
            zero_at=3,
            full_at=6,
            weight=5,
            needs=_("surveys"),
        ),
        MeasureSpec(
            "onboarding_progress",
            _("Onboarding progress against plan"),
            "%",
            _("Milestones done as a % of the milestones due by now in the account's onboarding plan."),
            zero_at=50,
            full_at=100,
            weight=10,
            needs=_("onboarding"),
        ),
        MeasureSpec(
            "overdue_tasks",
            _("Open overdue tasks"),
            _("tasks"),
            _("The account's open tasks whose due date has passed."),
            zero_at=5,
            full_at=0,
            weight=5,
        ),
        MeasureSpec(
            "days_since_touch",
            _("Days since last touchpoint"),
            _("days"),
            _(
                "Days since the newest call, meeting, email, note, QBR or support contact "
                "(since the contract started, if never)."
            ),
            zero_at=90,
            full_at=14,
            weight=5,
        ),
        MeasureSpec(
            "mrr_trend",
            _("MRR trend, 90 days"),
            "%",
            _("MRR now against MRR 90 days ago, as a % change (no data for accounts younger than that)."),
            zero_at=-25,
            full_at=0,
            weight=5,
        ),
        MeasureSpec(
            "renewal_proximity",
            _("Days to renewal"),
            _("days"),
            _("Days until the renewal date. A close renewal is a risk in itself."),
            zero_at=0,
            full_at=120,
            weight=5,
        ),
    )
}

MEASURE_CHOICES = [(spec.key, spec.label) for spec in MEASURES.values()]


@dataclass(frozen=True)
class CapSpec:
    key: str
    label: str
    description: str
    default_cap: int
    default_window_days: int
    default_threshold: int | None = None


CAPS: dict[str, CapSpec] = {
    spec.key: spec
    for spec in (
        CapSpec(
            "detractor_recent",
            _("Detractor answer recently"),
            _("A 0-6 NPS answer from one of the account's contacts within the window."),
            default_cap=40,
            default_window_days=30,
        ),
        CapSpec(
            "champion_missing",
            _("Champion left"),
            _("The account has contacts but none of them is its champion any more."),
            default_cap=60,
            default_window_days=0,
        ),
        CapSpec(
            "usage_collapse",
            _("Usage collapsed"),
            _(
                "Usage events in the last 30 days fell by at least N % against the 30 days before (which had "
                "at least 10 events). The default cap, 39, is just below yellow: the account is red."
            ),
            default_cap=39,
            default_window_days=0,
            default_threshold=60,
        ),
    )
}
USAGE_COLLAPSE_MIN_EVENTS = 10  # events the 30 days before, for a fall to mean something

CAP_CHOICES = [(spec.key, spec.label) for spec in CAPS.values()]

# Signals besides the measures' own: what caps and alert rules read.
EXTRA_SIGNALS = {
    "usage_wow": _("Usage events in the last 7 days against the 7 before, % change"),
    "usage_prior_30": _("Usage events the 30 days before the last 30"),
    "renewal_days": _("Days to renewal"),
    "champion_missing": _("1 when the account has contacts but no champion"),
    "detractor_at": _("Time of the newest detractor (0-6) NPS answer"),
    "promoter_at": _("Time of the newest promoter (9-10) NPS answer"),
    "onboarding_overdue": _("Onboarding milestones past their due day and not done"),
}


# ---------------------------------------------------------------- sources


@dataclass
class ScoringContext:
    """What a source needs to know: the day scored and the moment data must be older than."""

    day: dt.date
    as_of: dt.datetime  # only data strictly before this moment counts
    accounts: QuerySet[Account] | None = None  # None: every account
    replay: bool = False  # True when replaying the past: never read "current" cached columns
    id_range: tuple[int, int] | None = None  # only accounts with lo <= id <= hi (a batch of the run)
    # id -> (segment, owner id, renewal date, contract start, last touch at, MRR), filled by the pipeline
    account_rows: dict[int, tuple] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)  # for sources that share a query


Signals = dict[str, dict[int, Any]]
SourceFunc = Callable[[ScoringContext], Signals]


@dataclass(frozen=True)
class Source:
    name: str
    provides: tuple[str, ...]
    func: SourceFunc


SOURCES: dict[str, Source] = {}


def raw_values_source(
    name: str, *, provides: tuple[str, ...] | list[str]
) -> Callable[[SourceFunc], SourceFunc]:
    """Register a set-based source of raw values (see the module docstring)."""

    def register(func: SourceFunc) -> SourceFunc:
        SOURCES[name] = Source(name=name, provides=tuple(provides), func=func)
        return func

    return register


def provided_signals() -> set[str]:
    return {key for source in SOURCES.values() for key in source.provides}


def collect_signals(ctx: ScoringContext) -> Signals:
    """Run every registered source; a handful of grouped queries in all."""
    signals: Signals = {}
    for source in SOURCES.values():
        for key, values in source.func(ctx).items():
            signals.setdefault(key, {}).update(values)
    return signals
