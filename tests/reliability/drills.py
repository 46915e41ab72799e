"""Throwaway servers for the fault drills: a Redis and a PostgreSQL of the drill's own, on free
ports, so stopping them never disturbs the machine's shared services (or other test runs)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from cs_app.benchserver import free_port


def wait_until(condition, what: str, timeout: float = 30.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"no {what} within {timeout:.0f} s")


class RedisServer:
    """``redis-server`` on 127.0.0.1:port, no persistence: a restart comes back empty."""

    def __init__(self, directory: Path, port: int | None = None):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("needs the redis-server binary (Debian's redis-server package; CI has it)")
        self.binary = binary
        self.port = port or free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = (self.directory / f"redis-{self.port}.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 — the system's redis-server, fixed arguments
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            cwd=self.directory,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until(self.ping, f"Redis on port {self.port}", timeout=15)

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except (redis.exceptions.ConnectionError, OSError):
            return False

    def has_binding(self, queue: str) -> bool:
        """Whether a consumer has declared ``queue`` (kombu's Redis transport keeps the binding)."""
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        try:
            return bool(client.exists(f"_kombu.binding.{queue}"))
        except (redis.exceptions.ConnectionError, OSError):
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


def _pg_bin() -> Path | None:
    for found in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (found / "pg_ctl").exists() and (found / "initdb").exists():
            return found
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgresServer:
    """A PostgreSQL cluster of its own (initdb into a temporary folder), on a free port.

    As root (CI) the cluster runs as the ``postgres`` system user, as PostgreSQL requires."""

    def __init__(self):
        bindir = _pg_bin()
        if bindir is None:
            pytest.skip("needs PostgreSQL's server binaries (initdb, pg_ctl; CI has them)")
        self.bin = bindir
        self.port = free_port()
        # Not under pytest's tmp_path: as root, the postgres user must own the folder and reach it.
        self.directory = Path(tempfile.mkdtemp(prefix="cs-drill-pg-"))
        self.data = self.directory / "pgdata"
        self.log = self.directory / "postgres.log"
        self.run_as: list[str] = []
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                pytest.skip("running as root needs runuser to start PostgreSQL as the postgres user")
            self.run_as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603 — PostgreSQL's own tools, fixed arguments
            [*self.run_as, *args], check=check, capture_output=True, text=True, timeout=timeout
        )

    def init(self) -> None:
        if self.run_as:
            shutil.chown(self.directory, user="postgres")
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n"
                "fsync = on\nsynchronous_commit = on\nmax_connections = 50\nshared_buffers = 32MB\n"
            )

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def ctl(self, action: str, *extra: str) -> None:
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "30",
            action,
            *extra,
        )

    def start(self) -> None:
        self.ctl("start")

    def restart(self) -> None:
        self.ctl("restart", "-m", "fast")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-w",
                "-t",
                "30",
                "stop",
                "-m",
                "immediate",
                check=False,
            )

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def psql(self, database: str, sql: str) -> str:
        return self._run(
            str(self.bin / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-tA",
            "-c",
            sql,
        ).stdout
