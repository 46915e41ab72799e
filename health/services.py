"""Writes on health: recomputing scores (set-based), raising alerts, applying playbooks, working
tasks and alerts, the debounced recompute after new data, and the daily digest."""

from __future__ import annotations

import datetime as dt
import gc
import logging
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from typing import NamedTuple, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Count, Max, Min, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account
from cs_app.plain_rows import plain_rows
from team.models import User

from . import bulk, scoring, selectors
from .models import (
    EVENT_KINDS,
    GRADE_ORDER,
    AccountHealth,
    Alert,
    AlertOutcome,
    AlertRule,
    AlertStatus,
    DigestSent,
    Grade,
    HealthSnapshot,
    Playbook,
    PlaybookStep,
    Priority,
    RuleKind,
    ScorecardVersion,
    Task,
    TaskStatus,
)
from .scoring import CardConfig

log = logging.getLogger(__name__)

BATCH = bulk.BATCH
T = TypeVar("T")
USAGE_UP_MIN_EVENTS = 20  # "usage up" needs this many events the 30 days before: not noise
RECOMPUTE_DELAY = 30  # seconds: a burst of new data for an account is scored once
RECOMPUTE_CLAIM_TIMEOUT = dt.timedelta(minutes=10)  # a claim older than this is stale (lost task)


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# ---------------------------------------------------------------- scores

SNAPSHOT_COLUMNS = [
    "account_id",
    "day",
    "card_version_id",
    "score",
    "uncapped_score",
    "capped_by",
    "grade",
    "raw",
    "computed_at",
]
RANGE_SIZE = 10_000  # accounts per batch
# Batches processed at once (PostgreSQL, outside a transaction), each whole (its queries, scores
# and writes) in a thread and connection of its own: while one thread runs Python, the others'
# database work goes on. Three keep two cores busy.
BATCH_WORKERS = 3
MIN_BATCH = 2_000  # fewer accounts than this per batch are scored in one batch


@dataclass
class RecomputeReport:
    day: dt.date
    accounts: int = 0
    scored: int = 0
    alerts_opened: int = 0
    tasks_created: int = 0
    batches: int = 0
    workers: int = 1  # batches processed at once, each in its own thread and connection
    timings: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        self.timings[name] = round(self.timings.get(name, 0.0) + seconds, 3)


class _Previous(NamedTuple):
    grade: str
    score_7d: int | None


@dataclass
class _Batch:
    """One batch of accounts, processed: what the run reports of it, and how long each part took."""

    accounts: int
    scored: int
    alerts_opened: int = 0
    tasks_created: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def scorecard_versions_record(*, cards: selectors.Cards) -> selectors.Cards:
    """Record each scorecard's current configuration as a version (once per change) and return the
    cards with their version ids. One query per scorecard, plus an insert when it changed."""

    def record(card: CardConfig) -> CardConfig:
        version, _created = ScorecardVersion.objects.get_or_create(
            digest=card.digest(), defaults={"scorecard_id": card.id, "config": card.config()}
        )
        return replace(card, version_id=version.pk)

    return selectors.Cards(
        by_segment={segment: record(card) for segment, card in cards.by_segment.items()},
        default=record(cards.default) if cards.default else None,
    )


def _id_ranges(accounts: QuerySet[Account] | None, size: int, *, multiple: int = 1) -> list[tuple[int, int]]:
    """Split the accounts to score into batches of about ``size`` by id, their number rounded up
    to a ``multiple`` (batches processed that many at a time then end together, not one alone at
    the end) unless the accounts fit in one batch and are too few to share out. One query."""
    scope = (Account.objects.all() if accounts is None else accounts).filter(churned_at__isnull=True)
    bounds = scope.aggregate(lo=Min("pk"), hi=Max("pk"), n=Count("pk"))
    if not bounds["n"]:
        return []
    lo, hi = bounds["lo"], bounds["hi"]
    parts = math.ceil(bounds["n"] / size)
    if parts > 1 or bounds["n"] >= multiple * MIN_BATCH:  # (fewer accounts: one batch, no threads)
        parts = math.ceil(parts / multiple) * multiple
    parts = max(1, min(parts, hi - lo + 1))
    step = (hi - lo + 1) / parts
    edges = [lo + round(i * step) for i in range(parts)] + [hi + 1]
    return [(edges[i], edges[i + 1] - 1) for i in range(parts)]


def _batch_process(
    *,
    day: dt.date,
    now: dt.datetime,
    accounts: QuerySet[Account] | None,
    cards: selectors.Cards,
    id_range: tuple[int, int],
    replay: bool,
    evaluate_alerts: bool,
) -> _Batch:
    """One batch, whole: its raw values from the database, its scores, its snapshots and
    current-health rows written (one transaction), then the alert rules over its accounts."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    computed = selectors.scores_compute(
        day=day, as_of=now, accounts=accounts, cards=cards, id_range=id_range, score=False, replay=replay
    )
    timings["fetch"] = time.perf_counter() - started
    started = time.perf_counter()
    computed.score()
    timings["score"] = time.perf_counter() - started
    started = time.perf_counter()
    previous = _write(computed.results, day=day, now=now, timings=timings)
    timings["write"] = time.perf_counter() - started
    batch = _Batch(
        accounts=len(computed.ctx.account_rows),
        scored=sum(1 for result in computed.results.values() if result.score is not None),
        timings=timings,
    )
    if evaluate_alerts and computed.results:
        started = time.perf_counter()
        batch.alerts_opened, batch.tasks_created = alerts_evaluate(
            computed=computed, previous=previous, now=now, accounts=accounts, id_range=id_range, wake=False
        )
        timings["alerts"] = time.perf_counter() - started
    return batch


# The run's settings on each of its PostgreSQL connections:
# - JIT off: it compiles each batch's grouped queries anew (a fifth of a second each, more than it
#   saves on queries of this size);
# - random reads priced as what they are here, reads of pages in memory: priced for spinning
#   disks (the default, 4), the planner reads all of onboarding's milestones for every batch
#   rather than look up the batch's plans' (3 times the work, and growing with the table).
RUN_SETTINGS = {"jit": "off", "random_page_cost": "1.1"}


def _run_settings(cursor) -> None:
    for name, value in RUN_SETTINGS.items():
        cursor.execute(f"SET {name} = {value}")


@contextmanager
def _with_run_settings():
    """RUN_SETTINGS on this connection for the run, then back to the server's own."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        _run_settings(cursor)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for name in RUN_SETTINGS:
                cursor.execute(f"RESET {name}")


class _ThreadConnections:
    """The worker threads' connections, one per thread, kept from batch to batch (a new PostgreSQL
    backend per batch costs 40 ms of its CPU: loading the catalogs, planning anew) and closed when
    the run ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._opened: dict[int, BaseDatabaseWrapper] = {}

    def run(self, function: Callable[..., T], /, **kwargs) -> T:
        wrapper = connections[DEFAULT_DB_ALIAS]  # this thread's own
        with self._lock:
            first = threading.get_ident() not in self._opened
            self._opened[threading.get_ident()] = wrapper
        if first:
            with wrapper.cursor() as cursor:
                _run_settings(cursor)  # for this connection's life (it is closed at the run's end)
        return function(**kwargs)

    def close(self) -> None:
        """Close them all, from the run's thread (after the workers have stopped)."""
        with self._lock:
            opened, self._opened = list(self._opened.values()), {}
        for wrapper in opened:
            wrapper.inc_thread_sharing()
            try:
                wrapper.close()
            finally:
                wrapper.dec_thread_sharing()


def health_scores_recompute(
    *,
    accounts: QuerySet[Account] | None = None,
    now: dt.datetime | None = None,
    evaluate_alerts: bool = True,
    batch_size: int = RANGE_SIZE,
    parallel: bool | None = None,
    replay: bool = False,
) -> RecomputeReport:
    """Score every account (or those in ``accounts``) for today and store the snapshots.

    ``now`` in the past with ``replay=True`` scores that day from the data recorded before it only
    (as the backtest does): how a fresh install fills in the last weeks' history.

    Set-based, in batches of accounts by id: each batch's raw values come from a handful of
    grouped queries, the scores are computed in Python, the snapshots (one per account and day;
    recomputing replaces) and the current-health rows are written in bulk (COPY on PostgreSQL),
    then the alert rules run over the batch's accounts. On PostgreSQL, outside a transaction,
    BATCH_WORKERS batches are processed at a time, each in a thread and connection of its own.
    """
    # The run makes millions of small objects and frees none of them in cycles: pausing the
    # garbage collector saves tracing them all, again and again (a third of the time).
    paused = gc.isenabled()
    gc.disable()
    try:
        with _with_run_settings():
            return _recompute(
                accounts=accounts,
                now=now,
                evaluate_alerts=evaluate_alerts,
                batch_size=batch_size,
                parallel=parallel,
                replay=replay,
            )
    finally:
        if paused:
            gc.enable()


def _recompute(
    *,
    accounts: QuerySet[Account] | None,
    now: dt.datetime | None,
    evaluate_alerts: bool,
    batch_size: int,
    parallel: bool | None,
    replay: bool = False,
) -> RecomputeReport:
    now = (now or timezone.now()).replace(microsecond=0)  # one value both databases store exactly
    day = timezone.localdate(now)
    report = RecomputeReport(day=day)
    started = time.perf_counter()
    cards = scorecard_versions_record(cards=selectors.scorecards_load())
    threads_possible = connection.vendor == "postgresql" and not connection.in_atomic_block
    ranges = _id_ranges(
        accounts, batch_size, multiple=BATCH_WORKERS if threads_possible and parallel is not False else 1
    )
    report.add("plan", time.perf_counter() - started)
    can_overlap = threads_possible and len(ranges) > 1
    parallel = can_overlap if parallel is None else (parallel and can_overlap)
    process = partial(
        _batch_process,
        day=day,
        now=now,
        accounts=accounts,
        cards=cards,
        replay=replay,
        evaluate_alerts=evaluate_alerts,
    )
    if evaluate_alerts:  # before the rules run over each batch
        started = time.perf_counter()
        alerts_wake(now=now, accounts=accounts)
        report.add("alerts", time.perf_counter() - started)
    threads = _ThreadConnections()
    with ExitStack() as stack:
        stack.callback(threads.close)  # last: after the pool's threads have finished
        report.batches = len(ranges)
        if parallel:
            report.workers = min(BATCH_WORKERS, len(ranges))
            pool = stack.enter_context(ThreadPoolExecutor(max_workers=report.workers))
            futures = [pool.submit(threads.run, process, id_range=id_range) for id_range in ranges]
            # should a batch fail, the ones not started yet are not (the pool waits for the others)
            stack.callback(lambda: [future.cancel() for future in futures])
            batches: Iterator[_Batch] = (future.result() for future in futures)
        else:
            batches = (process(id_range=id_range) for id_range in ranges)
        for batch in batches:  # in order, each once it is done
            report.accounts += batch.accounts
            report.scored += batch.scored
            report.alerts_opened += batch.alerts_opened
            report.tasks_created += batch.tasks_created
            for name, seconds in batch.timings.items():
                report.add(name, seconds)
    return report


# The current-health rows follow from the snapshots just written, in the database: the score and
# grade, the changes against the snapshots 7 and 30 days before, and the previous score (the one
# before today's). A row already newer than the snapshot (a replayed past day) is left alone.
# RETURNING hands the alert rules what they need.
_BATCH_SNAPSHOTS = """
SELECT s.account_id, s.day, s.score, s.grade,
       CASE s.grade WHEN 'red' THEN 1 WHEN 'yellow' THEN 2 WHEN 'green' THEN 3 END AS grade_order,
       s.score - w.score AS change_7d, s.score - m.score AS change_30d
FROM health_healthsnapshot s
LEFT JOIN health_healthsnapshot w
  ON w.account_id = s.account_id AND w.day = %(week)s AND w.account_id >= %(lo)s AND w.account_id <= %(hi)s
LEFT JOIN health_healthsnapshot m
  ON m.account_id = s.account_id AND m.day = %(month)s AND m.account_id >= %(lo)s AND m.account_id <= %(hi)s
WHERE s.day = %(day)s AND s.account_id >= %(lo)s AND s.account_id <= %(hi)s AND s.computed_at = %(now)s
"""
# Rows that are missing (or, on SQLite, every row): INSERT ... ON CONFLICT DO UPDATE.
CURRENT_FROM_SNAPSHOTS = f"""
INSERT INTO health_accounthealth (account_id, day, score, grade, grade_order, change_7d, change_30d,
                                  previous_score, previous_grade, updated_at)
SELECT s.account_id, s.day, s.score, s.grade, s.grade_order, s.change_7d, s.change_30d,
       CASE WHEN h.day = s.day THEN h.previous_score ELSE h.score END,
       COALESCE(CASE WHEN h.day = s.day THEN h.previous_grade ELSE h.grade END, ''),
       %(now)s
FROM ({_BATCH_SNAPSHOTS}) s
LEFT JOIN health_accounthealth h
  ON h.account_id = s.account_id AND h.account_id >= %(lo)s AND h.account_id <= %(hi)s
WHERE (h.day IS NULL OR h.day <= s.day) {{only_missing}}
ON CONFLICT (account_id) DO UPDATE SET
  day = excluded.day, score = excluded.score, grade = excluded.grade, grade_order = excluded.grade_order,
  change_7d = excluded.change_7d, change_30d = excluded.change_30d, previous_score = excluded.previous_score,
  previous_grade = excluded.previous_grade, updated_at = excluded.updated_at
RETURNING account_id, previous_grade, change_7d
"""  # noqa: S608 (built from constants)
# PostgreSQL: the rows there are by a plain UPDATE (a fifth cheaper than ON CONFLICT's speculative
# insert for each), then the missing ones by the statement above. On the right of SET, h is the
# row before the update.
CURRENT_UPDATE = f"""
UPDATE health_accounthealth h SET
  day = s.day, score = s.score, grade = s.grade, grade_order = s.grade_order, change_7d = s.change_7d,
  change_30d = s.change_30d,
  previous_score = CASE WHEN h.day = s.day THEN h.previous_score ELSE h.score END,
  previous_grade = CASE WHEN h.day = s.day THEN h.previous_grade ELSE h.grade END,
  updated_at = %(now)s
FROM ({_BATCH_SNAPSHOTS}) s
WHERE h.account_id = s.account_id AND h.account_id >= %(lo)s AND h.account_id <= %(hi)s
  AND (h.day IS NULL OR h.day <= s.day)
RETURNING h.account_id, h.previous_grade, h.change_7d
"""  # noqa: S608 (built from constants)


def _snapshot_rows(results: dict[int, scoring.Result], *, day: dt.date, now: dt.datetime) -> list[tuple]:
    """The batch's snapshots, as tuples in SNAPSHOT_COLUMNS order."""
    return [
        (
            account_id,
            day,
            result.scorer.card.version_id,
            result.score,
            result.uncapped_score,
            result.capped_by,
            result.grade,
            result.raws,
            now,
        )
        for account_id, result in results.items()
    ]


def _snapshot_lines(results: dict[int, scoring.Result], *, day: dt.date, now: dt.datetime) -> Iterator[str]:
    """The same as lines of COPY's text format, made for this table's columns (what ``bulk``'s
    general formatter does column by column, in one formatting per row: twice as fast)."""
    day_text, now_text = bulk.copy_text(day.isoformat(), {}), bulk.copy_text(now.isoformat(), {})
    strings: dict[str, str] = {}
    raw_json, numbers = bulk.float_list_json, bulk.FloatTexts()
    null = bulk.NULL
    for account_id, result in results.items():
        score, uncapped = result.score, result.uncapped_score
        yield "%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s" % (  # noqa: UP031 (the fastest here)
            account_id,
            day_text,
            result.scorer.card.version_id,
            null if score is None else score,
            null if uncapped is None else uncapped,
            bulk.copy_text(result.capped_by, strings),
            bulk.copy_text(result.grade, strings),
            raw_json(result.raws, numbers),
            now_text,
        )


def _write(
    results: dict[int, scoring.Result], *, day: dt.date, now: dt.datetime, timings: dict[str, float]
) -> dict[int, _Previous]:
    """Store one batch in one transaction: its snapshots (replacing today's) and, from them, the
    current-health rows. Returns each account's previous grade and score 7 days ago, for the rules."""
    if not results:
        return {}
    lo, hi = min(results), max(results)
    params = {
        "now": connection.ops.adapt_datetimefield_value(now),  # as the ORM stored it
        "day": day,
        "week": day - dt.timedelta(days=7),
        "month": day - dt.timedelta(days=30),
        "lo": lo,
        "hi": hi,
    }
    previous: dict[int, _Previous] = {}
    own_transaction = not connection.in_atomic_block
    with transaction.atomic():
        started = time.perf_counter()
        if connection.vendor == "postgresql":
            if own_transaction:
                # What a batch writes is derived data, which the next run writes again: its commit
                # need not wait for the disk (a crash could lose the last fraction of a second of
                # batches, never leave one half-written; a later ordinary commit flushes them).
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit = off")
            lines = _snapshot_lines(results, day=day, now=now)
            bulk.replace_day_lines(HealthSnapshot, SNAPSHOT_COLUMNS, ids=list(results), lines=lines, day=day)
        else:
            bulk.replace_day_rows(HealthSnapshot, SNAPSHOT_COLUMNS, _snapshot_rows(results, day=day, now=now))
        timings["write snapshots"] = time.perf_counter() - started
        started = time.perf_counter()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Today's snapshots were just written, so the planner's statistics say there are
                # none and it would join 10,000 rows by 10,000 index lookups each: hash joins
                # over the batch's id range instead, for these two statements.
                cursor.execute("SET LOCAL enable_nestloop = off")
                cursor.execute(CURRENT_UPDATE, params)
                rows = cursor.fetchall()
                if len(rows) < len(results):  # new accounts (or rows newer than the snapshot)
                    cursor.execute(
                        CURRENT_FROM_SNAPSHOTS.format(only_missing="AND h.account_id IS NULL"), params
                    )
                    rows += cursor.fetchall()
                # back on, should this run inside a longer transaction (a debounced recompute)
                cursor.execute("SET LOCAL enable_nestloop = on")
            else:
                cursor.execute(CURRENT_FROM_SNAPSHOTS.format(only_missing=""), params)
                rows = cursor.fetchall()
            for account_id, previous_grade, change_7d in rows:
                if account_id not in results:
                    continue
                score = results[account_id].score
                score_7d = None if change_7d is None or score is None else score - change_7d
                previous[account_id] = _Previous(previous_grade or "", score_7d)
        timings["write current"] = time.perf_counter() - started
    return previous


# ---------------------------------------------------------------- debounced recompute


def accounts_health_schedule_recompute(*, account_ids: Iterable[int], delay: int = RECOMPUTE_DELAY) -> None:
    """Ask for the accounts' scores to be recomputed soon, after new data arrived for them.

    Call it inside the transaction that wrote the data. The claim is a flag on the account's
    current-health row (so it is rolled back with the data, and shared by every process); the
    task is enqueued once the transaction commits, after ``delay`` seconds, and only for accounts
    not already waiting: a burst of touchpoints or usage batches recomputes once.
    """
    ids = sorted(set(account_ids))
    if not ids:
        return
    now = timezone.now()
    stale = now - RECOMPUTE_CLAIM_TIMEOUT
    claimable = Q(recompute_requested_at__isnull=True) | Q(recompute_requested_at__lt=stale)
    claimed: list[int] = []
    for batch in _chunks(ids, 500):
        free = list(
            AccountHealth.objects.filter(account_id__in=batch).filter(claimable).values_list("pk", flat=True)
        )
        if free:
            AccountHealth.objects.filter(pk__in=free).filter(claimable).update(recompute_requested_at=now)
            claimed += free
        known = set(AccountHealth.objects.filter(account_id__in=batch).values_list("pk", flat=True))
        new = [aid for aid in batch if aid not in known]
        if new:
            AccountHealth.objects.bulk_create(
                [AccountHealth(account_id=aid, recompute_requested_at=now) for aid in new],
                ignore_conflicts=True,
            )
            claimed += new
    if not claimed:
        return
    from .tasks import account_health_recompute_task

    def enqueue() -> None:
        for batch in _chunks(claimed, 1000):
            account_health_recompute_task.apply_async(kwargs={"account_ids": list(batch)}, countdown=delay)

    # robust: a broker that is down must not turn the saved data into an error page. The claim
    # stays; it is taken again after RECOMPUTE_CLAIM_TIMEOUT, and the nightly run scores everyone.
    transaction.on_commit(enqueue, robust=True)


def account_health_schedule_recompute(*, account_id: int, delay: int = RECOMPUTE_DELAY) -> None:
    """The same for one account (touchpoint logged, usage ingested, MRR movement recorded)."""
    accounts_health_schedule_recompute(account_ids=[account_id], delay=delay)


def account_health_recompute(*, account_ids: Sequence[int]) -> RecomputeReport:
    """Recompute today's scores of a few accounts now (the debounced task's work)."""
    AccountHealth.objects.filter(account_id__in=account_ids).update(recompute_requested_at=None)
    return health_scores_recompute(accounts=Account.objects.filter(pk__in=list(account_ids)))


# ---------------------------------------------------------------- alerts


def _fmt(value: float) -> str:
    return f"{value:+.0f}"


def _rule_hits(
    rule: AlertRule, computed: selectors.Computed, previous: dict[int, _Previous], now: dt.datetime
) -> dict[int, tuple[str, float | None, dt.datetime | None]]:
    """Accounts for which the rule's condition holds: {account id: (details, value, event time)}."""
    hits: dict[int, tuple[str, float | None, dt.datetime | None]] = {}
    signals = computed.signals
    n = rule.threshold or 0
    labels = {value: str(label) for value, label in Grade.choices}  # translated once, not per hit
    if rule.kind == RuleKind.GRADE_DROP:
        limit = GRADE_ORDER[rule.grade or Grade.RED]
        fell, now_is = (
            _("Health fell from %(before)s to %(after)s (score %(score)s)."),
            _("Health is %(after)s (score %(score)s)."),
        )
        for aid, result in computed.results.items():
            if not result.grade or GRADE_ORDER[result.grade] > limit:
                continue
            before = previous.get(aid)
            before_grade = before.grade if before else ""
            if before_grade and GRADE_ORDER[before_grade] <= limit:
                continue
            text = (
                fell % {"before": labels[before_grade], "after": labels[result.grade], "score": result.score}
                if before_grade
                else now_is % {"after": labels[result.grade], "score": result.score}
            )
            hits[aid] = (text, result.score, None)
    elif rule.kind == RuleKind.SCORE_DROP:
        dropped = _("Score dropped from %(before)s to %(after)s in 7 days.")
        for aid, result in computed.results.items():
            before = previous.get(aid)
            if result.score is None or before is None or before.score_7d is None:
                continue
            if before.score_7d - result.score >= n:
                text = dropped % {
                    "before": before.score_7d,
                    "after": result.score,
                }
                hits[aid] = (text, result.score - before.score_7d, None)
    elif rule.kind in (RuleKind.USAGE_DROP, RuleKind.USAGE_UP):
        key = "usage_wow" if rule.kind == RuleKind.USAGE_DROP else "usage_trend"
        prior = signals.get("usage_prior_30", {})
        fell_wow = _("Usage %(change)s%% on the week before.")
        rose = _("Usage %(change)s%% over the last 30 days against the 30 before.")
        for aid, change in signals.get(key, {}).items():
            if aid not in computed.results:
                continue
            if rule.kind == RuleKind.USAGE_DROP and change <= -n:
                hits[aid] = (fell_wow % {"change": _fmt(change)}, change, None)
            elif rule.kind == RuleKind.USAGE_UP and change >= n and prior.get(aid, 0) >= USAGE_UP_MIN_EVENTS:
                hits[aid] = (rose % {"change": _fmt(change)}, change, None)
    elif rule.kind in (RuleKind.DETRACTOR, RuleKind.PROMOTER):
        key = "detractor_at" if rule.kind == RuleKind.DETRACTOR else "promoter_at"
        since = now - dt.timedelta(days=n)
        answer = (
            _("Detractor answer on %(day)s.")
            if rule.kind == RuleKind.DETRACTOR
            else _("Promoter answer on %(day)s.")
        )
        for aid, when in signals.get(key, {}).items():
            if aid in computed.results and when is not None and when >= since:
                hits[aid] = (answer % {"day": timezone.localdate(when).isoformat()}, None, when)
    elif rule.kind == RuleKind.RENEWAL_RISK:
        renews = _("Renews in %(days)s days and health is %(grade)s.")
        for aid, days in signals.get("renewal_days", {}).items():
            result = computed.results.get(aid)
            if result and result.grade in (Grade.YELLOW, Grade.RED) and days <= n:
                hits[aid] = (renews % {"days": days, "grade": labels[result.grade]}, days, None)
    elif rule.kind == RuleKind.ONBOARDING_OVERDUE:
        late = _("%(n)s onboarding milestone(s) overdue.")
        for aid, overdue in signals.get("onboarding_overdue", {}).items():
            if aid in computed.results and overdue:
                hits[aid] = (late % {"n": overdue}, overdue, None)
    elif rule.kind == RuleKind.NO_TOUCH:
        untouched = _("No touchpoint for %(days)s days.")
        for aid, days in signals.get("days_since_touch", {}).items():
            if aid in computed.results and days >= n:
                hits[aid] = (untouched % {"days": int(days)}, days, None)
    return hits


def alerts_wake(*, now: dt.datetime, accounts: QuerySet[Account] | None = None) -> int:
    """Snoozed alerts whose date has come are open again (of ``accounts``, default all). One query."""
    woken = Alert.objects.filter(status=AlertStatus.SNOOZED, snoozed_until__lte=timezone.localdate(now))
    if accounts is not None:
        woken = woken.filter(account__in=accounts.values("pk"))
    return woken.update(status=AlertStatus.OPEN, snoozed_until=None)


def alerts_evaluate(
    *,
    computed: selectors.Computed,
    previous: dict[int, _Previous],
    now: dt.datetime,
    accounts: QuerySet[Account] | None = None,
    id_range: tuple[int, int] | None = None,
    wake: bool = True,
) -> tuple[int, int]:
    """Run the active rules over freshly computed scores: wake snoozed alerts whose date has come
    (unless ``wake`` is False: the caller did), open an alert per account and rule whose condition
    holds (never a second open one: the database forbids it), and apply the rule's playbook.
    ``id_range``: the scores are those of one batch of accounts, by id. Returns (alerts opened,
    tasks created)."""
    today = timezone.localdate(now)
    if wake:
        alerts_wake(now=now, accounts=accounts)

    rules = list(AlertRule.objects.filter(is_active=True).select_related("playbook"))
    if not rules:
        return 0, 0
    hits_by_rule = {rule.pk: _rule_hits(rule, computed, previous, now) for rule in rules}
    if not any(hits_by_rule.values()):
        return 0, 0
    state_qs = Alert.objects.filter(rule__in=[pk for pk, hits in hits_by_rule.items() if hits])
    if accounts is not None:
        state_qs = state_qs.filter(account__in=accounts.values("pk"))
    if id_range is not None:
        state_qs = state_qs.filter(account_id__gte=id_range[0], account_id__lte=id_range[1])
    state_qs = (
        state_qs.order_by()
        .values("account_id", "rule_id")
        .annotate(
            open=Count("pk", filter=~Q(status=AlertStatus.RESOLVED)),
            last_opened=Max("opened_at"),
            last_resolved=Max("resolved_at"),
        )
        .values_list("account_id", "rule_id", "open", "last_opened", "last_resolved")
    )
    state = {
        (account_id, rule_id): {"open": n_open, "last_opened": opened, "last_resolved": resolved}
        for account_id, rule_id, n_open, opened, resolved in plain_rows(state_qs)
    }
    new_alerts: list[Alert] = []
    for rule in rules:
        cooldown = now - dt.timedelta(days=rule.cooldown_days)
        for aid, (details, _value, event_at) in hits_by_rule[rule.pk].items():
            row = state.get((aid, rule.pk))
            if row and row["open"]:
                continue
            if rule.kind in EVENT_KINDS:
                if row and row["last_opened"] and event_at is not None and event_at <= row["last_opened"]:
                    continue  # this answer already raised its alert
            elif row and row["last_resolved"] and row["last_resolved"] > cooldown:
                continue
            new_alerts.append(
                Alert(account_id=aid, rule=rule, severity=rule.severity, details=details[:300], opened_at=now)
            )
    if not new_alerts:
        return 0, 0
    owners = {aid: row[1] for aid, row in computed.ctx.account_rows.items()}
    opened = tasks = 0
    for batch in _chunks(new_alerts, BATCH):
        try:
            with transaction.atomic():
                created = bulk.insert(Alert, batch)
                tasks += _playbook_tasks_for_alerts(created, owners=owners, today=today)
                _alerts_raised_emit(created)
                opened += len(created)
        except IntegrityError:
            # Another run opened some of these meanwhile: open the rest one by one.
            for alert in batch:
                alert.pk = None
                try:
                    with transaction.atomic():
                        alert.save()
                        tasks += _playbook_tasks_for_alerts([alert], owners=owners, today=today)
                        _alerts_raised_emit([alert])
                        opened += 1
                except IntegrityError:
                    continue
    return opened, tasks


def _alerts_raised_emit(alerts: list[Alert]) -> None:
    """The "alert raised" webhook for each new alert, sent when their transaction commits. One
    query when nobody subscribes; two more (the accounts, the deliveries) when somebody does."""
    from api.events import WebhookEvent
    from api.services import webhooks_emit_many

    def payloads() -> list[dict]:
        accounts = {
            row["pk"]: row
            for row in Account.objects.filter(pk__in={a.account_id for a in alerts}).values(
                "pk", "name", "external_id", "owner__email"
            )
        }
        documents = []
        for alert in alerts:
            account = accounts.get(alert.account_id, {})
            documents.append(
                {
                    "alert": {
                        "id": alert.pk,
                        "rule": alert.rule.name,
                        "kind": alert.rule.kind,
                        "opportunity": alert.rule.is_opportunity,
                        "severity": alert.severity,
                        "details": alert.details,
                        "opened_at": alert.opened_at,
                    },
                    "account": {
                        "id": alert.account_id,
                        "name": account.get("name"),
                        "external_id": account.get("external_id"),
                    },
                    "owner": account.get("owner__email"),
                }
            )
        return documents

    webhooks_emit_many(event=WebhookEvent.ALERT_RAISED, payloads=payloads)


def _steps_by_playbook(playbook_ids: Iterable[int]) -> dict[int, list[PlaybookStep]]:
    steps: dict[int, list[PlaybookStep]] = defaultdict(list)
    for step in PlaybookStep.objects.filter(playbook_id__in=set(playbook_ids)).order_by(
        "playbook_id", "position"
    ):
        steps[step.playbook_id].append(step)
    return steps


# The tasks of the alerts' playbooks (PostgreSQL), as the ORM path below makes them: a task per step,
# in order, due the step's days after today, for the account's owner.
_TASKS_FROM_PLAYBOOKS = """
INSERT INTO health_task (title, account_id, owner_id, due_date, priority, status, notes, alert_id,
                         playbook_id, created_at)
SELECT s.title, a.account_id, acc.owner_id, %(today)s::date + s.due_in_days, s.priority, %(open)s, s.notes,
       a.id, s.playbook_id, %(now)s
FROM health_alert a
JOIN health_alertrule r ON r.id = a.rule_id
JOIN health_playbookstep s ON s.playbook_id = r.playbook_id
JOIN accounts_account acc ON acc.id = a.account_id
WHERE a.id = ANY(%(ids)s)
ORDER BY a.id, s.position
"""


def _playbook_tasks_for_alerts(alerts: list[Alert], *, owners: dict[int, int | None], today: dt.date) -> int:
    with_playbook = [
        a for a in alerts if a.rule.playbook_id and a.rule.playbook and a.rule.playbook.is_active
    ]
    if not with_playbook:
        return 0
    if connection.vendor == "postgresql":
        # One statement: no Task object per step (the first nights of a big install raise
        # thousands of alerts: building and binding each task cost more than writing it).
        with connection.cursor() as cursor:
            cursor.execute(
                _TASKS_FROM_PLAYBOOKS,
                {
                    "ids": [a.pk for a in with_playbook],
                    "today": today,
                    "open": TaskStatus.OPEN,
                    "now": timezone.now(),
                },
            )
            return cursor.rowcount
    steps = _steps_by_playbook(a.rule.playbook_id for a in with_playbook)
    tasks = [
        Task(
            title=step.title,
            account_id=alert.account_id,
            owner_id=owners.get(alert.account_id),
            due_date=today + dt.timedelta(days=step.due_in_days),
            priority=step.priority,
            notes=step.notes,
            alert=alert,
            playbook_id=step.playbook_id,
        )
        for alert in with_playbook
        for step in steps.get(alert.rule.playbook_id, [])
    ]
    Task.objects.bulk_create(tasks, batch_size=BATCH)
    return len(tasks)


@transaction.atomic
def playbook_apply(
    *, playbook: Playbook, account: Account, by: User | None = None, alert: Alert | None = None
) -> list[Task]:
    """Create the playbook's tasks for the account's owner, due the steps' days from today."""
    if not playbook.is_active:
        raise ValidationError({"playbook": _("This playbook is switched off.")})
    today = timezone.localdate()
    steps = list(playbook.steps.order_by("position"))
    if not steps:
        raise ValidationError({"playbook": _("This playbook has no steps yet.")})
    tasks = [
        Task(
            title=step.title,
            account=account,
            owner_id=account.owner_id,
            due_date=today + dt.timedelta(days=step.due_in_days),
            priority=step.priority,
            notes=step.notes,
            alert=alert,
            playbook=playbook,
            created_by=by,
        )
        for step in steps
    ]
    return Task.objects.bulk_create(tasks)


def _alert_for_update(alert: Alert) -> Alert:
    return Alert.objects.select_for_update().get(pk=alert.pk)


@transaction.atomic
def alert_snooze(*, alert: Alert, until: dt.date, by: User | None = None) -> Alert:
    """Hide an open alert until a date; it opens again on that day. It still blocks a duplicate."""
    alert = _alert_for_update(alert)
    today = timezone.localdate()
    if alert.status == AlertStatus.RESOLVED:
        raise ValidationError({"until": _("This alert is already resolved.")})
    if until <= today:
        raise ValidationError({"until": _("Choose a day after today.")})
    if until > today + dt.timedelta(days=365):
        raise ValidationError({"until": _("Snooze for at most a year.")})
    alert.status, alert.snoozed_until = AlertStatus.SNOOZED, until
    alert.save(update_fields=["status", "snoozed_until"])
    return alert


@transaction.atomic
def alert_resolve(*, alert: Alert, outcome: str, note: str = "", by: User | None = None) -> Alert:
    """Close an alert with what came of it. The rule may raise a new one after its cool-down."""
    alert = _alert_for_update(alert)
    if alert.status == AlertStatus.RESOLVED:
        raise ValidationError({"outcome": _("This alert is already resolved.")})
    if outcome not in AlertOutcome.values:
        raise ValidationError({"outcome": _("Choose an outcome.")})
    alert.status, alert.outcome, alert.outcome_note = (
        AlertStatus.RESOLVED,
        outcome,
        (note or "").strip()[:500],
    )
    alert.resolved_at, alert.resolved_by, alert.snoozed_until = timezone.now(), by, None
    alert.save(
        update_fields=["status", "outcome", "outcome_note", "resolved_at", "resolved_by", "snoozed_until"]
    )
    return alert


@transaction.atomic
def alert_reopen(*, alert: Alert, by: User | None = None) -> Alert:
    """Open a snoozed or resolved alert again (refused if the rule has opened a newer one since)."""
    alert = _alert_for_update(alert)
    if alert.status == AlertStatus.OPEN:
        return alert
    alert.status, alert.snoozed_until = AlertStatus.OPEN, None
    alert.resolved_at, alert.resolved_by, alert.outcome, alert.outcome_note = None, None, "", ""
    try:
        with transaction.atomic():
            alert.save(
                update_fields=[
                    "status",
                    "snoozed_until",
                    "resolved_at",
                    "resolved_by",
                    "outcome",
                    "outcome_note",
                ]
            )
    except IntegrityError as exc:
        raise ValidationError(_("A newer alert of the same rule is already open for this account.")) from exc
    return alert


# ---------------------------------------------------------------- tasks


def _task_for_update(task: Task) -> Task:
    return Task.objects.select_for_update(of=("self",)).select_related("account", "owner").get(pk=task.pk)


@transaction.atomic
def task_create(
    *,
    account: Account,
    title: str,
    due_date: dt.date,
    owner: User | None = None,
    priority: int = Priority.NORMAL,
    notes: str = "",
    by: User | None = None,
) -> Task:
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = _("Say what needs doing.")
    if priority not in Priority.values:
        errors["priority"] = _("Choose a priority.")
    if due_date < timezone.localdate() - dt.timedelta(days=365):
        errors["due_date"] = _("Choose a due date within the last year or later.")
    if owner is not None and not owner.has_app_access:
        errors["owner"] = _("Choose a CSM or manager.")
    if errors:
        raise ValidationError(errors)
    return Task.objects.create(
        account=account,
        title=title[:200],
        due_date=due_date,
        owner=owner if owner is not None else account.owner,
        priority=priority,
        notes=(notes or "").strip(),
        created_by=by,
    )


@transaction.atomic
def task_complete(*, task: Task, by: User | None = None) -> Task:
    task = _task_for_update(task)
    if task.status != TaskStatus.OPEN:
        raise ValidationError(_("This task is not open any more."))
    task.status, task.completed_at, task.completed_by, task.snoozed_until = (
        TaskStatus.DONE,
        timezone.now(),
        by,
        None,
    )
    task.save(update_fields=["status", "completed_at", "completed_by", "snoozed_until"])
    return task


@transaction.atomic
def task_reopen(*, task: Task, by: User | None = None) -> Task:
    task = _task_for_update(task)
    task.status, task.completed_at, task.completed_by = TaskStatus.OPEN, None, None
    task.save(update_fields=["status", "completed_at", "completed_by"])
    return task


@transaction.atomic
def task_snooze(*, task: Task, until: dt.date, by: User | None = None) -> Task:
    """Put a task off: it leaves the inbox until ``until`` and is due that day at the latest."""
    task = _task_for_update(task)
    today = timezone.localdate()
    if task.status != TaskStatus.OPEN:
        raise ValidationError({"until": _("This task is not open any more.")})
    if until <= today:
        raise ValidationError({"until": _("Choose a day after today.")})
    if until > today + dt.timedelta(days=365):
        raise ValidationError({"until": _("Snooze for at most a year.")})
    task.snoozed_until, task.due_date = until, max(task.due_date, until)
    task.save(update_fields=["snoozed_until", "due_date"])
    return task


@transaction.atomic
def task_reassign(*, task: Task, owner: User, by: User | None = None) -> Task:
    task = _task_for_update(task)
    if task.status != TaskStatus.OPEN:
        raise ValidationError({"owner": _("This task is not open any more.")})
    if not (owner.is_active and owner.has_app_access):
        raise ValidationError({"owner": _("Choose an active CSM or manager.")})
    task.owner = owner
    task.save(update_fields=["owner"])
    return task


# ---------------------------------------------------------------- daily digest


@dataclass
class Digest:
    user: User
    tasks: list[Task] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


def task_digests_send(*, now: dt.datetime | None = None) -> int:
    """Email each CSM (and manager) their tasks due today or overdue and the alerts opened on their
    accounts in the last day; nobody gets an empty digest, and nobody gets two on one day.

    Four queries to gather everything, whatever the number of users, and one insert per email
    sent (the record that it went); returns the emails sent.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    already = set(DigestSent.objects.filter(day=today).values_list("user_id", flat=True))
    digests: dict[int, Digest] = {}
    users = {
        user.pk: user
        for user in User.objects.filter(is_active=True)
        .exclude(role="")
        .exclude(pk__in=already)
        .exclude(email="")
    }
    due = (
        Task.objects.actionable(today)
        .filter(owner_id__in=list(users), due_date__lte=today)
        .select_related("account")
        .order_by("owner_id", "due_date", "-priority", "pk")
    )
    for task in due:
        digests.setdefault(task.owner_id, Digest(users[task.owner_id])).tasks.append(task)
    alerts = (
        Alert.objects.filter(opened_at__gte=now - dt.timedelta(days=1), opened_at__lte=now)
        .exclude(status=AlertStatus.RESOLVED)
        .filter(account__owner_id__in=list(users))
        .select_related("account", "rule")
        .order_by("account__owner_id", "-opened_at")
    )
    for alert in alerts:
        owner_id = alert.account.owner_id
        digests.setdefault(owner_id, Digest(users[owner_id])).alerts.append(alert)
    sent = 0
    connection = get_connection()
    base_url = getattr(settings, "CS_BASE_URL", "").rstrip("/")
    for digest in digests.values():
        if not digest.tasks and not digest.alerts:
            continue
        context = {"digest": digest, "today": today, "base_url": base_url}
        message = EmailMultiAlternatives(
            subject=_("Your day: %(tasks)s tasks due, %(alerts)s new alerts")
            % {"tasks": len(digest.tasks), "alerts": len(digest.alerts)},
            body=render_to_string("health/email/digest.txt", context),
            to=[digest.user.email],
            connection=connection,
        )
        message.attach_alternative(render_to_string("health/email/digest.html", context), "text/html")
        message.send()
        DigestSent.objects.bulk_create(
            [DigestSent(user=digest.user, day=today, tasks=len(digest.tasks), alerts=len(digest.alerts))],
            ignore_conflicts=True,
        )
        sent += 1
    return sent
