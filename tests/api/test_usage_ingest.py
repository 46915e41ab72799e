"""Bulk usage ingestion: valid rows stored, each bad row named by index and reason; cursor reads."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import UsageEvent
from accounts.services_sync import usage_events_ingest
from tests.factories import AccountFactory, ContactFactory, UsageEventFactory

WHEN = "2026-01-15T09:30:00Z"


def test_mixed_good_and_bad_rows(client_for, alice, alice_account, bob_account):
    alice_account.external_id = "crm-a"
    alice_account.save()
    ContactFactory(account=alice_account, email="ann@customer.example")
    future = (timezone.now() + dt.timedelta(days=3)).isoformat()
    events = [
        {"account": alice_account.pk, "name": "report.viewed", "occurred_at": WHEN},  # 0 ok
        {
            "account_external_id": "crm-a",
            "name": "login",
            "occurred_at": WHEN,
            "contact_email": "ANN@customer.example",
            "properties": {"plan": "pro", "n": 3},
        },  # 1 ok
        {"account": bob_account.pk, "name": "x", "occurred_at": WHEN},  # 2 other portfolio
        {"account": 10**12, "name": "x", "occurred_at": WHEN},  # 3 no such account
        {"account_external_id": "nope", "name": "x", "occurred_at": WHEN},  # 4 no such CRM id
        {"account": alice_account.pk, "name": "", "occurred_at": WHEN},  # 5 no name
        {"account": alice_account.pk, "name": "x", "occurred_at": "2026-01-15 09:30"},  # 6 no zone
        {"account": alice_account.pk, "name": "x", "occurred_at": future},  # 7 future
        {"account": alice_account.pk, "name": "x", "occurred_at": "yesterday"},  # 8 not a time
        {
            "account": alice_account.pk,
            "name": "x",
            "occurred_at": WHEN,
            "contact_email": "who@x.example",
        },  # 9
        {"account": alice_account.pk, "name": "x", "occurred_at": WHEN, "properties": [1, 2]},  # 10
        "not an object",  # 11
        {"name": "x", "occurred_at": WHEN},  # 12 no account
        {"account": "12", "name": "x", "occurred_at": WHEN},  # 13 id as text
        {"account": alice_account.pk, "name": "x" * 101, "occurred_at": WHEN},  # 14 long name
        {"account": alice_account.pk, "name": "ok", "occurred_at": "2026-01-15T12:30:00+03:00"},  # 15 ok
    ]
    response = client_for(alice).post("/api/v1/usage-events/bulk/", {"events": events}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["accepted"] == 3
    rejected = {item["index"]: item for item in body["rejected"]}
    assert sorted(rejected) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]
    assert set(rejected[2]["errors"]) == {"account"}
    assert rejected[4]["errors"] == {"account_external_id": "No account with this CRM id in your portfolio."}
    assert set(rejected[6]["errors"]) == {"occurred_at"}
    assert "time zone" in rejected[6]["reason"]
    assert "future" in rejected[7]["reason"]
    assert set(rejected[9]["errors"]) == {"contact_email"}
    assert set(rejected[10]["errors"]) == {"properties"}
    assert rejected[11]["errors"] == {"non_field_errors": "Each event must be a JSON object."}

    stored = list(UsageEvent.objects.order_by("id").values_list("name", "contact__email", "properties"))
    assert stored == [
        ("report.viewed", None, {}),
        ("login", "ann@customer.example", {"plan": "pro", "n": 3}),
        ("ok", None, {}),
    ]
    assert UsageEvent.objects.get(name="ok").occurred_at == dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.UTC)


def test_envelope_must_hold_a_list(carol_api):
    for body in ({}, {"events": "x"}, [1, 2]):
        response = carol_api.post("/api/v1/usage-events/bulk/", body, format="json")
        assert response.status_code == 400
        assert "events" in response.json()["errors"]


def test_more_than_10000_events_is_413_and_stores_nothing(carol_api, alice_account):
    event = {"account": alice_account.pk, "name": "x", "occurred_at": WHEN}
    response = carol_api.post("/api/v1/usage-events/bulk/", {"events": [event] * 10_001}, format="json")
    assert response.status_code == 413
    assert "10,000" in response.json()["detail"]
    assert UsageEvent.objects.count() == 0


def test_body_over_the_byte_limit_is_413(carol_api, settings):
    settings.API_BULK_MAX_BYTES = 1000
    response = carol_api.post("/api/v1/usage-events/bulk/", {"events": [{"name": "x" * 2000}]}, format="json")
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_full_batch_of_10000_is_stored_with_bounded_queries(client_for, carol, django_assert_max_num_queries):
    accounts = AccountFactory.create_batch(20, owner=carol)
    for n, account in enumerate(accounts):
        account.external_id = f"crm-{n}"
        account.save()
        ContactFactory(account=account, email=f"user{n}@customer.example")
    events = [
        {
            "account_external_id": f"crm-{n % 20}",
            "contact_email": f"user{n % 20}@customer.example",
            "name": "feature.used",
            "occurred_at": WHEN,
            "properties": {"n": n},
        }
        for n in range(10_000)
    ]
    client = client_for(carol)
    client.get("/api/v1/accounts/")
    # PostgreSQL: one COPY. SQLite: INSERTs of at most 999 parameters (199 rows) each.
    limit = 8 if connection.vendor == "postgresql" else 8 + 10_000 // 199 + 1
    with django_assert_max_num_queries(limit):
        response = client.post("/api/v1/usage-events/bulk/", {"events": events}, format="json")
    assert response.json() == {"accepted": 10_000, "rejected": []}
    assert UsageEvent.objects.count() == 10_000
    assert UsageEvent.objects.filter(contact__isnull=False).count() == 10_000


def test_service_refuses_oversize_batches(alice):
    with pytest.raises(ValueError, match="10,000"):
        usage_events_ingest(rows=[{}] * 10_001, actor=alice)


def test_cursor_pagination_walks_every_event_once(client_for, alice, alice_account, bob_account):
    base = timezone.now() - dt.timedelta(days=1)
    for n in range(7):
        UsageEventFactory(account=alice_account, occurred_at=base + dt.timedelta(minutes=n // 2))
    UsageEventFactory(account=bob_account)
    client = client_for(alice, scope="read")
    seen = []
    url = f"/api/v1/usage-events/?account={alice_account.pk}&page_size=3"
    while url:
        page = client.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert len(seen) == 7 == len(set(seen))
    assert client.get("/api/v1/usage-events/?cursor=garbage").status_code == 404


def test_usage_list_query_count(client_for, carol, alice_account, django_assert_max_num_queries):
    client = client_for(carol, scope="read")
    client.get("/api/v1/usage-events/")
    for batch in (3, 60):
        UsageEventFactory.create_batch(batch, account=alice_account)
        with django_assert_max_num_queries(2):
            assert client.get("/api/v1/usage-events/").status_code == 200


def test_properties_size_and_unstorable_text(carol_api, alice_account):
    event = {"account": alice_account.pk, "name": "x", "occurred_at": WHEN, "properties": {"a": "y" * 9000}}
    body = carol_api.post("/api/v1/usage-events/bulk/", {"events": [event]}, format="json").json()
    assert body["accepted"] == 0 and set(body["rejected"][0]["errors"]) == {"properties"}
    raw = json.dumps({"events": [{**event, "properties": {"a": "nul\u0000"}}]})
    response = carol_api.post("/api/v1/usage-events/bulk/", raw, content_type="application/json")
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]
