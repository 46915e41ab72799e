# ruff: noqa: E501 (long SQL lines read better whole)
"""``manage.py bench_dashboards``: server time and query counts of every dashboard next to the
floor, the same figures computed by hand-written SQL in the same run.

Generates a book of accounts with three years of MRR movements (new, expansion, contraction,
churn, reactivation; MRR never below zero), current health for every account and two days of
health snapshots, unless the database already holds it (``--reuse``). Then, round by round,
it requests each page in-process with Django's test client (the whole middleware stack,
templates included) and runs that page's floor: the page's figures as plain SQL statements
written by hand, executed and fetched with a raw cursor. The ratio is page time / floor.

    DATABASE_URL=postgres://... manage.py bench_dashboards                # 100,000 accounts
    DATABASE_URL=postgres://... manage.py bench_dashboards --reuse
    manage.py bench_dashboards --small                                  # smoke test, any database
"""

from __future__ import annotations

import datetime as dt
import math
import random
import statistics
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, MrrMovement
from dashboards.periods import add_months, last_complete, month_end, month_start
from health.models import AccountHealth, HealthSnapshot, ScorecardVersion
from team.models import Role, User

DOMAIN = "bench-dash.example"
SEGMENTS = (("smb", 0.6, (100, 900)), ("mid_market", 0.3, (900, 5000)), ("enterprise", 0.1, (5000, 30000)))
TIERS = ("bronze", "silver", "gold", "platinum")
PLANS = ("Starter", "Growth", "Scale", "Enterprise", "")
REASONS = ("price", "product_fit", "support", "competitor", "budget", "low_adoption", "other")


@dataclass
class Page:
    name: str
    url: str
    user: User
    floor: list[tuple[str, list]]  # the hand-written statements that give the same figures
    times: list[float] = field(default_factory=list)
    floor_times: list[float] = field(default_factory=list)
    queries: int = 0

    @staticmethod
    def ms(values: list[float]) -> float:
        return statistics.median(values) * 1000 if values else math.nan

    @property
    def ratio(self) -> float:
        floor = self.ms(self.floor_times)
        return self.ms(self.times) / floor if floor else math.nan


class Command(BaseCommand):
    help = "Dashboards: server time and queries of each page against hand-written SQL for the same figures."

    def add_arguments(self, parser):
        parser.add_argument("--accounts", type=int, default=100_000)
        parser.add_argument("--years", type=int, default=3)
        parser.add_argument("--rounds", type=int, default=5)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--reuse", action="store_true", help="use the generated book already there")
        parser.add_argument("--small", action="store_true", help="a 300-account smoke run (any database)")
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args, **options):
        if options["small"]:
            options["accounts"] = min(options["accounts"], 300)
            options["rounds"] = min(options["rounds"], 2)
        today = timezone.localdate()
        have = Account.objects.filter(domain__endswith=DOMAIN).count()
        if not (options["reuse"] and have >= options["accounts"]) and have != options["accounts"]:
            self._generate(options["accounts"], options["years"], options["seed"], today)
        manager = User.objects.get(email=f"manager@{DOMAIN}")
        csm = User.objects.filter(email__startswith="csm", email__endswith=DOMAIN).order_by("email").first()
        pages = self._pages(manager, csm, today)
        clients = {}
        with override_settings(ALLOWED_HOSTS=["*"], DEBUG=False):
            for page in pages:
                if page.user.pk not in clients:
                    clients[page.user.pk] = Client()
                    clients[page.user.pk].force_login(page.user)
            for page in pages:  # warm up: connections, template loading, the planner's statistics
                clients[page.user.pk].get(page.url)
                self._floor(page)
            for _round in range(options["rounds"]):
                for page in pages:
                    client = clients[page.user.pk]
                    with CaptureQueriesContext(connection) as queries:
                        started = time.perf_counter()
                        response = client.get(page.url)
                        page.times.append(time.perf_counter() - started)
                    assert response.status_code == 200, (page.url, response.status_code)
                    page.queries = len(queries)
                    started = time.perf_counter()
                    self._floor(page)
                    page.floor_times.append(time.perf_counter() - started)
        self._report(pages, options)

    # -------------------------------------------------------------- the book

    def _generate(self, n: int, years: int, seed: int, today: dt.date) -> None:
        rng = random.Random(seed)
        self.stdout.write(f"Generating {n:,} accounts with {years} years of MRR movements…")
        started = time.perf_counter()
        with transaction.atomic():
            Account.objects.filter(domain__endswith=DOMAIN).delete()
            User.objects.filter(email__endswith=DOMAIN).delete()
            manager = User.objects.create_user(
                email=f"manager@{DOMAIN}", role=Role.MANAGER, full_name="Bench Manager"
            )
            csms = [
                User.objects.create_user(
                    email=f"csm{i:02d}@{DOMAIN}", role=Role.CSM, full_name=f"Bench CSM {i:02d}"
                )
                for i in range(max(4, n // 2000))
            ]
            del manager
            first_day = add_months(month_start(today), -12 * years)
            span = (today - first_day).days
            accounts, plans = [], []
            for i in range(n):
                segment = rng.choices(SEGMENTS, weights=[s[1] for s in SEGMENTS])[0]
                start = first_day + dt.timedelta(days=rng.randrange(span))
                renewal = start
                while renewal < today:
                    renewal = add_months(renewal, 12)
                accounts.append(
                    Account(
                        name=f"Bench {i:06d}",
                        domain=f"a{i}.{DOMAIN}",
                        segment=segment[0],
                        tier=rng.choice(TIERS),
                        plan=rng.choice(PLANS),
                        owner=csms[i % len(csms)],
                        contract_start=start,
                        renewal_date=renewal,
                        acquisition_cost=Decimal(rng.randrange(500, 20000)) if rng.random() < 0.6 else None,
                        lifecycle_stage="adoption",
                    )
                )
                plans.append((segment[2], start))
            Account.objects.bulk_create(accounts, batch_size=5000)
            movements, churned = [], {}
            for account, ((low, high), start) in zip(accounts, plans, strict=True):
                mrr = Decimal(rng.randrange(low, high))
                movements.append(self._move(account, "new", start, mrr))
                month = add_months(month_start(start), 1)
                while month <= today:
                    when = min(month + dt.timedelta(days=rng.randrange(28)), today)
                    roll = rng.random()
                    if mrr > 0:
                        if roll < 0.015:
                            movements.append(self._move(account, "churn", when, -mrr))
                            churned[account.pk] = (when, rng.choice(REASONS))
                            mrr = Decimal(0)
                        elif roll < 0.10:
                            step = (mrr * Decimal(rng.randrange(5, 40)) / 100).quantize(Decimal("1"))
                            movements.append(self._move(account, "expansion", when, step or Decimal(10)))
                            mrr += step or Decimal(10)
                        elif roll < 0.14:
                            step = (mrr * Decimal(rng.randrange(5, 40)) / 100).quantize(Decimal("1"))
                            if 0 < step < mrr:
                                movements.append(self._move(account, "contraction", when, -step))
                                mrr -= step
                    elif roll < 0.04:
                        mrr = Decimal(rng.randrange(low, high))
                        movements.append(self._move(account, "reactivation", when, mrr))
                        churned.pop(account.pk, None)
                    month = add_months(month, 1)
                account.mrr = mrr
            MrrMovement.objects.bulk_create(movements, batch_size=10_000)
            for account in accounts:
                if account.pk in churned:
                    account.churned_at, account.churn_reason = churned[account.pk]
                    account.lifecycle_stage = "churned"
            Account.objects.bulk_update(
                accounts, ["mrr", "churned_at", "churn_reason", "lifecycle_stage"], batch_size=5000
            )
            version, _created = ScorecardVersion.objects.get_or_create(
                digest="bench-dashboards", defaults={"config": {}}
            )
            period = last_complete("month", today)
            grades = ("red", "yellow", "green", "green", "green")
            AccountHealth.objects.bulk_create(
                (
                    AccountHealth(account=a, day=today, score=50, grade=rng.choice(grades))
                    for a in accounts
                    if a.pk not in churned
                ),
                batch_size=10_000,
                ignore_conflicts=True,
            )
            HealthSnapshot.objects.filter(
                day__in=[period.start, period.end], account__domain__endswith=DOMAIN
            ).delete()
            HealthSnapshot.objects.bulk_create(
                (
                    HealthSnapshot(account=a, day=d, score=50, grade=rng.choice(grades), card_version=version)
                    for a in accounts
                    if a.pk not in churned
                    for d in (period.start, period.end)
                ),
                batch_size=10_000,
            )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.stdout.write(
            f"  {n:,} accounts, {len(movements):,} movements in {time.perf_counter() - started:.1f} s"
        )

    @staticmethod
    def _move(account: Account, kind: str, when: dt.date, amount: Decimal) -> MrrMovement:
        return MrrMovement(
            account=account,
            kind=kind,
            date=when,
            amount=amount,
            original_amount=abs(amount),
            original_currency="USD",
        )

    # -------------------------------------------------------------- the pages and their floors

    def _pages(self, manager: User, csm: User, today: dt.date) -> list[Page]:
        period = last_complete("month", today)
        quarter = last_complete("quarter", today)
        leadership = reverse("dashboards:leadership")
        return [
            Page(
                "leadership, month, by segment",
                leadership,
                manager,
                self._leadership_floor(period, "a.segment"),
            ),
            Page(
                "leadership, quarter, by owner",
                f"{leadership}?period=quarter&by=owner",
                manager,
                self._leadership_floor(quarter, "a.owner_id"),
            ),
            Page("cohort retention", reverse("dashboards:cohorts"), manager, self._cohort_floor(today)),
            Page("renewals", reverse("dashboards:renewals"), manager, self._renewals_floor(today, None)),
            Page(
                "CSM dashboard (manager: every account)",
                reverse("dashboards:home"),
                manager,
                self._desk_floor(today, manager, None),
            ),
            Page(
                "CSM dashboard (one CSM)",
                reverse("dashboards:home"),
                csm,
                self._desk_floor(today, csm, csm.pk),
            ),
            Page("API summary", reverse("api:metrics-summary"), manager, self._summary_floor(period)),
        ]

    def _floor(self, page: Page) -> None:
        with connection.cursor() as cursor:
            for sql, params in page.floor:
                cursor.execute(sql, params)
                cursor.fetchall()

    @staticmethod
    def _leadership_floor(period, group: str | None) -> list[tuple[str, list]]:
        """The leadership figures of a period and the one before, by hand: per-account MRR on the
        days that matter in one pass over the movements (aggregate FILTERs, the cheapest form),
        then sums per slice; the 12-month trend; health moves; churn reasons; acquisition
        costs; survey answers."""
        prev = period.previous()
        days = [
            period.start,
            period.end,
            period.twelve_month_start,
            prev.start,
            prev.end,
            prev.twelve_month_start,
        ]
        kinds = ("new", "expansion", "contraction", "churn", "reactivation")
        cols = ", ".join(f"SUM(m.amount) FILTER (WHERE m.date <= %s) AS d{i}" for i in range(6))
        kind_cols = ", ".join(
            f"SUM(m.amount) FILTER (WHERE m.kind = '{k}' AND m.date > %s AND m.date <= %s) AS {p}_{k}"
            for p in ("c", "p")
            for k in kinds
        )
        kind_params = [
            d
            for _p, (s, e) in (("c", (period.start, period.end)), ("p", (prev.start, prev.end)))
            for _k in kinds
            for d in (s, e)
        ]
        key = group or "0"

        def figures(s: str, e: str, y: str) -> str:
            return (
                f"SUM(CASE WHEN {s} > 0 THEN 1 ELSE 0 END), SUM(CASE WHEN {s} > 0 AND {e} > 0 THEN 1 ELSE 0 END), "
                f"SUM(CASE WHEN {s} > 0 THEN {s} ELSE 0 END), SUM(CASE WHEN {s} > 0 THEN {e} ELSE 0 END), "
                f"SUM(CASE WHEN {s} > 0 THEN LEAST({s}, {e}) ELSE 0 END), SUM(CASE WHEN {e} > 0 THEN 1 ELSE 0 END), "
                f"SUM({e}), SUM(CASE WHEN {y} > 0 THEN 1 ELSE 0 END), SUM(CASE WHEN {y} > 0 AND {e} > 0 THEN 1 ELSE 0 END)"
            )

        least = "LEAST" if connection.vendor == "postgresql" else "MIN"
        revenue = (
            f"WITH per AS (SELECT m.account_id, {cols}, {kind_cols} FROM accounts_mrrmovement m "  # noqa: S608
            f"WHERE m.date <= %s GROUP BY m.account_id) "
            f"SELECT {key}, {figures('d0', 'd1', 'd2')}, {figures('d3', 'd4', 'd5')}, "
            + ", ".join(
                f"SUM({p}_{k}), SUM(CASE WHEN {p}_{k} <> 0 THEN 1 ELSE 0 END)"
                for p in ("c", "p")
                for k in kinds
            )
            + " FROM per JOIN accounts_account a ON a.id = per.account_id"
            + (f" GROUP BY {group}" if group else "")
        ).replace("LEAST", least)
        statements = [(revenue, [*days, *kind_params, period.end])]
        months = [add_months(month_start(period.end), -i) for i in range(11, -1, -1)]
        trend_days = [d for m in months for d in (m, min(month_end(m), period.end))]
        trend_cols = ", ".join(
            f"SUM(CASE WHEN m.date <= %s THEN m.amount ELSE 0 END) AS t{i}" for i in range(24)
        )
        trend = (
            f"WITH per AS (SELECT m.account_id, {trend_cols} FROM accounts_mrrmovement m "  # noqa: S608
            f"WHERE m.date <= %s GROUP BY m.account_id) SELECT "
            + ", ".join(figures(f"t{2 * i}", f"t{2 * i + 1}", f"t{2 * i}") for i in range(12))
            + " FROM per"
        ).replace("LEAST", least)
        statements.append((trend, [*trend_days, period.end]))
        statements += [
            (
                "SELECT MAX(CASE WHEN day <= %s THEN day END), MAX(day) FROM health_healthsnapshot WHERE day <= %s",
                [period.start, period.end],
            ),
            (
                "SELECT b, e, COUNT(*) FROM (SELECT account_id, MAX(CASE WHEN day = %s THEN grade END) AS b, "
                "MAX(CASE WHEN day = %s THEN grade END) AS e FROM health_healthsnapshot WHERE day IN (%s, %s) "
                "GROUP BY account_id) t GROUP BY b, e",
                [period.start, period.end, period.start, period.end],
            ),
            (
                "SELECT a.churn_reason, COUNT(DISTINCT CASE WHEN m.date > %s THEN m.account_id END), "
                "SUM(CASE WHEN m.date > %s THEN m.amount ELSE 0 END), "
                "COUNT(DISTINCT CASE WHEN m.date <= %s THEN m.account_id END) "
                "FROM accounts_mrrmovement m JOIN accounts_account a ON a.id = m.account_id "
                "WHERE m.kind = 'churn' AND m.date > %s AND m.date <= %s GROUP BY a.churn_reason",
                [period.start, period.start, prev.end, prev.start, period.end],
            ),
            (
                f"SELECT {key}, COUNT(*), SUM(acquisition_cost) FROM accounts_account a "  # noqa: S608
                "WHERE acquisition_cost IS NOT NULL AND contract_start <= %s"
                + (f" GROUP BY {group}" if group else ""),
                [period.end],
            ),
            (
                "SELECT kind, COUNT(*), SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END), "
                "SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END), SUM(score) FROM feedback_response "
                "WHERE answered_at >= %s AND answered_at < %s GROUP BY kind",
                [prev.start, period.end + dt.timedelta(days=1)],
            ),
        ]
        return statements

    def _summary_floor(self, period) -> list[tuple[str, list]]:
        revenue, _trend, _days, _pairs, _reasons, cac, surveys = self._leadership_floor(period, None)
        return [revenue, cac, surveys]

    @staticmethod
    def _cohort_floor(today: dt.date) -> list[tuple[str, list]]:
        """Per account of the last 12 signup months: MRR at the end of its signup month and of
        each month after it, then sums per signup month."""
        first = add_months(month_start(today), -11)
        cohorts = [add_months(first, i) for i in range(12)]
        ends = [min(month_end(c), today) for c in cohorts]
        cols, params = [], []
        for k in range(12):
            whens = []
            for j, c in enumerate(cohorts):
                if j + k < 12:
                    whens.append("WHEN a.contract_start BETWEEN %s AND %s THEN %s")
                    params += [c, month_end(c), ends[j + k]]
            cols.append(
                f"SUM(CASE WHEN m.date <= (CASE {' '.join(whens)} END) THEN m.amount ELSE 0 END) AS c{k}"
            )
        month = (
            "(EXTRACT(YEAR FROM a.contract_start) * 12 + EXTRACT(MONTH FROM a.contract_start))"
            if connection.vendor == "postgresql"
            else "strftime('%Y-%m', a.contract_start)"
        )
        sql = (
            f"WITH per AS (SELECT m.account_id, {month} AS cohort, {', '.join(cols)} "  # noqa: S608
            "FROM accounts_mrrmovement m JOIN accounts_account a ON a.id = m.account_id "
            "WHERE m.date <= %s AND a.contract_start >= %s AND a.contract_start <= %s GROUP BY m.account_id, cohort) "
            "SELECT cohort, SUM(CASE WHEN c0 > 0 THEN 1 ELSE 0 END), SUM(CASE WHEN c0 > 0 THEN c0 ELSE 0 END), "
            + ", ".join(
                f"SUM(CASE WHEN c0 > 0 AND c{k} > 0 THEN 1 ELSE 0 END), SUM(CASE WHEN c0 > 0 THEN c{k} ELSE 0 END)"
                for k in range(12)
            )
            + " FROM per GROUP BY cohort"
        )
        signed = (
            f"SELECT {month} AS cohort, COUNT(*) FROM accounts_account a "  # noqa: S608
            "WHERE a.contract_start >= %s AND a.contract_start <= %s GROUP BY cohort"
        )
        return [(sql, [*params, today, first, today]), (signed, [first, today])]

    @staticmethod
    def _renewals_floor(today: dt.date, owner_id: int | None) -> list[tuple[str, list]]:
        mine = " AND a.owner_id = %s" if owner_id else ""
        extra = [owner_id] if owner_id else []
        windows = ", ".join(
            "COUNT(*) FILTER (WHERE a.renewal_date <= %s), SUM(a.mrr) FILTER (WHERE a.renewal_date <= %s)"
            if connection.vendor == "postgresql"
            else "SUM(CASE WHEN a.renewal_date <= %s THEN 1 ELSE 0 END), SUM(CASE WHEN a.renewal_date <= %s THEN a.mrr ELSE 0 END)"
            for _days in (30, 60, 90)
        )
        window_params = [today + dt.timedelta(days=d) for d in (30, 60, 90) for _ in range(2)]
        return [
            (
                f"SELECT h.grade, {windows} FROM accounts_account a LEFT JOIN health_accounthealth h "  # noqa: S608
                "ON h.account_id = a.id WHERE a.churned_at IS NULL AND a.renewal_date >= %s AND a.renewal_date <= %s"
                f"{mine} GROUP BY h.grade",
                [*window_params, today, today + dt.timedelta(days=90), *extra],
            ),
            (
                "SELECT a.id, a.name, a.renewal_date, a.mrr, a.segment, a.tier, u.full_name, h.grade, h.score "  # noqa: S608
                "FROM accounts_account a LEFT JOIN team_user u ON u.id = a.owner_id "
                "LEFT JOIN health_accounthealth h ON h.account_id = a.id "
                f"WHERE a.churned_at IS NULL AND a.renewal_date >= %s AND a.renewal_date <= %s{mine} "
                "ORDER BY a.renewal_date, a.name, a.id LIMIT 50",
                [today, today + dt.timedelta(days=90), *extra],
            ),
        ]

    def _desk_floor(self, today: dt.date, user: User, owner_id: int | None) -> list[tuple[str, list]]:
        mine = " AND a.owner_id = %s" if owner_id else ""
        extra = [owner_id] if owner_id else []
        return [
            (
                "SELECT h.grade, COUNT(*), SUM(a.mrr) FROM accounts_account a LEFT JOIN health_accounthealth h "  # noqa: S608
                f"ON h.account_id = a.id WHERE a.churned_at IS NULL{mine} GROUP BY h.grade",
                extra,
            ),
            (
                "SELECT SUM(CASE WHEN due_date = %s THEN 1 ELSE 0 END), SUM(CASE WHEN due_date < %s THEN 1 ELSE 0 END) "
                "FROM health_task WHERE owner_id = %s AND status = 'open'",
                [today, today, user.pk],
            ),
            self._renewals_floor(today, owner_id)[0],
        ]

    # -------------------------------------------------------------- report

    def _report(self, pages: list[Page], options) -> None:
        accounts = Account.objects.filter(domain__endswith=DOMAIN).count()
        movements = MrrMovement.objects.filter(account__domain__endswith=DOMAIN).count()
        self.stdout.write(
            f"\nDashboards on {connection.vendor}: {accounts:,} accounts, {movements:,} MRR movements; "
            f"median of {options['rounds']} rounds\n"
        )
        self.stdout.write(f"{'page':<42} {'queries':>7} {'server ms':>10} {'floor ms':>9} {'ratio':>6}")
        for page in pages:
            self.stdout.write(
                f"{page.name:<42} {page.queries:>7} {page.ms(page.times):>10.1f} "
                f"{page.ms(page.floor_times):>9.1f} {page.ratio:>6.2f}"
            )
