"""A real Celery worker, in its own process, runs accounts_refresh_mrr_task from the broker.

The worker is started as a subprocess against the broker (kombu's filesystem transport in a
temporary folder, and Redis when CELERY_BROKER_URL=redis://... is set) and against the very
database the test uses, so it can only see committed rows: the test commits data, enqueues
the task with ``transaction.on_commit`` and waits (bounded) until the cached MRR changes.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu import Connection

from accounts.models import Account
from accounts.services import mrr_movement_record
from accounts.tasks import accounts_refresh_mrr_task
from tests.factories import AccountFactory

BASE_DIR = Path(settings.BASE_DIR)
CELERY = BASE_DIR / ".venv" / "bin" / "celery"
WAIT_SECONDS = 60
CONFIGURED_BROKER = os.environ.get("CELERY_BROKER_URL", "")


def _test_database_url() -> str:
    """A DATABASE_URL for the database this test run uses (pytest-django's test_… database)."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("needs PostgreSQL: the worker process cannot see an in-memory SQLite test database")
    user = quote(db.get("USER") or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(db['NAME'], safe='')}"


def _filesystem_broker(tmp_path: Path) -> tuple[str, dict]:
    """The filesystem transport, laid out as settings lays it out under CS_VAR_DIR."""
    broker = tmp_path / "broker"
    options = {
        "data_folder_in": str(broker / "queue"),
        "data_folder_out": str(broker / "queue"),
        "processed_folder": str(broker / "processed"),
        "store_processed": False,
    }
    for folder in ("queue", "processed"):
        (broker / folder).mkdir(parents=True, exist_ok=True)
    return "filesystem://", options


class Worker:
    """A ``celery worker`` subprocess; always stopped by the fixture's finalizer."""

    def __init__(self, *, broker_url: str, database_url: str, var_dir: Path, queue: str):
        self.log_path = var_dir / "worker.log"
        self.queue = queue
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "cs_app.settings",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(BASE_DIR), os.environ.get("PYTHONPATH")])),
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CS_VAR_DIR": str(var_dir),
            "PYTHONUNBUFFERED": "1",
        }
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 — a fixed command line, our own venv
            [
                str(CELERY) if CELERY.exists() else sys.executable,
                *([] if CELERY.exists() else ["-m", "celery"]),
                "-A",
                "cs_app",
                "worker",
                "--pool=solo",
                "-c",
                "1",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
                "--loglevel=INFO",
                "-Q",
                queue,
                "-n",
                f"test-{queue}@%h",
            ],
            cwd=var_dir,  # the filesystem transport keeps its exchange tables in ./control
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self._log.close()

    def wait_for(self, condition, what: str) -> None:
        """Poll ``condition`` until it holds; fail with the worker's output if it never does."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited ({self.process.returncode}) before {what}:\n{self.output()}")
            time.sleep(0.25)
        pytest.fail(f"no {what} within {WAIT_SECONDS} s; worker output:\n{self.output()}")


@pytest.fixture
def start_worker(request, transactional_db, tmp_path):  # transactional_db: rows really committed
    """Start a worker for a broker; returns (worker, producer connection)."""
    workers: list[Worker] = []
    connections: list[Connection] = []

    def start(broker: str) -> tuple[Worker, Connection]:
        database_url = _test_database_url()
        if broker == "filesystem":
            broker_url, options = _filesystem_broker(tmp_path)
            options["control_folder"] = str(tmp_path / "control")
        else:
            if not CONFIGURED_BROKER.startswith(("redis://", "rediss://")):
                pytest.skip("needs Redis: set CELERY_BROKER_URL=redis://... (CI does)")
            broker_url, options = CONFIGURED_BROKER, {"visibility_timeout": 3600}
        # A queue of our own: no other worker on a shared broker can take the message.
        queue = f"cs-test-{uuid.uuid4().hex[:12]}"
        worker = Worker(broker_url=broker_url, database_url=database_url, var_dir=tmp_path, queue=queue)
        workers.append(worker)
        connection = Connection(broker_url, transport_options=options)
        connections.append(connection)
        return worker, connection

    def finish():
        for connection in connections:
            connection.release()
        for worker in workers:
            worker.stop()

    request.addfinalizer(finish)
    return start


def _refresh_and_wait(worker: Worker, connection: Connection) -> None:
    try:
        _commit_enqueue_and_wait(worker, connection)
    except BaseException:
        # Shown with the failure (pytest prints a failed test's captured output).
        print(f"---- worker output ({worker.log_path}) ----\n{worker.output()}")
        raise


def _commit_enqueue_and_wait(worker: Worker, connection: Connection) -> None:
    today = timezone.localdate()
    tomorrow = today + dt.timedelta(days=1)
    with transaction.atomic():
        account = AccountFactory(name="Worker Test Co")
        mrr_movement_record(
            account=account, kind="new", date=today - dt.timedelta(days=30), amount=Decimal("100")
        )
        # Dated tomorrow: it takes effect in the cached MRR only when the refresh runs for that day.
        mrr_movement_record(account=account, kind="expansion", date=tomorrow, amount=Decimal("50"))

        def enqueue():
            accounts_refresh_mrr_task.apply_async(
                kwargs={"day": tomorrow.isoformat()},
                queue=worker.queue,
                producer=connection.Producer(),
            )

        transaction.on_commit(enqueue)
        assert Account.objects.get(pk=account.pk).mrr == Decimal("100")

    def refreshed() -> bool:
        return Account.objects.get(pk=account.pk).mrr == Decimal("150")

    worker.wait_for(refreshed, "refreshed MRR (150.00) in the database")
    assert Account.objects.get(pk=account.pk).mrr == Decimal("150.00")


@pytest.mark.worker
def test_worker_refreshes_mrr_over_the_filesystem_transport(start_worker):
    worker, connection = start_worker("filesystem")
    _refresh_and_wait(worker, connection)


@pytest.mark.worker
@pytest.mark.redis
def test_worker_refreshes_mrr_over_redis(start_worker):
    worker, connection = start_worker("redis")
    _refresh_and_wait(worker, connection)


# ---------------------------------------------------------------- the task itself, in process


@pytest.mark.django_db
def test_task_calls_the_refresh_and_is_idempotent():
    today = timezone.localdate()
    account = AccountFactory()
    mrr_movement_record(account=account, kind="new", date=today, amount=Decimal("80"))
    mrr_movement_record(
        account=account, kind="expansion", date=today + dt.timedelta(days=2), amount=Decimal("20")
    )
    Account.objects.filter(pk=account.pk).update(mrr=Decimal("0"))  # stale cache

    accounts_refresh_mrr_task()
    assert Account.objects.get(pk=account.pk).mrr == Decimal("80")
    day = (today + dt.timedelta(days=2)).isoformat()
    accounts_refresh_mrr_task(day)
    accounts_refresh_mrr_task(day=day)
    assert Account.objects.get(pk=account.pk).mrr == Decimal("100")


def test_task_is_late_acknowledged_and_scheduled():
    assert accounts_refresh_mrr_task.acks_late is True
    assert accounts_refresh_mrr_task.name == "accounts.tasks.accounts_refresh_mrr_task"
    scheduled = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert accounts_refresh_mrr_task.name in scheduled
