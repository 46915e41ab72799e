"""Survey campaigns through real Celery workers (on the configured Redis broker, against the test's
PostgreSQL database) and a real SMTP server on 127.0.0.1 (aiosmtpd): every message arrives
exactly once — also when a worker is killed (SIGKILL) in the middle of the campaign and another
takes over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from feedback import services
from feedback.models import Invitation, InvitationStatus
from feedback.smtp_sink import SmtpSink
from feedback.tasks import invitations_recover_task
from tests.factories import AccountFactory, ContactFactory, UserFactory
from tests.feedback import factories as f
from tests.integration.test_worker import CONFIGURED_BROKER, _test_database_url

BASE_DIR = Path(settings.BASE_DIR)
CELERY = BASE_DIR / ".venv" / "bin" / "celery"
WAIT_SECONDS = 180

pytestmark = [pytest.mark.worker, pytest.mark.redis]


class SurveyWorker:
    """A ``celery worker`` process serving one test queue, sending mail to the test's SMTP sink."""

    def __init__(
        self,
        *,
        queue: str,
        smtp_port: int,
        var_dir: Path,
        name: str,
        concurrency: int = 1,
        broker: str = CONFIGURED_BROKER,
    ):
        self.log_path = var_dir / f"worker-{name}.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "cs_app.settings",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(BASE_DIR), os.environ.get("PYTHONPATH")])),
            "DATABASE_URL": _test_database_url(),
            "CELERY_BROKER_URL": broker,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CS_VAR_DIR": str(var_dir),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "EMAIL_USE_TLS": "false",
            "PYTHONUNBUFFERED": "1",
        }
        self._log = self.log_path.open("wb")
        pool = ["--pool=solo"] if concurrency == 1 else ["--pool=prefork", "-c", str(concurrency)]
        self.process = subprocess.Popen(  # noqa: S603 — a fixed command line, our own venv
            [
                str(CELERY) if CELERY.exists() else sys.executable,
                *([] if CELERY.exists() else ["-m", "celery"]),
                "-A",
                "cs_app",
                "worker",
                *pool,
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
                "--loglevel=WARNING",
                "-Q",
                queue,
                "-n",
                f"{name}-{queue}@%h",
            ],
            cwd=var_dir,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-6000:]

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no chance to give anything back."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=15)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self._log.close()


@pytest.fixture
def drill(transactional_db, tmp_path, settings):
    if not CONFIGURED_BROKER.startswith(("redis://", "rediss://")):
        pytest.skip("needs Redis: set CELERY_BROKER_URL=redis://... (CI does)")
    _test_database_url()  # skips without PostgreSQL
    queue = f"cs-survey-{uuid.uuid4().hex[:10]}"
    settings.FEEDBACK_QUEUE = queue  # what the test enqueues goes to the workers' queue
    workers: list[SurveyWorker] = []
    with SmtpSink(keep_bodies=False) as sink:

        def start(name: str, concurrency: int = 1) -> SurveyWorker:
            worker = SurveyWorker(
                queue=queue, smtp_port=sink.port, var_dir=tmp_path, name=name, concurrency=concurrency
            )
            workers.append(worker)
            return worker

        try:
            yield sink, start, workers
        finally:
            for worker in workers:
                worker.stop()


def _campaign(n: int):
    owner = UserFactory(email="owner@staff.example", role="manager")
    per_account = 10
    accounts = [AccountFactory(owner=owner) for _ in range(n // per_account)]
    for i in range(n):
        ContactFactory(account=accounts[i // per_account], email=f"person{i:05d}@drill.example")
    return services.campaign_create(by=owner, name="Drill", survey=f.survey("nps")), owner


def _wait(condition, what: str, workers) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    logs = "\n".join(f"---- {w.log_path.name}\n{w.output()}" for w in workers)
    pytest.fail(f"no {what} within {WAIT_SECONDS} s\n{logs}")


def _sent() -> int:
    return Invitation.objects.filter(status=InvitationStatus.SENT).count()


def _assert_exactly_once(sink, n: int) -> None:
    time.sleep(1.0)  # anything late would show up now
    messages = sink.messages
    by_recipient = Counter(a for m in messages for a in m["to"])
    duplicates = {a: c for a, c in by_recipient.items() if c > 1}
    assert not duplicates, f"{len(duplicates)} addresses got more than one message"
    assert len(messages) == n, f"{len(messages)} messages arrived for {n} invitations"
    assert set(by_recipient) == {f"person{i:05d}@drill.example" for i in range(n)}
    db_ids = set(Invitation.objects.values_list("message_id", flat=True))
    assert {m["message_id"] for m in messages} == db_ids


def test_a_campaign_of_1000_contacts_yields_exactly_1000_messages(drill):
    sink, start, workers = drill
    start("a", concurrency=2)
    start("b")
    campaign, owner = _campaign(1000)
    services.campaign_launch(campaign=campaign, by=owner)  # the round starts in a worker, on commit
    _wait(lambda: _sent() == 1000 and len(sink.messages) >= 1000, "1,000 messages", workers)
    _assert_exactly_once(sink, 1000)
    campaign.refresh_from_db()
    assert campaign.status == "finished"


def test_a_worker_killed_mid_campaign_loses_nothing_and_sends_nothing_twice(drill):
    sink, start, workers = drill
    first = start("first")
    campaign, owner = _campaign(1000)
    services.campaign_launch(campaign=campaign, by=owner)
    _wait(lambda: len(sink.messages) >= 250, "the first 250 messages", workers)
    first.kill()
    killed_at = len(sink.messages)
    in_flight = Invitation.objects.filter(status=InvitationStatus.SENDING).count()
    assert killed_at < 1000, "the campaign finished before the kill; the drill proves nothing"
    start("second")
    # Beat's tick takes back claims older than the lease (5 minutes); the drill does not wait
    # that long: it runs the same recovery with a lease of 0 (safe: a live sender's record
    # needs the claim it would lose).
    invitations_recover_task.apply_async(kwargs={"lease_seconds": 0}, queue=settings.FEEDBACK_QUEUE)
    _wait(
        lambda: _sent() == 1000 and len(sink.messages) >= 1000, "all 1,000 messages after the kill", workers
    )
    _assert_exactly_once(sink, 1000)
    print(f"killed after {killed_at} messages with {in_flight} invitations claimed in flight")
