"""``manage.py bench_health``: recompute every account's health score and print the time next to the floor.

The floor is one hand-written SQL query computing the same usage windows for the same accounts
(newest event, events in the last 30 days and the 30 before, the last 7 and the 7 before, distinct
active contacts in the last 30 days), fetched into this process. The recompute is the nightly job:
every source's grouped queries, the scoring in Python, the snapshot and current-health upserts and
the alert rules. It then runs again on the first 10,000 accounts to show how time grows with size.

Each timed run is a night of its own, the one after the last (the clock moved on a day; no new
events came in): before it (not timed) the night is made to look as the nightly job finds it, with
no snapshots for it yet, history 7 and 30 days back, yesterday's current-health rows and the
tables vacuumed. The runs write snapshots and open alerts and tasks as the nightly job does; at
the end the snapshots after today are deleted and today's scores written again. Run it on a
scratch database, e.g.::

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

    def _night(self, day: dt.date, max_id: int | None) -> None:
        """Make ``day`` look as it does when its nightly job starts (not timed): snapshots 7 and 30
        days before it (the nightly job reads them for the changes; today's scores, moved a
        little, stand in for them), none yet for the day or after it, the current-health rows
        those of the night before, and no dead rows from earlier runs of this benchmark."""
        today = timezone.localdate()
        if not HealthSnapshot.objects.filter(day=today).exists():
            # today's nightly job, whole: the first nights timed then raise only their own alerts
            services.health_scores_recompute()
        scope = "" if max_id is None else " AND account_id <= %s"
        extra = [] if max_id is None else [max_id]
        with connection.cursor() as cursor:
            for days in (7, 30):
                before = day - dt.timedelta(days=days)
                if before == today or HealthSnapshot.objects.filter(day=before).exists():
                    continue
                cursor.execute(
                    "INSERT INTO health_healthsnapshot (account_id, day, card_version_id, score, "
                    "uncapped_score, capped_by, grade, raw, computed_at) SELECT account_id, %s, "
                    "card_version_id, GREATEST(0, LEAST(100, score + (account_id %% 21) - 10)), "
                    "uncapped_score, capped_by, grade, raw, computed_at FROM health_healthsnapshot "
                    "WHERE day = %s",
                    [before, today],
                )
            cursor.execute(f"DELETE FROM health_healthsnapshot WHERE day >= %s{scope}", [day, *extra])  # noqa: S608
            cursor.execute(
                f"UPDATE health_accounthealth SET day = %s WHERE day >= %s{scope}",  # noqa: S608
                [day - dt.timedelta(days=1), day, *extra],
            )
            cursor.execute("VACUUM ANALYZE health_healthsnapshot")
            cursor.execute("VACUUM ANALYZE health_accounthealth")

    def _back_to_today(self, now: dt.datetime) -> None:
        """Leave the database as it was found (not timed): no snapshots after today, and the
        current-health rows today's."""
        today = timezone.localdate(now)
        HealthSnapshot.objects.filter(day__gt=today)._raw_delete(HealthSnapshot.objects.db)
        with connection.cursor() as cursor:
            yesterday = today - dt.timedelta(days=1)
            cursor.execute("UPDATE health_accounthealth SET day = %s WHERE day >= %s", [yesterday, today])
        HealthSnapshot.objects.filter(day=today)._raw_delete(HealthSnapshot.objects.db)
        services.health_scores_recompute(now=now, evaluate_alerts=False)

    def _run(self, n: int, total: int, repeat: int) -> dict[str, float]:
        max_id = None
        accounts = None
        if n < total:
            max_id = Account.objects.order_by("pk").values_list("pk", flat=True)[n - 1]
            accounts = Account.objects.filter(pk__lte=max_id)
        started_at = timezone.now()
        _floor(started_at + dt.timedelta(days=1), max_id)  # warm the cache
        floors, recomputes = [], []
        try:
            for night in range(1, max(1, repeat) + 1):
                # Each run is a night of its own, the one after the last: the clock has moved on a
                # day (no new events came in), so scores change and the current-health rows are
                # yesterday's, as the nightly job finds them. The floor is measured for the same
                # moment, just before.
                now = started_at + dt.timedelta(days=night)
                self._night(timezone.localdate(now), max_id)
                floors.append(_floor(now, max_id))
                started = time.perf_counter()
                report = services.health_scores_recompute(accounts=accounts, now=now)
                recomputes.append((time.perf_counter() - started, report))
        finally:
            self._back_to_today(started_at)
        floor = min(seconds for seconds, _rows in floors)
        seconds, report = min(recomputes, key=lambda pair: pair[0])
        first = recomputes[0][0]
        parts = ", ".join(f"{name} {value:.2f} s" for name, value in report.timings.items())
        self.stdout.write(f"\n{n:,} accounts ({report.accounts:,} not churned, {report.scored:,} scored)")
        self.stdout.write(f"  floor (one SQL query)  {floor:8.2f} s   {floors[0][1]:,} account rows")
        self.stdout.write(
            f"  recompute              {seconds:8.2f} s   ratio {seconds / floor:.2f} (target ≤ 2)   "
            f"first run {first:.2f} s"
        )
        self.stdout.write(
            f"    {report.batches} batches, {report.workers} at a time (the parts' times are summed over "
            f"the batches): {parts}"
        )
        self.stdout.write(
            f"    alerts opened {sum(r.alerts_opened for _s, r in recomputes):,}, tasks created "
            f"{sum(r.tasks_created for _s, r in recomputes):,}"
        )
        return {"floor": floor, "recompute": seconds}
