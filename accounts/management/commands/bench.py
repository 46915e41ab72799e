"""``manage.py bench pages``: server time and query counts of the main pages on a large portfolio.

Seeds demo data (``accounts.demo``) into the configured database when it has fewer accounts
than asked, then requests each page in-process with Django's test client, through the whole
middleware stack, as the demo CSM and the demo manager. The figure for a page is the time
``Client.get`` takes; the floor is a trivial logged-in page (``team:me``), so the ratio says
what the page's own work costs. Query counts come from ``CaptureQueriesContext``.

    DATABASE_URL=postgres://... manage.py bench pages                  # 100k accounts, 10M events
    DATABASE_URL=postgres://... manage.py bench pages --reuse --explain
    manage.py bench pages --small                                    # smoke test, any database
"""

from __future__ import annotations

import cProfile
import io
import math
import os
import platform
import pstats
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

import django
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count, Exists, OuterRef
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from accounts import demo
from accounts.models import Account, UsageEvent
from team.models import User

SLOW_RATIO = 3.0


@dataclass
class Result:
    page: str
    user: str
    url: str
    client: Client | None = None
    headers: dict = field(default_factory=dict)  # {"HX-Request": "true"} for an htmx partial
    times: list[float] = field(default_factory=list)
    sql_times: list[float] = field(default_factory=list)
    queries: int = 0
    status: int = 200
    slowest_sql: str = ""
    slowest_ms: float = 0.0
    floor: float | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.times) * 1000 if self.times else math.nan

    @property
    def sql_ms(self) -> float:
        return statistics.median(self.sql_times) * 1000 if self.sql_times else math.nan

    @property
    def p95(self) -> float:
        if not self.times:
            return math.nan
        ordered = sorted(self.times)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] * 1000

    @property
    def ratio(self) -> float:
        return self.median / self.floor if self.floor else math.nan

    @property
    def slow(self) -> bool:
        return self.status == 200 and self.ratio > SLOW_RATIO


class _SqlTimer:
    """Time spent in the database driver per request (``connection.execute_wrapper``)."""

    def __init__(self) -> None:
        self.total = 0.0
        self.log: list[float] | None = None

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            self.total += elapsed
            if self.log is not None:
                self.log.append(elapsed)


class Command(BaseCommand):
    help = "Benchmark the portfolio and account pages on a large demo portfolio (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("target", choices=["pages"], help="what to measure")
        parser.add_argument("--accounts", type=int, default=None, help="accounts to have (default 100,000)")
        parser.add_argument(
            "--events", type=int, default=None, help="usage events to seed (default 10,000,000)"
        )
        parser.add_argument("--requests", type=int, default=None, help="timed requests per page (default 50)")
        parser.add_argument(
            "--reuse", action="store_true", help="do not seed if the database has any accounts"
        )
        parser.add_argument(
            "--small",
            action="store_true",
            help="a smoke test on a small portfolio, on any database (SQLite too)",
        )
        parser.add_argument(
            "--q", default="north", help="the search term of the search page (default: north)"
        )
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED)
        parser.add_argument(
            "--explain", action="store_true", help="EXPLAIN ANALYZE the slowest query of slow pages"
        )
        parser.add_argument("--profile", action="store_true", help="cProfile slow pages: the top functions")
        parser.add_argument("--quiet", action="store_true", help="no progress bar while seeding")

    def handle(self, *args, **options):
        small = options["small"]
        accounts = options["accounts"] or (150 if small else 100_000)
        events = options["events"] if options["events"] is not None else (4_500 if small else 10_000_000)
        requests = options["requests"] or (5 if small else 50)
        if connection.vendor != "postgresql" and not small:
            raise CommandError(
                "bench pages measures the production database: set DATABASE_URL=postgres://… "
                f"(this is {connection.vendor}). Use --small for a smoke test on any database."
            )
        if accounts <= 0 or events < 0 or requests <= 0:
            raise CommandError("--accounts and --requests must be positive, --events not negative.")
        self._seed(accounts, events, options)

        csm = User.objects.filter(email=demo.DEMO_CSM_EMAIL).first()
        manager = User.objects.filter(email=demo.DEMO_MANAGER_EMAIL).first()
        if not (csm and manager):
            raise CommandError("The demo logins are missing: run seed_demo first, or bench without --reuse.")
        total = Account.objects.count()
        self.stdout.write(self._environment(total, requests))

        details = self._busiest_accounts(csm)
        self.logins = {"CSM": csm.email, "manager": manager.email}
        portfolio = reverse("accounts:portfolio")
        results: list[Result] = []
        for user, label in ((csm, "CSM"), (manager, "manager")):
            client = Client()
            client.force_login(user)
            pages = [
                ("floor /me/", reverse("team:me")),
                ("portfolio, first page", portfolio),
                ("filtered: enterprise, renewal ≤ 90 days", f"{portfolio}?segment=enterprise&renewal=90"),
                (f"searched: q={options['q']}", f"{portfolio}?{urlencode({'q': options['q']})}"),
                ("sorted by MRR, descending", f"{portfolio}?sort=-mrr"),
                ("sorted by last touch, newest first", f"{portfolio}?sort=-last_touch_at"),
                ("sorted by health score, worst first", f"{portfolio}?sort=score"),
            ]
            user_results = [Result(page=page, user=label, url=url, client=client) for page, url in pages]
            for pk, events_count in details[label]:
                # the page, then its timeline and side cards, which htmx requests (both at once)
                # as soon as the page is there
                user_results += [
                    Result(
                        page=f"account 360 ({events_count:,} events)",
                        user=label,
                        url=reverse("accounts:detail", args=[pk]),
                        client=client,
                    ),
                    Result(
                        page="  + its timeline (htmx)",
                        user=label,
                        url=reverse("accounts:timeline", args=[pk]),
                        client=client,
                        headers={"HX-Request": "true"},
                    ),
                    Result(
                        page="  + its side cards (htmx)",
                        user=label,
                        url=reverse("accounts:side", args=[pk]),
                        client=client,
                        headers={"HX-Request": "true"},
                    ),
                ]
            self._measure(user_results, requests)
            for result in user_results:
                result.floor = user_results[0].median
            results += user_results
        self._report(results, explain=options["explain"], profile=options["profile"])

    # ------------------------------------------------------------ seeding

    def _seed(self, accounts: int, events: int, options) -> None:
        existing = Account.objects.count()
        if options["reuse"] and existing:
            return
        if existing >= accounts:
            return
        if existing and not User.objects.filter(email=demo.DEMO_CSM_EMAIL).exists():
            raise CommandError(
                "This database has accounts that are not demo data; bench only adds demo data to a "
                "scratch database. Point DATABASE_URL at one (createdb, migrate) or use --reuse."
            )
        missing = accounts - existing
        self.stdout.write(
            f"Seeding {missing:,} demo accounts and about {events * missing // accounts:,} events…"
        )
        report = demo.seed_demo(
            accounts=missing,
            events_per_account=events / accounts,
            seed=options["seed"],
            progress=not options["quiet"] and sys.stderr.isatty(),
        )
        timings = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in report.timings.items())
        self.stdout.write(f"Seeded in {report.seconds:.1f} s ({timings}).")

    def _busiest_accounts(self, csm: User) -> dict[str, list[tuple[int, int]]]:
        """The accounts with the most usage events: three for the manager, the CSM's own busiest."""
        busiest = (
            UsageEvent.objects.values("account").annotate(n=Count("id")).order_by("-n", "account")
        )  # one grouped pass over the events (a second or two at 10M rows)
        accounts = {
            "manager": [(row["account"], row["n"]) for row in busiest[:3]],
            "CSM": [(row["account"], row["n"]) for row in busiest.filter(account__owner=csm)[:1]],
        }
        # The busiest by events are not the fullest otherwise (the demo's biggest accounts have
        # no onboarding plan, say): add, for each, the first account with every side card filled.
        for label, owner in (("manager", None), ("CSM", csm)):
            full = self._fullest_account(owner)
            if full is not None and full not in [pk for pk, _n in accounts[label]]:
                accounts[label].append((full, UsageEvent.objects.filter(account=full).count()))
        return accounts

    def _fullest_account(self, owner: User | None) -> int | None:
        """The first account (by id) with an open alert, an open task, survey answers, points, and
        an onboarding plan with success criteria: every card of the 360's side column in use."""
        from feedback.models import Response
        from health.models import Alert, AlertStatus, Task, TaskStatus
        from loyalty.models import PointsBalance
        from onboarding.models import SuccessCriterion

        def has(model, **lookups):
            return Exists(model.objects.filter(**lookups))

        accounts = Account.objects.filter(
            has(Alert, account=OuterRef("pk"), status=AlertStatus.OPEN),
            has(Task, account=OuterRef("pk"), status=TaskStatus.OPEN),
            has(Response, account=OuterRef("pk")),
            has(PointsBalance, account=OuterRef("pk"), balance__gt=0),
            has(SuccessCriterion, plan__account=OuterRef("pk")),
        )
        if owner is not None:
            accounts = accounts.filter(owner=owner)
        return accounts.order_by("pk").values_list("pk", flat=True).first()

    # ------------------------------------------------------------ measuring

    def _measure(self, results: list[Result], requests: int) -> None:
        """Round after round, one request to every page in turn, so that a change in the machine's
        load (other processes, caches) affects every page alike, floor included."""
        sql = _SqlTimer()
        with override_settings(DEBUG=False), connection.execute_wrapper(sql):  # DEBUG off, as in production
            for result in results:
                for _warm_up in range(3):
                    response = result.client.get(result.url, headers=result.headers)
                    if response.status_code != 200:
                        result.status = response.status_code
                        break
            live = [result for result in results if result.status == 200]
            for _round in range(requests):
                for result in live:
                    sql.total = 0.0
                    started = time.perf_counter()
                    result.client.get(result.url, headers=result.headers)
                    result.times.append(time.perf_counter() - started)
                    result.sql_times.append(sql.total)
        for result in live:
            sql.log = []
            with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(sql):
                result.client.get(result.url, headers=result.headers)
            result.queries = len(captured.captured_queries)
            if sql.log:
                index = max(range(len(sql.log)), key=sql.log.__getitem__)
                result.slowest_ms = sql.log[index] * 1000
                result.slowest_sql = captured.captured_queries[index]["sql"]
            sql.log = None

    # ------------------------------------------------------------ output

    def _profile(self, result: Result) -> None:
        client = Client()
        client.force_login(User.objects.get(email=self.logins[result.user]))
        profiler = cProfile.Profile()
        with override_settings(DEBUG=False):
            client.get(result.url, headers=result.headers)
            profiler.enable()
            for _request in range(5):
                client.get(result.url, headers=result.headers)
            profiler.disable()
        for order, restriction, title in (
            ("tottime", [15], "the 15 functions with most time of their own"),
            ("cumulative", [rf"^{re.escape(str(settings.BASE_DIR))}/(?!\.venv)", 15], "this project's code"),
        ):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(*restriction)
            lines = out.getvalue().splitlines()
            start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
            self.stdout.write(f"  cProfile over 5 requests, {title}:")
            self.stdout.write("\n".join("    " + line for line in lines[start:] if line.strip()))

    def _environment(self, total: int, requests: int) -> str:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'accounts_usageevent'")
                events = f"~{cursor.fetchone()[0]:,}"
                cursor.execute("SHOW server_version")
                database = f"PostgreSQL {cursor.fetchone()[0]}"
        else:
            events = f"{UsageEvent.objects.count():,}"
            database = connection.vendor
        return (
            f"Database: {database} ({connection.settings_dict['NAME']}); "
            f"{total:,} accounts, {events} usage events\n"
            f"Machine: {os.cpu_count()} CPUs, {platform.platform()}; Python {platform.python_version()}, "
            f"Django {django.get_version()}\n"
            f"Each page: 3 warm-up requests, then {requests} timed requests (Client.get, full middleware "
            "stack, DEBUG off), then one more to count queries.\n"
        )

    def _report(self, results: list[Result], *, explain: bool, profile: bool) -> None:
        width = max(len(r.page) for r in results) + 2
        columns = f"{'median ms':>10}{'p95 ms':>9}{'queries':>9}{'SQL ms':>9}{'× floor':>9}"
        header = f"{'page':<{width}}{'as':<9}{columns}"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for r in results:
            if r.status != 200:
                line = f"{r.page:<{width}}{r.user:<9}  HTTP {r.status} for {r.url}"
                self.stdout.write(self.style.ERROR(line))
                continue
            line = (
                f"{r.page:<{width}}{r.user:<9}{r.median:>10.1f}{r.p95:>9.1f}{r.queries:>9}{r.sql_ms:>9.1f}"
                f"{r.ratio:>8.1f}x" + (f"  SLOW (> {SLOW_RATIO:g}x floor)" if r.slow else "")
            )
            self.stdout.write(self.style.WARNING(line) if r.slow else line)
        slow = [r for r in results if r.slow]
        failed = [r for r in results if r.status != 200]
        self.stdout.write("")
        if not slow:
            self.stdout.write(self.style.SUCCESS(f"No page is over {SLOW_RATIO:g}x the floor."))
        for r in slow:
            self.stdout.write(
                self.style.WARNING(
                    f"{r.page} as {r.user} ({r.url}): {r.median:.1f} ms, of which SQL {r.sql_ms:.1f} ms in "
                    f"{r.queries} queries; the rest is Python (middleware, view, template)."
                )
            )
            self.stdout.write(f"  slowest query, {r.slowest_ms:.1f} ms: {r.slowest_sql}")
            if explain and connection.vendor == "postgresql" and r.slowest_sql:
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + r.slowest_sql)
                    for (line,) in cursor.fetchall():
                        self.stdout.write(f"    {line}")
            if profile:
                self._profile(r)
        if failed:
            raise CommandError(f"{len(failed)} page(s) did not answer 200; see above.")
