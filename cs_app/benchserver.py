"""What the benchmark commands that start their own gunicorn share (``bench_ingest``,
``bench_load``): this process's database as a URL for the server, a free port on 127.0.0.1,
waiting for the server to listen, and the server itself (``gunicorn``)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection


def database_url() -> str:
    """This process's database (the test database too, under pytest) as a URL for gunicorn."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{'@' if auth else ''}{host}{port}/{quote(db['NAME'], safe='')}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, server: subprocess.Popen, log: Path, timeout: float) -> None:
    """Return once the server accepts connections; CommandError with its log if it exits or
    does not listen within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CommandError(f"gunicorn exited; see {log}:\n{log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise CommandError(f"gunicorn did not start within {timeout:.0f} s; see {log}")


@contextmanager
def gunicorn(*, env: dict, workers: int, log: Path, timeout: int, ready_within: float) -> Iterator[int]:
    """This project under gunicorn on a free port of 127.0.0.1, with ``env`` as its environment
    and its output in ``log``: yields the port once the server listens (``ready_within``
    seconds at most); stops it on the way out. ``timeout`` is gunicorn's worker timeout."""
    port = free_port()
    with log.open("wb") as log_file:
        server = subprocess.Popen(  # noqa: S603 — our own interpreter and module
            [
                sys.executable,
                "-m",
                "gunicorn",
                "cs_app.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--timeout",
                str(timeout),
                "--log-level",
                "warning",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(port, server, log, timeout=ready_within)
            yield port
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
