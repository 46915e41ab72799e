"""Benchmark: usage events through the bulk endpoint against psycopg's COPY of the same rows.

    DATABASE_URL=postgres://…/cs_ingest python manage.py bench_ingest --events 1000000

(The issue's "bench ingest" spelling: this command is ``bench_ingest``; ``bench`` belongs to
the accounts app.) It creates its own accounts, contacts and a manager's token, then:

1. the floor: writes the rows, already resolved to account and contact ids, with one COPY
   per batch of ``--batch`` rows (each its own transaction), the fastest path into the table;
2. deletes them, and starts gunicorn on 127.0.0.1 (production settings, ``--workers``);
3. posts the same events as JSON (half by account id, half by CRM id, some with a contact
   email) in batches of ``--batch`` over real HTTP from ``--clients`` keep-alive connections,
   checking every answer accepted every row;

and prints events per second for both and the ratio (target ≥ 0.3). Request bodies are
encoded before the clock starts: the client's JSON encoding is not the server's work. It
removes everything it created at the end (``--keep`` leaves it). PostgreSQL only.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import random
import secrets
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from accounts.models import Account, Contact, UsageEvent
from accounts.services_sync import USAGE_COPY_SQL
from api.services import token_create
from cs_app.benchserver import database_url, gunicorn
from team.models import Role, User

NAMES = [
    "login",
    "report.viewed",
    "dashboard.opened",
    "export.created",
    "invite.sent",
    "search.run",
    "integration.synced",
    "api.called",
]
BENCH_PREFIX = "bench-ingest"


class Command(BaseCommand):
    help = "Usage events/s through POST /api/v1/usage-events/bulk/ (real HTTP, gunicorn) vs psycopg COPY."

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=1_000_000)
        parser.add_argument("--batch", type=int, default=10_000)
        parser.add_argument("--accounts", type=int, default=1_000)
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
        parser.add_argument("--clients", type=int, default=2, help="concurrent client connections")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--keep", action="store_true", help="leave the bench data in the database")

    def handle(self, *args, **opts):
        if not 0 < opts["batch"] <= 10_000:
            raise CommandError("--batch must be 1 to 10,000 (the endpoint's limit).")
        if connection.vendor != "postgresql":
            raise CommandError(
                "bench_ingest needs PostgreSQL: set DATABASE_URL=postgres://… (a scratch database)."
            )
        rng = random.Random(opts["seed"])
        self.stdout.write("setting up accounts, contacts and a token …")
        user, accounts, contacts = self._setup(opts["accounts"])
        raw_token = token_create(name="bench_ingest", user=user, scope="write", created_by=None).raw
        account_ids = [account.pk for account in accounts]
        try:
            events, rows = self._events(opts["events"], accounts, contacts, rng)
            batches = [
                (events[i : i + opts["batch"]], rows[i : i + opts["batch"]])
                for i in range(0, len(events), opts["batch"])
            ]
            copy_seconds = self._copy_floor([batch_rows for _e, batch_rows in batches])
            self._delete_events(account_ids)
            bodies = [
                json.dumps({"events": batch_events}, separators=(",", ":")).encode()
                for batch_events, _r in batches
            ]
            http_seconds = self._through_http(bodies, raw_token, opts)
            stored = UsageEvent.objects.filter(account_id__in=account_ids).count()
            if stored != len(events):
                raise CommandError(f"expected {len(events):,} events stored, found {stored:,}")
        finally:
            if not opts["keep"]:
                self._delete_events(account_ids)
                Contact.objects.filter(account_id__in=account_ids).delete()
                Account.objects.filter(pk__in=account_ids).delete()
                user.api_tokens.all().delete()
        total = len(events)
        copy_rate = total / copy_seconds
        http_rate = total / http_seconds
        size = sum(len(b) for b in bodies) / len(bodies) / 1e6
        self.stdout.write(
            f"events            {total:,} in {len(batches)} batches of {opts['batch']:,} "
            f"(~{size:.1f} MB JSON each; {opts['clients']} client connections, "
            f"{opts['workers']} gunicorn workers, PostgreSQL {connection.pg_version // 10000})"
        )
        self.stdout.write(f"copy floor        {copy_rate:>10,.0f} rows/s    ({copy_seconds:.2f} s)")
        ratio = http_rate / copy_rate
        verdict = "meets" if ratio >= 0.3 else "BELOW"
        self.stdout.write(
            f"bulk endpoint     {http_rate:>10,.0f} rows/s    ({http_seconds:.2f} s)   "
            f"ratio {ratio:.2f} ({verdict} the 0.30 target)"
        )

    # ------------------------------------------------------------ data

    def _setup(self, count: int):
        user, _created = User.objects.get_or_create(
            email=f"{BENCH_PREFIX}@bench.example", defaults={"role": Role.MANAGER, "full_name": "Bench"}
        )
        Account.objects.filter(external_id__startswith=f"{BENCH_PREFIX}-").delete()
        today = dt.date.today()
        accounts = Account.objects.bulk_create(
            [
                Account(
                    name=f"Bench {n:05d}",
                    domain=f"bench{n}.{BENCH_PREFIX}.example",
                    external_id=f"{BENCH_PREFIX}-{n}",
                    segment="smb",
                    owner=user,
                    contract_start=today,
                )
                for n in range(count)
            ]
        )
        contacts = Contact.objects.bulk_create(
            [
                Contact(account=account, name=f"User {k}", email=f"user{k}@bench{n}.example")
                for n, account in enumerate(accounts)
                for k in range(3)
            ]
        )
        by_account: dict[int, list[Contact]] = {}
        for contact in contacts:
            by_account.setdefault(contact.account_id, []).append(contact)
        return user, accounts, by_account

    def _events(self, total: int, accounts, contacts, rng):
        """The JSON events to post and, row for row, the resolved tuples COPY writes."""
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        events, rows = [], []
        for n in range(total):
            account = accounts[rng.randrange(len(accounts))]
            when = now - dt.timedelta(seconds=rng.randrange(90 * 86400))
            name = NAMES[n % len(NAMES)]
            event = {"name": name, "occurred_at": when.isoformat().replace("+00:00", "Z")}
            if n % 2:
                event["account"] = account.pk
            else:
                event["account_external_id"] = account.external_id
            contact_id = None
            if n % 10 < 3:
                contact = contacts[account.pk][n % 3]
                event["contact_email"] = contact.email
                contact_id = contact.pk
            properties = {"plan": "pro", "duration_ms": rng.randrange(5000)} if n % 2 else {}
            if properties:
                event["properties"] = properties
            events.append(event)
            rows.append((account.pk, contact_id, name, when, json.dumps(properties, separators=(",", ":"))))
        return events, rows

    def _delete_events(self, account_ids: list[int]) -> None:
        table = connection.ops.quote_name(UsageEvent._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE account_id = ANY(%s)", [account_ids])  # noqa: S608
            cursor.execute(f"VACUUM ANALYZE {table}")

    # ------------------------------------------------------------ the two paths

    def _copy_floor(self, batches) -> float:
        sql = USAGE_COPY_SQL.format(table=connection.ops.quote_name(UsageEvent._meta.db_table))
        start = time.perf_counter()
        for rows in batches:
            with transaction.atomic(), connection.cursor() as cursor, cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        return time.perf_counter() - start

    def _through_http(self, bodies: list[bytes], raw_token: str, opts) -> float:
        env = {
            **os.environ,
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": database_url(),
        }
        log = Path(settings.VAR_DIR if hasattr(settings, "VAR_DIR") else ".") / "bench_ingest_gunicorn.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with gunicorn(env=env, workers=opts["workers"], log=log, timeout=120, ready_within=30) as port:
            return self._post_all(port, bodies, raw_token, opts["clients"])

    def _post_all(self, port: int, bodies: list[bytes], raw_token: str, clients: int) -> float:
        headers = {"Authorization": f"Bearer {raw_token}", "Content-Type": "application/json"}
        # Warm each worker (imports, connections) outside the clock with an empty batch.
        for _ in range(clients * 2):
            _post(http.client.HTTPConnection("127.0.0.1", port, timeout=120), b'{"events":[]}', headers)
        queue = list(enumerate(bodies))
        lock = threading.Lock()
        errors: list[str] = []

        def work():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            while True:
                with lock:
                    if not queue or errors:
                        break
                    index, body = queue.pop(0)
                expected = body.count(b'"name":')
                status, answer = _post(conn, body, headers)
                if status != 200 or answer.get("accepted") != expected:
                    with lock:
                        errors.append(f"batch {index}: HTTP {status} {str(answer)[:300]}")
            conn.close()

        threads = [threading.Thread(target=work) for _ in range(clients)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
        if errors:
            raise CommandError("; ".join(errors[:3]))
        return elapsed


def _post(conn: http.client.HTTPConnection, body: bytes, headers: dict) -> tuple[int, dict]:
    conn.request("POST", "/api/v1/usage-events/bulk/", body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    try:
        return response.status, json.loads(data)
    except ValueError:
        return response.status, {"raw": data[:300].decode(errors="replace")}
