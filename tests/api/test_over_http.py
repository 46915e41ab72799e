"""The issue's acceptance script, over real HTTP to a live server: sync accounts twice (no
duplicates), ingest events with bad rows mixed in, replay an Idempotency-Key, and try another
portfolio's accounts with a CSM's token."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest

from accounts.models import Account, UsageEvent
from api.services import token_create


class Http:
    def __init__(self, base: str, token: str):
        parts = urlsplit(base)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.token = token

    def __call__(self, method: str, path: str, body=None, **headers):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json", **headers}
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        raw = response.read()
        return response.status, dict(response.getheaders()), json.loads(raw) if raw else None


@pytest.mark.django_db(transaction=True)
def test_acceptance_script_over_http(live_server, alice, bob, carol):
    manager = Http(live_server.url, token_create(name="CRM", user=carol, scope="write", created_by=None).raw)
    csm = Http(
        live_server.url, token_create(name="Alice feed", user=alice, scope="write", created_by=None).raw
    )

    status, _h, schema = manager("GET", "/api/schema/?format=json")
    assert status == 200 and "/api/v1/accounts/by-external-id/{external_id}/" in schema["paths"]

    rows = [
        {
            "external_id": f"CRM-{n}",
            "name": f"Company {n}",
            "domain": f"company{n}.example",
            "segment": "smb",
            "contract_start": "2025-01-01",
            "owner": (alice if n % 2 else bob).email,
        }
        for n in range(6)
    ]
    for _sync in range(2):
        for row in rows:
            status, _h, _b = manager("PUT", f"/api/v1/accounts/by-external-id/{row['external_id']}/", row)
            assert status in (200, 201)
    assert Account.objects.count() == 6

    mine = Account.objects.get(external_id="CRM-1")
    events = [
        {"account_external_id": "CRM-1", "name": "login", "occurred_at": "2026-01-01T10:00:00Z"},
        {"account_external_id": "CRM-0", "name": "login", "occurred_at": "2026-01-01T10:00:00Z"},  # bob's
        {"account": mine.pk, "name": "", "occurred_at": "2026-01-01T10:00:00Z"},
        {"account": mine.pk, "name": "report.viewed", "occurred_at": "2026-01-01T10:00:00+02:00"},
    ]
    first = csm("POST", "/api/v1/usage-events/bulk/", {"events": events}, **{"Idempotency-Key": "batch-1"})
    again = csm("POST", "/api/v1/usage-events/bulk/", {"events": events}, **{"Idempotency-Key": "batch-1"})
    assert first[0] == again[0] == 200
    assert first[2] == again[2]
    assert first[2]["accepted"] == 2
    assert [item["index"] for item in first[2]["rejected"]] == [1, 2]
    assert again[1].get("Idempotent-Replayed") == "true"
    assert UsageEvent.objects.count() == 2
    status, _h, _body = csm(
        "POST", "/api/v1/usage-events/bulk/", {"events": events[:1]}, **{"Idempotency-Key": "batch-1"}
    )
    assert status == 409

    bobs = Account.objects.get(external_id="CRM-0")
    assert csm("GET", f"/api/v1/accounts/{bobs.pk}/")[0] == 404
    assert csm("PATCH", f"/api/v1/accounts/{bobs.pk}/", {"plan": "x"})[0] == 404
    assert csm("GET", "/api/v1/accounts/by-external-id/CRM-0/")[0] == 404
    assert csm("PUT", "/api/v1/accounts/by-external-id/CRM-0/", rows[0])[0] == 404
    listed = csm("GET", "/api/v1/accounts/?page_size=100")[2]
    assert {row["external_id"] for row in listed["results"]} == {"CRM-1", "CRM-3", "CRM-5"}
