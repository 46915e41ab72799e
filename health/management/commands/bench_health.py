"""``manage.py bench_health``: recompute every account's health score and print the time next to the floor.

The floor is one hand-written SQL query computing the same usage windows for the same accounts
(newest event, events in the last 30 days and the 30 before, the last 7 and the 7 before, distinct
active contacts in the last 30 days), fetched into this process. The recompute is the nightly job:
every source's grouped queries, the scoring in Python, the snapshot and current-health upserts and
the alert rules. It then runs again on the first 10,000 accounts to show how time grows with size.

It writes today's snapshots, like the nightly job, and before each timed run puts the day back to
how the nightly job finds it: no snapshots for today yet, history 7 and 30 days back, tables
vacuumed (not timed). Run it on a scratch database, e.g.::

    createdb -h 127.0.0.1 -U postgres cs_health
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cs_health ./manage.py migrate
    DATABASE_URL=... ./manage.py seed_demo --accounts 100000 --events-per-account 100
    DATABASE_URL=... ./manage.py bench_health
"""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from accounts.models import Account, UsageEvent
from health import services
from health.models import HealthSnapshot
from health.sources import USAGE_WINDOW_DAYS

FLOOR_SQL = """
SELECT e.account_id,
       max(e.occurred_at),
       count(*) FILTER (WHERE e.occurred_at >= %(d30)s),
       count(*) FILTER (WHERE e.occurred_at < %(d30)s),
       count(*) FILTER (WHERE e.occurred_at >= %(d7)s),
       count(*) FILTER (WHERE e.occurred_at >= %(d14)s AND e.occurred_at < %(d7)s),
       count(DISTINCT e.contact_id) FILTER (WHERE e.occurred_at >= %(d30)s)
FROM accounts_usageevent e
WHERE e.occurred_at >= %(d60)s AND e.occurred_at < %(now)s {scope}
GROUP BY e.account_id
"""
SCOPE_SQL = "AND e.account_id IN (SELECT a.id FROM accounts_account a WHERE a.id <= %(max_id)s)"


def _floor(now: dt.datetime, max_id: int | None) -> tuple[float, int]:
    params = {
        "now": now,
        "d7": now - dt.timedelta(days=7),
        "d14": now - dt.timedelta(days=14),
        "d30": now - dt.timedelta(days=30),
        "d60": now - dt.timedelta(days=USAGE_WINDOW_DAYS),
        "max_id": max_id,
    }
    sql = FLOOR_SQL.format(scope=SCOPE_SQL if max_id is not None else "")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return time.perf_counter() - started, len(rows)


class Command(BaseCommand):
    help = "Time the set-based health recompute against the floor (one SQL query for the usage windows)."

    def add_arguments(self, parser):
        parser.add_argument("--accounts", type=int, default=None, help="first N accounts (default: all)")
        parser.add_argument(
            "--small", type=int, default=10_000, help="the second run's size (default 10,000)"
        )
        parser.add_argument("--repeat", type=int, default=2, help="runs of each, best kept (default 2)")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("bench_health measures PostgreSQL: set DATABASE_URL=postgres://...")
        total = Account.objects.count()
        if not total:
            raise CommandError(
                "No accounts. Seed first: manage.py seed_demo --accounts 100000 --events-per-account 100"
            )
        now = timezone.now()
        events = UsageEvent.objects.count()
        in_window = UsageEvent.objects.filter(
            occurred_at__gte=now - dt.timedelta(days=USAGE_WINDOW_DAYS), occurred_at__lt=now
        ).count()
        self.stdout.write(
            f"accounts {total:,}   usage events {events:,} "
            f"({in_window:,} in the {USAGE_WINDOW_DAYS}-day window)"
        )
        size = min(options["accounts"] or total, total)
        runs = [size]
        if options["small"] and options["small"] < size:
            runs.append(options["small"])
        results = {}
        for n in runs:
            results[n] = self._run(n, total, options["repeat"])
        if len(runs) == 2:
            big, small = runs
            growth = results[big]["recompute"] / results[small]["recompute"]
            self.stdout.write(
                f"\ngrowth: {growth:.1f}x the time for {big / small:.1f}x the accounts "
                f"(target ≤ 12x for 10x)   "
                f"floor growth {results[big]['floor'] / results[small]['floor']:.1f}x"
            )

    def _history(self) -> None:
        """Snapshots 7 and 30 days ago, as a running install has (the nightly job reads them for the
        7- and 30-day changes): today's scores copied back, once."""
        today = timezone.localdate()
        if not HealthSnapshot.objects.filter(day=today).exists():
            services.health_scores_recompute(evaluate_alerts=False)
        for days in (7, 30):
            day = today - dt.timedelta(days=days)
            if HealthSnapshot.objects.filter(day=day).exists():
                continue
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO health_healthsnapshot (account_id, day, card_version_id, score, "
                    "uncapped_score, capped_by, grade, raw, computed_at) SELECT account_id, %s, "
                    "card_version_id, GREATEST(0, LEAST(100, score + (account_id %% 21) - 10)), "
                    "uncapped_score, capped_by, grade, raw, computed_at FROM health_healthsnapshot "
                    "WHERE day = %s",
                    [day, today],
                )

    def _fresh_day(self, max_id: int | None) -> None:
        """Make today look like it does when the nightly job starts: no snapshots for today yet and
        no dead rows from earlier runs of this benchmark (VACUUM is not timed)."""
        today = timezone.localdate()
        rows = HealthSnapshot.objects.filter(day=today)
        if max_id is not None:
            rows = rows.filter(account_id__lte=max_id)
        rows._raw_delete(rows.db)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE health_healthsnapshot")
            cursor.execute("VACUUM ANALYZE health_accounthealth")

    def _run(self, n: int, total: int, repeat: int) -> dict[str, float]:
        max_id = None
        accounts = None
        if n < total:
            max_id = Account.objects.order_by("pk").values_list("pk", flat=True)[n - 1]
            accounts = Account.objects.filter(pk__lte=max_id)
        self._history()
        now = timezone.now()
        _floor(now, max_id)  # warm the cache
        floors = [_floor(now, max_id) for _ in range(max(1, repeat))]
        floor = min(seconds for seconds, _rows in floors)
        recomputes = []
        for _ in range(max(1, repeat)):
            self._fresh_day(max_id)
            started = time.perf_counter()
            report = services.health_scores_recompute(accounts=accounts)
            recomputes.append((time.perf_counter() - started, report))
        seconds, report = min(recomputes, key=lambda pair: pair[0])
        first = recomputes[0][0]
        parts = ", ".join(f"{name} {value:.2f} s" for name, value in report.timings.items())
        self.stdout.write(f"\n{n:,} accounts ({report.accounts:,} not churned, {report.scored:,} scored)")
        self.stdout.write(f"  floor (one SQL query)  {floor:8.2f} s   {floors[0][1]:,} account rows")
        self.stdout.write(
            f"  recompute              {seconds:8.2f} s   ratio {seconds / floor:.2f} (target ≤ 2)   "
            f"first run {first:.2f} s"
        )
        self.stdout.write(f"    {parts}")
        self.stdout.write(
            f"    alerts opened {sum(r.alerts_opened for _s, r in recomputes):,}, tasks created "
            f"{sum(r.tasks_created for _s, r in recomputes):,}"
        )
        return {"floor": floor, "recompute": seconds}
