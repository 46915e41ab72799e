"""Drill: PostgreSQL restarted under load. gunicorn (production settings, 2 workers) serves the
public survey page, survey answers and the API from a PostgreSQL cluster of the drill's own,
while 6 clients keep it busy; the server is stopped (fast shutdown: sessions are cut) and
started again 2 s later. Every request is answered: 200/302/201 before and after, a clean 503
(the "back in a moment" page, JSON under /api/, Retry-After) while the database is away, never a
500 and never a traceback; and every answer acknowledged with a redirect is in the database.

The machine's shared PostgreSQL is never touched: the drill initialises its own cluster on a
free port and copies the test database into it with pg_dump.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from api.services import token_create
from feedback.models import Invitation
from tests.conftest import requires_postgres
from tests.factories import AccountFactory, ContactFactory, UserFactory
from tests.feedback import factories as f

from .drills import PostgresServer, free_port, wait_until

pytestmark = [requires_postgres, pytest.mark.postgres]

CLIENTS = 6
BEFORE, DOWN, AFTER = 3.0, 2.0, 4.0  # seconds of load before the stop, of outage, after the start
INVITATIONS = 300
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _data() -> tuple[list[str], str]:
    owner = UserFactory(email="drill-owner@staff.example", role="manager")
    accounts = [AccountFactory(owner=owner) for _ in range(30)]
    campaign = f.campaign(by=owner, name="Drill")
    contacts = [
        ContactFactory(account=accounts[i % len(accounts)], email=f"pg{i:05d}@drill.example")
        for i in range(INVITATIONS)
    ]
    tokens = [f.invitation(contact=c, campaign_obj=campaign).token for c in contacts]
    raw = token_create(name="Drill", user=owner, scope="read", created_by=None).raw
    return tokens, raw


def _copy_database(pg: PostgresServer, target: str) -> None:
    db = settings.DATABASES["default"]
    pg.psql("postgres", f'CREATE DATABASE "{target}"')
    dump = subprocess.run(  # noqa: S603 — PostgreSQL's own client, fixed arguments
        [
            str(pg.bin / "pg_dump"),
            "-h",
            db.get("HOST") or "127.0.0.1",
            "-p",
            str(db.get("PORT") or 5432),
            "-U",
            db.get("USER") or "postgres",
            "--no-owner",
            "--no-privileges",
            db["NAME"],
        ],
        check=True,
        capture_output=True,
        timeout=120,
        env={**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""},
    )
    subprocess.run(  # noqa: S603
        [str(pg.bin / "psql"), "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-d", target, "-q"],
        input=dump.stdout,
        check=True,
        capture_output=True,
        timeout=120,
    )


def _pythonpath() -> str:
    return os.pathsep.join(filter(None, [str(settings.BASE_DIR), os.environ.get("PYTHONPATH")]))


class Gunicorn:
    def __init__(self, *, database_url: str, var_dir: Path):
        self.port = free_port()
        self.log_path = var_dir / "gunicorn.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "cs_app.settings_bench",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": "filesystem://",  # the broker is not under test here
            "CS_VAR_DIR": str(var_dir),
            "FEEDBACK_RATE_LIMITS": "read=1000000,write=1000000,token=1000",
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(settings.BASE_DIR), os.environ.get("PYTHONPATH")])
            ),
        }
        env.pop("CACHE_URL", None)
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 — our own interpreter and module
            [
                sys.executable,
                "-m",
                "gunicorn",
                "cs_app.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--timeout",
                "30",
                "--log-level",
                "warning",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


def _request(port: int, method: str, path: str, body: str = "", headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode(errors="replace")
    finally:
        conn.close()


class Load:
    """Clients that each open a survey link, answer it, and read the API, until told to stop."""

    def __init__(self, port: int, tokens: list[str], api_token: str):
        self.port = port
        self.tokens = list(tokens)
        self.api_token = api_token
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.results: list[tuple[float, str, int]] = []  # (time, kind, status)
        self.acknowledged: list[str] = []  # tokens whose answer got the redirect
        self.bad: list[str] = []

    def _record(self, kind: str, status: int, headers: dict, body: str) -> None:
        problem = ""
        if status >= 500 and status != 503:
            problem = f"{kind}: HTTP {status}"
        elif "Traceback" in body or "OperationalError" in body or "psycopg" in body:
            problem = f"{kind}: HTTP {status} shows internals"
        elif status == 503:
            if headers.get("Retry-After") != "10":
                problem = f"{kind}: 503 without Retry-After"
            elif kind == "api" and json.loads(body).get("code") != "service_unavailable":
                problem = f"api: 503 body {body[:200]}"
            elif kind != "api" and "Back in a moment" not in body:
                problem = f"{kind}: 503 without the page: {body[:200]}"
        with self.lock:
            self.results.append((time.monotonic(), kind, status))
            if problem:
                self.bad.append(problem)

    def client(self) -> None:
        while not self.stop.is_set():
            with self.lock:
                token = self.tokens.pop() if self.tokens else None
                answered = (
                    self.acknowledged[len(self.results) % len(self.acknowledged)]
                    if self.acknowledged
                    else None
                )
            if token is None:
                # Every link answered (a fast server gets there before the drill ends): the load
                # goes on until the stop, with answered links' pages and the API.
                if answered is not None:
                    status, headers, body = _request(self.port, "GET", f"/s/{answered}/")
                    self._record("page", status, headers, body)
                self._api()
                continue
            status, headers, body = _request(self.port, "GET", f"/s/{token}/?score=9")
            self._record("page", status, headers, body)
            if status != 200:
                with self.lock:
                    self.tokens.append(token)  # not opened: another client tries it later
            else:
                csrf = CSRF_RE.search(body)
                cookie = headers.get("Set-Cookie", "").split(";")[0]
                status, headers, body = _request(
                    self.port,
                    "POST",
                    f"/s/{token}/",
                    body=f"csrfmiddlewaretoken={csrf.group(1)}&score=9&lang=en",
                    headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
                )
                self._record("answer", status, headers, body)
                if status == 302:
                    with self.lock:
                        self.acknowledged.append(token)
            self._api()

    def _api(self) -> None:
        status, headers, body = _request(
            self.port,
            "GET",
            "/api/v1/accounts/?page_size=5",
            headers={"Authorization": f"Bearer {self.api_token}"},
        )
        self._record("api", status, headers, body)


@pytest.fixture
def pg_drill(transactional_db, tmp_path):
    pg = PostgresServer()
    try:
        pg.init()
        pg.start()
        yield pg, tmp_path
    finally:
        pg.remove()


def test_postgres_restarted_under_load_fails_cleanly_recovers_and_loses_no_acknowledged_write(pg_drill):
    pg, var_dir = pg_drill
    tokens, api_token = _data()
    _copy_database(pg, "cs_drill")
    server = Gunicorn(database_url=pg.url("cs_drill"), var_dir=var_dir)
    try:
        wait_until(
            lambda: server.process.poll() is None and _ready(server.port),
            "gunicorn answering",
            timeout=60,
            interval=0.3,
        )
        load = Load(server.port, tokens, api_token)
        threads = [threading.Thread(target=load.client) for _ in range(CLIENTS)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(BEFORE)
        stop_at = time.monotonic()
        pg.ctl("stop", "-m", "fast")
        time.sleep(DOWN)
        pg.start()
        up_at = time.monotonic()
        time.sleep(AFTER)
        load.stop.set()
        for thread in threads:
            thread.join(60)
        ended = time.monotonic()
    finally:
        server.stop()

    assert not load.bad, load.bad[:10]
    statuses = Counter(status for _t, _k, status in load.results)
    assert set(statuses) <= {200, 302, 503}, (statuses, server.output())
    assert statuses[503] > 0, "no request saw the outage; the drill proves nothing"
    # Recovered: once the server has been up for a second, everything succeeds again.
    late = [status for t, _k, status in load.results if t > up_at + 1.0]
    assert late and set(late) <= {200, 302}, Counter(late)
    first_ok_after = min((t for t, _k, s in load.results if t > up_at and s in (200, 302)), default=None)
    # No acknowledged write is lost: every answer that got its redirect is in the database.
    answered = set(
        pg.psql(
            "cs_drill",
            "SELECT i.token FROM feedback_response r JOIN feedback_invitation i ON i.id = r.invitation_id",
        ).split()
    )
    assert load.acknowledged and set(load.acknowledged) <= answered
    during = Counter(s for t, _k, s in load.results if stop_at <= t <= up_at)
    kept = len(answered & set(load.acknowledged))
    print(
        f"{len(load.results)} requests in {ended - started:.1f} s ({dict(statuses)}); "
        f"during the {DOWN:.0f} s outage {dict(during)}; first success {first_ok_after - up_at:.2f} s after "
        f"the restart; {len(load.acknowledged)} acknowledged answers, all {kept} "
        f"in the database ({len(answered)} rows)"
    )
    assert Invitation.objects.count() == INVITATIONS  # the test database itself was only read


def _ready(port: int) -> bool:
    try:
        return _request(port, "GET", "/login/")[0] == 200
    except OSError:
        return False
