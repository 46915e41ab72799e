"""``manage.py bench_load``: throughput and p99 latency of pages under load, over real HTTP.

Starts gunicorn on 127.0.0.1 (production settings with ``DJANGO_DEBUG=false``, through
``cs_app.settings_bench``, which only serves static files without the collectstatic manifest)
against the configured database, and runs locust (a development dependency) headless against
one page at a time, each for the same time and the same number of concurrent users, bounded by
``--seconds`` and ``--requests``:

- **static file**: ``/static/css/app.css`` served by WhiteNoise (the transport's ceiling);
- **static page**, the floor: ``/login/`` for a visitor (a template, no query);
- **public survey page**: ``/s/<token>/?score=9`` as a contact opening the email's link,
  rotating over every invitation of a campaign;
- **portfolio**: ``/accounts/`` as a CSM who owns ``--accounts`` accounts.

It creates its own data (a CSM, accounts, contacts, a sent campaign) and removes it at the end
(``--keep`` leaves it). The public pages' per-address rate limit is raised for the run (every
request comes from 127.0.0.1); the limiter itself still runs on each request. Caches and the
database are whatever the environment configures (``CACHE_URL``, ``DATABASE_URL``).

    DATABASE_URL=postgres://... CACHE_URL=redis://127.0.0.1:6379/1 python manage.py bench_load
"""

from __future__ import annotations

import csv
import http.client
import importlib
import importlib.util
import json
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone

from accounts.models import Account, Contact
from cs_app.benchserver import database_url, gunicorn
from feedback.models import Campaign, CampaignRound, Invitation, Survey
from team.models import User

TARGET_RATIO = 0.5
BENCH_DOMAIN = "bench-load.example"

LOCUSTFILE = """
import itertools, json, os
from locust import FastHttpUser, constant, task

PATHS = json.loads(os.environ["BENCH_PATHS"])
HEADERS = json.loads(os.environ["BENCH_HEADERS"])
LIMIT = int(os.environ["BENCH_REQUESTS"])
NAME = os.environ["BENCH_NAME"]
_paths = itertools.cycle(PATHS)
_sent = 0


class Visitor(FastHttpUser):
    wait_time = constant(0)

    @task
    def page(self):
        global _sent
        if _sent >= LIMIT:
            self.environment.runner.quit()
            return
        _sent += 1
        with self.client.get(next(_paths), headers=HEADERS, name=NAME, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
"""


class Command(BaseCommand):
    help = "Requests/s and p99 latency of the survey and portfolio pages under load, next to a static page."

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=int, default=20, help="load time per page")
        parser.add_argument("--requests", type=int, default=50_000, help="request cap per page")
        parser.add_argument("--users", type=int, default=8, help="concurrent locust users")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
        parser.add_argument("--accounts", type=int, default=200, help="accounts of the CSM (3 contacts each)")
        parser.add_argument("--keep", action="store_true", help="leave the generated data in place")

    def handle(self, *args, **opts):
        if importlib.util.find_spec("locust") is None:
            raise CommandError("locust is not installed: pip install -r requirements-dev.txt")
        if opts["seconds"] < 1 or opts["requests"] < 1 or opts["users"] < 1 or opts["accounts"] < 1:
            raise CommandError("--seconds, --requests, --users and --accounts must be at least 1")
        if connection.vendor == "sqlite" and "memory" in str(connection.settings_dict["NAME"]):
            raise CommandError("gunicorn cannot see an in-memory SQLite database; use DATABASE_URL")
        csm, created_survey, tokens = self._setup(opts["accounts"])
        secret = secrets.token_urlsafe(40)  # gunicorn's key: the session below is signed with it
        try:
            with override_settings(SECRET_KEY=secret):
                cookie = self._session_cookie(csm)
            pages = [
                ("static file", ["/static/css/app.css"], {}),
                ("static page (floor)", ["/login/"], {}),
                ("public survey page", [f"/s/{t}/?score=9" for t in tokens], {}),
                (f"portfolio ({opts['accounts']} accounts)", ["/accounts/"], {"Cookie": cookie}),
            ]
            results = self._run(pages, opts, secret)
        finally:
            if not opts["keep"]:
                self._cleanup(csm, created_survey)
        self._report(results, opts, len(tokens))

    # ---------------------------------------------------------------- data

    @transaction.atomic
    def _setup(self, n: int) -> tuple[User, Survey | None, list[str]]:
        now = timezone.now()
        suffix = secrets.token_hex(4)
        csm = User.objects.create_user(
            email=f"csm-{suffix}@{BENCH_DOMAIN}", password=None, full_name="Bench CSM", role="csm"
        )
        accounts = Account.objects.bulk_create(
            Account(
                name=f"Load bench {i:05d}",
                domain=f"a{i}-{suffix}.{BENCH_DOMAIN}",
                segment=("enterprise", "mid_market", "smb")[i % 3],
                owner=csm,
                contract_start=now.date(),
            )
            for i in range(n)
        )
        contacts = Contact.objects.bulk_create(
            Contact(account=a, name=f"Person {a.pk}-{j}", email=f"p{a.pk}-{j}@{BENCH_DOMAIN}")
            for a in accounts
            for j in range(3)
        )
        survey = Survey.objects.filter(kind="nps", is_active=True).order_by("pk").first()
        created_survey = None
        if survey is None:
            survey = created_survey = Survey.objects.create(name=f"Load bench NPS {suffix}", kind="nps")
        campaign = Campaign.objects.create(
            name=f"Load bench {suffix}", survey=survey, created_by=csm, status="finished", send_at=now
        )
        rnd = CampaignRound.objects.create(
            campaign=campaign, number=1, scheduled_at=now, status="sent", started_at=now, finished_at=now
        )
        invitations = Invitation.objects.bulk_create(
            Invitation(
                campaign=campaign,
                round=rnd,
                contact=c,
                account_id=c.account_id,
                email=c.email,
                language="en",
                token=secrets.token_urlsafe(24),
                status="sent",
                send_after=now,
                sent_at=now,
                created_at=now,
                message_id=f"<bench-{c.pk}@{BENCH_DOMAIN}>",
            )
            for c in contacts
        )
        return csm, created_survey, [i.token for i in invitations]

    def _session_cookie(self, user: User) -> str:
        engine = importlib.import_module(settings.SESSION_ENGINE)
        session = engine.SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"

    def _cleanup(self, csm: User, created_survey: Survey | None) -> None:
        with transaction.atomic():
            campaigns = Campaign.objects.filter(created_by=csm)
            Invitation.objects.filter(campaign__in=campaigns).delete()
            CampaignRound.objects.filter(campaign__in=campaigns).delete()
            campaigns.delete()
            Account.objects.filter(owner=csm).delete()
            if created_survey is not None:
                created_survey.delete()
            csm.delete()

    # ---------------------------------------------------------------- load

    def _run(self, pages, opts, secret: str) -> list[dict]:
        workdir = Path(tempfile.mkdtemp(prefix="bench-load-"))
        (workdir / "locustfile.py").write_text(LOCUSTFILE)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "cs_app.settings_bench",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secret,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": database_url(),
            "FEEDBACK_RATE_LIMITS": "read=100000000,write=100000000,token=100000000",
        }
        results = []
        log = workdir / "gunicorn.log"
        with gunicorn(env=env, workers=opts["workers"], log=log, timeout=60, ready_within=60) as port:
            for name, paths, headers in pages:
                _warm(port, paths, headers, opts["workers"] * 4)
                results.append(self._locust(name, paths, headers, port, workdir, opts))
        return results

    def _locust(self, name: str, paths: list[str], headers: dict, port: int, workdir: Path, opts) -> dict:
        prefix = workdir / f"stats-{len(list(workdir.glob('stats-*_stats.csv')))}"
        env = {
            **os.environ,
            "BENCH_PATHS": json.dumps(paths),
            "BENCH_HEADERS": json.dumps(headers),
            "BENCH_REQUESTS": str(opts["requests"]),
            "BENCH_NAME": name,
        }
        run = subprocess.run(  # noqa: S603 — locust from our own environment
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(workdir / "locustfile.py"),
                "--headless",
                "--users",
                str(opts["users"]),
                "--spawn-rate",
                str(opts["users"]),
                "--run-time",
                f"{opts['seconds']}s",
                "--host",
                f"http://127.0.0.1:{port}",
                "--csv",
                str(prefix),
                "--only-summary",
                "--skip-log",
                "--exit-code-on-error",
                "0",
            ],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=opts["seconds"] + 120,
        )
        stats = Path(f"{prefix}_stats.csv")
        if run.returncode != 0 or not stats.exists():
            raise CommandError(f"locust failed on {name}:\n{run.stdout[-1500:]}\n{run.stderr[-1500:]}")
        with stats.open() as handle:
            row = next(r for r in csv.DictReader(handle) if r["Name"] == "Aggregated")
        return {
            "name": name,
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "rps": _number(row["Requests/s"]),
            "p50": _number(row["50%"]),
            "p99": _number(row["99%"]),
        }

    # ---------------------------------------------------------------- report

    def _report(self, results: list[dict], opts, invitations: int) -> None:
        floor = next(r for r in results if r["name"].endswith("(floor)"))
        write = self.stdout.write
        write(
            f"gunicorn {opts['workers']} sync workers on 127.0.0.1, {connection.vendor} "
            f"{_version()}; locust {opts['users']} users, {opts['seconds']} s or "
            f"{opts['requests']:,} requests per page; survey links rotate over {invitations:,} invitations"
        )
        columns = ("requests", 9), ("req/s", 9), ("p50 ms", 8), ("p99 ms", 8), ("failed", 7), ("x floor", 8)
        write(f"{'page':<28} " + " ".join(f"{title:>{width}}" for title, width in columns))
        for r in results:
            ratio = r["rps"] / floor["rps"] if floor["rps"] else 0.0
            write(
                f"{r['name']:<28} {r['requests']:>9,} {r['rps']:>9,.1f} {r['p50']:>8.0f} {r['p99']:>8.0f} "
                f"{r['failures']:>7,} {ratio:>8.2f}"
            )
        survey = next(r for r in results if r["name"] == "public survey page")
        ratio = survey["rps"] / floor["rps"] if floor["rps"] else 0.0
        verdict = "meets" if ratio >= TARGET_RATIO else "misses"
        write(f"survey page at {ratio:.2f}x the floor's throughput: {verdict} the {TARGET_RATIO:.1f}x target")
        failed = sum(r["failures"] for r in results)
        if failed:
            raise CommandError(f"{failed} requests failed; see the table above")


def _number(value: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):  # "N/A" when no request completed
        return 0.0


def _version() -> str:
    if connection.vendor == "postgresql":
        return str(connection.pg_version // 10000)
    return ""


def _warm(port: int, paths: list[str], headers: dict, count: int) -> None:
    """Load code, templates and connections in every worker before the clock starts."""
    for i in range(count):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request("GET", paths[i % len(paths)], headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise CommandError(f"GET {paths[i % len(paths)]} answered {response.status} before the run")
        finally:
            conn.close()
