"""``manage.py bench_onboarding``: time the onboarding pages and reads on the data at hand and
print each next to the floor measured in the same run.

The floor is one hand-written SQL query that reads what every figure is made of: each plan's
milestone counts, weights done and earliest open due day, grouped by plan and fetched into this
process. ``--seed`` first adds demo plans (onboarding.demo) to accounts that have none. Run it
on a scratch database, e.g.::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cs_onb ./manage.py migrate
    DATABASE_URL=... ./manage.py seed_demo --accounts 100000 --events-per-account 2
    DATABASE_URL=... ./manage.py bench_onboarding --seed
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import Account
from health.registry import ScoringContext
from team.models import User

from ...demo import demo_onboarding_seed
from ...health import onboarding_signals
from ...models import Milestone, OnboardingPlan
from ...selectors import template_funnel, time_to_value_report

FLOOR_SQL = """
SELECT m.plan_id, count(*), sum(m.weight), sum(m.weight) FILTER (WHERE m.status = 'done'),
       min(m.due_date) FILTER (WHERE m.status <> 'done')
FROM onboarding_milestone m
GROUP BY m.plan_id
"""


class Command(BaseCommand):
    help = "Time the onboarding board, plan page, time-to-value, funnel and health source against a floor."

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed", action="store_true", help="add demo plans to accounts without one first"
        )
        parser.add_argument("--rounds", type=int, default=5, help="timed runs of each (default: %(default)s)")

    def _time(self, fn: Callable[[], object], rounds: int) -> float:
        fn()  # warm up
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - started) * 1000)
        return statistics.median(samples)

    def handle(self, *args, **options):
        rounds = max(1, options["rounds"])
        if options["seed"]:
            report = demo_onboarding_seed(
                rng=random.Random("bench/onboarding"),
                accounts=Account.objects.all(),
                today=timezone.localdate(),
            )
            self.stdout.write(f"seeded {report.plans:,} plans, {report.milestones:,} milestones")
        plan = OnboardingPlan.objects.select_related("account__owner").order_by("pk").first()
        if plan is None:
            raise CommandError("No onboarding plans: run seed_demo, then this command with --seed.")
        manager = User.objects.filter(is_active=True, role__in=["manager", "admin"]).first()
        csm = plan.account.owner
        if manager is None or csm is None:
            raise CommandError("Needs a manager and a CSM who owns a plan's account (seed_demo makes them).")
        as_manager, as_csm = Client(), Client()
        as_manager.force_login(manager)
        as_csm.force_login(csm)
        self.stdout.write(
            f"{OnboardingPlan.objects.count():,} plans, {Milestone.objects.count():,} milestones, "
            f"{Account.objects.count():,} accounts on {connection.vendor}"
        )

        def floor():
            with connection.cursor() as cursor:
                cursor.execute(FLOOR_SQL)
                cursor.fetchall()

        floor_ms = self._time(floor, rounds)
        self.stdout.write(f"{'floor (every plan grouped, fetched)':44} {floor_ms:8.1f} ms")

        def ok(response):
            if response.status_code != 200:
                raise CommandError(f"{response.status_code} from {response.request['PATH_INFO']}")

        checks = [
            ("board, manager (+ time-to-value, funnel)", lambda: ok(as_manager.get("/onboarding/"))),
            ("board, manager, behind schedule", lambda: ok(as_manager.get("/onboarding/?status=behind"))),
            ("board, CSM", lambda: ok(as_csm.get("/onboarding/"))),
            ("plan page", lambda: ok(as_csm.get(f"/onboarding/accounts/{plan.account_id}/"))),
            ("time-to-value: all, segment, cohort", lambda: time_to_value_report()),
            (
                "funnel of a template",
                lambda: template_funnel(template=plan.template) if plan.template else None,
            ),
            (
                "health source, every account",
                lambda: onboarding_signals(ScoringContext(day=timezone.localdate(), as_of=timezone.now())),
            ),
        ]
        for label, fn in checks:
            ms = self._time(fn, rounds)
            self.stdout.write(f"{label:44} {ms:8.1f} ms   ratio {ms / floor_ms if floor_ms else 0:5.1f}")
