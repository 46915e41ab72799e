"""``manage.py bench_surveys``: send a campaign's invitations through Celery workers to a local SMTP
sink and print messages per second next to the floor.

The floor: the same number of messages, built beforehand (not timed), pushed through one SMTP
connection to the same sink, half before the campaign and half after it (so that a change in
the machine's load weighs on both sides). The measured path is the product's: launching the campaign writes
the outbox (one invitation per contact) in a worker, then chunk senders in ``--workers`` worker
processes claim rows (``FOR UPDATE SKIP LOCKED``), render each message, record it as sent and
hand it to the sink. The clock runs from the launch to the sink holding every message; the
sink's own count of duplicate Message-IDs and the database's count of sent invitations are
checked at the end.

PostgreSQL and Redis only (the workers are separate processes); run it on a scratch database::

    createdb -h 127.0.0.1 -U postgres cs_surveys
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/cs_surveys
    export CELERY_BROKER_URL=redis://127.0.0.1:6379/0
    python manage.py migrate
    python manage.py bench_surveys --invitations 100000

It creates its own accounts and contacts (``bench-surveys.example``) and removes them, with the
campaign, at the end (``--keep`` leaves them).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import smtplib
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account, Contact
from feedback import services
from feedback.emails import MessageRenderer
from feedback.models import Campaign, Invitation, InvitationStatus, Survey, SurveyKind
from feedback.services_outbox import new_token
from feedback.smtp_sink import free_port
from team.models import Role, User

DOMAIN = "bench-surveys.example"
CONTACTS_PER_ACCOUNT = 100
TARGET = 0.5


def _database_url() -> str:
    db = settings.DATABASES["default"]
    user = quote(db.get("USER") or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(db['NAME'], safe='')}"


class Sink:
    """``python -m feedback.smtp_sink`` in its own process; its count read from the stats file."""

    def __init__(self, folder: Path):
        self.port = free_port()
        self.stats = folder / "sink.json"
        self.process = subprocess.Popen(  # noqa: S603 — our own module, a fixed command line
            [
                sys.executable,
                "-m",
                "feedback.smtp_sink",
                "--port",
                str(self.port),
                "--stats",
                str(self.stats),
            ],
            cwd=settings.BASE_DIR,
            stdout=subprocess.DEVNULL,
            stderr=(folder / "sink.log").open("wb"),
        )
        deadline = time.monotonic() + 20
        while not self.stats.exists():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise CommandError(f"the SMTP sink did not start (log: {folder / 'sink.log'})")
            time.sleep(0.05)

    def read(self) -> dict:
        for _ in range(20):
            try:
                return json.loads(self.stats.read_text())
            except (OSError, ValueError):
                time.sleep(0.01)
        return {"messages": 0, "unique_ids": 0, "duplicates": 0}

    def wait_for(self, count: int, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            stats = self.read()
            if stats["messages"] >= count or time.monotonic() > deadline:
                return stats
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


class Workers:
    """``--workers`` Celery worker processes (solo pool: one process each) on a queue of their own."""

    def __init__(self, *, count: int, queue: str, smtp_port: int, folder: Path):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "cs_app.settings",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "EMAIL_USE_TLS": "false",
            "DEBUG": "false",
            "PYTHONPATH": str(settings.BASE_DIR),
        }
        celery = Path(sys.executable).with_name("celery")
        command = [str(celery)] if celery.exists() else [sys.executable, "-m", "celery"]
        self.logs = [folder / f"worker-{n}.log" for n in range(count)]
        self.processes = [
            subprocess.Popen(  # noqa: S603 — our own venv, a fixed command line
                [
                    *command,
                    "-A",
                    "cs_app",
                    "worker",
                    "--pool=solo",
                    "--without-heartbeat",
                    "--without-mingle",
                    "--without-gossip",
                    "--loglevel=WARNING",
                    "-Q",
                    queue,
                    "-n",
                    f"bench{n}-{queue}@%h",
                ],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
            )
            for n, log in enumerate(self.logs)
        ]

    def wait_ready(self, timeout: float = 60) -> None:
        """A worker is ready when it logs nothing yet and its broker connection is up: poll with ping."""
        from cs_app.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for process, log in zip(self.processes, self.logs, strict=True):
                if process.poll() is not None:
                    raise CommandError(f"a worker exited: {log.read_text(errors='replace')[-2000:]}")
            replies = app.control.ping(timeout=1.0) or []
            names = {name for reply in replies for name in reply}
            if sum(1 for name in names if name.startswith("bench")) >= len(self.processes):
                return
        raise CommandError("the workers did not answer a ping within a minute")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


class Command(BaseCommand):
    help = "Send a campaign through Celery workers to a local SMTP sink; print messages/s next to the floor."

    def add_arguments(self, parser):
        parser.add_argument(
            "--invitations", type=int, default=100_000, help="contacts invited (default 100,000)"
        )
        parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
        parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the campaign")
        parser.add_argument("--keep", action="store_true", help="leave the bench's accounts and campaign")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                "bench_surveys needs PostgreSQL (the workers are other processes): set DATABASE_URL"
            )
        if not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://", "amqp://")):
            raise CommandError(
                "bench_surveys needs a broker the workers share: set CELERY_BROKER_URL=redis://..."
            )
        from cs_app.celery import app

        if app.conf.task_always_eager:
            raise CommandError("bench_surveys needs real workers: Celery is set to run tasks eagerly here")
        n = options["invitations"]
        if n < CONTACTS_PER_ACCOUNT:
            raise CommandError(f"--invitations must be at least {CONTACTS_PER_ACCOUNT}")
        folder = Path(tempfile.mkdtemp(prefix="bench_surveys-"))
        self._cleanup()
        started = time.perf_counter()
        owner, accounts, survey = self._setup(n)
        self.stdout.write(
            f"set up {n:,} contacts on {len(accounts):,} accounts in {time.perf_counter() - started:.1f} s"
        )
        sink = Sink(folder)
        workers = None
        try:
            # The floor runs half before and half after the campaign, so a change in the
            # machine's load during the run weighs on both sides alike.
            first = self._floor(sink, survey, n // 2, "floor, before")
            queue = f"bench-surveys-{uuid.uuid4().hex[:8]}"
            workers = Workers(count=options["workers"], queue=queue, smtp_port=sink.port, folder=folder)
            workers.wait_ready()
            rate, outbox_s = self._campaign(sink, owner, accounts, survey, n, queue, options["timeout"])
            workers.stop()
            workers = None
            second = self._floor(sink, survey, n - n // 2, "floor, after")
            floor_rate = n / (n // 2 / first + (n - n // 2) / second)
            self.stdout.write(f"floor (one connection)   {floor_rate:10,.0f} msg/s   (both halves)")
        finally:
            if workers:
                workers.stop()
            sink.stop()
            if not options["keep"]:
                self._cleanup()
        ratio = rate / floor_rate
        verdict = "meets" if ratio >= TARGET else "below"
        self.stdout.write(
            f"workers ({options['workers']} processes) {rate:10,.0f} msg/s   ratio {ratio:.2f} "
            f"({verdict} the {TARGET} target; outbox written in {outbox_s:.1f} s of it)"
        )
        self.stdout.write(f"logs: {folder}")

    # ---------------------------------------------------------------- data

    def _setup(self, n: int) -> tuple[User, list[Account], Survey]:
        owner, _created = User.objects.get_or_create(
            email=f"manager@{DOMAIN}", defaults={"full_name": "Bench Manager", "role": Role.MANAGER}
        )
        survey, _created = Survey.objects.get_or_create(
            name="Net Promoter Score (bench)", defaults={"kind": SurveyKind.NPS}
        )
        today = timezone.localdate()
        with transaction.atomic():
            accounts = Account.objects.bulk_create(
                [
                    Account(
                        name=f"Bench account {i:05d}",
                        domain=f"a{i}.{DOMAIN}",
                        segment="smb",
                        owner=owner,
                        contract_start=today - dt.timedelta(days=365),
                        currency="USD",
                    )
                    for i in range((n + CONTACTS_PER_ACCOUNT - 1) // CONTACTS_PER_ACCOUNT)
                ],
                batch_size=2000,
            )
            languages = ("en", "tr", "zh-hant")
            Contact.objects.bulk_create(
                (
                    Contact(
                        account=accounts[i // CONTACTS_PER_ACCOUNT],
                        name=f"Person {i}",
                        email=f"p{i:06d}@{DOMAIN}",
                        language=languages[i % 3],
                    )
                    for i in range(n)
                ),
                batch_size=5000,
            )
        return owner, accounts, survey

    def _cleanup(self) -> None:
        Campaign.objects.filter(created_by__email=f"manager@{DOMAIN}").delete()
        Account.objects.filter(domain__endswith=f".{DOMAIN}").delete()

    # ---------------------------------------------------------------- the floor

    def _floor(self, sink: Sink, survey: Survey, n: int, label: str) -> float:
        """The same messages, rendered beforehand, through one SMTP connection (smtplib)."""
        contacts = list(Contact.objects.filter(email__endswith=f"@{DOMAIN}").order_by("pk")[:n])
        sender = settings.DEFAULT_FROM_EMAIL
        elapsed, batch = 0.0, 10_000
        renderer = MessageRenderer(survey)
        smtp = smtplib.SMTP("127.0.0.1", sink.port)
        before = sink.read()["messages"]
        try:
            for start in range(0, n, batch):
                prebuilt = []
                for contact in contacts[start : start + batch]:
                    invitation = Invitation(
                        pk=contact.pk, contact=contact, email=contact.email, language=contact.language
                    )
                    invitation.token = new_token()
                    message = renderer.message(invitation)  # the bytes a worker sends
                    prebuilt.append((message.recipients(), message.wire_bytes()))
                clock = time.perf_counter()
                for recipients, data in prebuilt:
                    smtp.sendmail(sender, recipients, data)
                elapsed += time.perf_counter() - clock
        finally:
            smtp.quit()
        stats = sink.wait_for(before + n, timeout=60)
        if stats["messages"] - before != n:
            raise CommandError(f"the sink holds {stats['messages'] - before} of the floor's {n} messages")
        rate = n / elapsed
        size = len(prebuilt[-1][1]) if prebuilt else 0
        self.stdout.write(
            f"{label:<24} {rate:10,.0f} msg/s   ({elapsed:.2f} s for {n:,} prebuilt "
            f"messages of ~{size / 1024:.1f} KiB)"
        )
        return rate

    # ---------------------------------------------------------------- the product

    def _campaign(
        self,
        sink: Sink,
        owner: User,
        accounts: list[Account],
        survey: Survey,
        n: int,
        queue: str,
        timeout: float,
    ) -> tuple[float, float]:
        before = sink.read()["messages"]
        settings.FEEDBACK_QUEUE = queue
        with transaction.atomic():
            campaign = services.campaign_create(
                by=owner, name="Bench campaign", survey=survey, accounts=accounts
            )
        clock = time.perf_counter()
        with transaction.atomic():
            services.campaign_launch(campaign=campaign, by=owner)
        outbox_s = None
        finished = None
        deadline = time.monotonic() + timeout
        while True:
            stats = sink.read()
            if outbox_s is None and campaign.rounds.filter(status__in=["sending", "sent"]).exists():
                outbox_s = time.perf_counter() - clock
            if stats["messages"] - before >= n or time.monotonic() > deadline:
                break
            if outbox_s is not None and not campaign.rounds.filter(status="sending").exists():
                finished = finished or time.monotonic()
                if time.monotonic() - finished > 30:
                    raise CommandError("the campaign finished but its messages did not reach the sink")
            time.sleep(0.05)
        elapsed = time.perf_counter() - clock
        time.sleep(1.0)  # anything sent twice would arrive now
        stats = sink.read()
        arrived = stats["messages"] - before
        sent = Invitation.objects.filter(campaign=campaign, status=InvitationStatus.SENT).count()
        self.stdout.write(
            f"campaign: {arrived:,} messages arrived, {sent:,} invitations recorded sent, "
            f"{stats['duplicates']} duplicate Message-IDs, {elapsed:.2f} s"
        )
        if arrived != n or sent != n or stats["duplicates"]:
            raise CommandError("the campaign did not send every invitation exactly once (see above)")
        return n / elapsed, outbox_s or 0.0
