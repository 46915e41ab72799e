"""Idempotency-Key: a retried POST returns the first answer instead of writing twice."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts.models import Account, UsageEvent
from api.models import IdempotencyRecord
from api.services import idempotency_purge

WHEN = "2026-01-15T09:30:00Z"


def _events(account, n=3):
    return {"events": [{"account": account.pk, "name": f"e{i}", "occurred_at": WHEN} for i in range(n)]}


def test_replay_returns_the_first_answer_and_writes_once(carol_api, alice_account):
    first = carol_api.post(
        "/api/v1/usage-events/bulk/", _events(alice_account), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    again = carol_api.post(
        "/api/v1/usage-events/bulk/", _events(alice_account), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert UsageEvent.objects.count() == 3


def test_replay_keeps_status_and_location_of_a_create(carol_api):
    body = {"name": "Echo", "domain": "echo.example", "segment": "smb", "contract_start": "2025-01-01"}
    first = carol_api.post("/api/v1/accounts/", body, format="json", HTTP_IDEMPOTENCY_KEY="create-echo")
    again = carol_api.post("/api/v1/accounts/", body, format="json", HTTP_IDEMPOTENCY_KEY="create-echo")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert Account.objects.count() == 1


def test_same_key_with_another_body_is_409(carol_api, alice_account):
    carol_api.post(
        "/api/v1/usage-events/bulk/", _events(alice_account, 1), format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    response = carol_api.post(
        "/api/v1/usage-events/bulk/", _events(alice_account, 2), format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 409
    assert "different request" in response.json()["detail"]
    assert UsageEvent.objects.count() == 1


def test_same_key_on_another_endpoint_is_409(carol_api, alice_account):
    carol_api.post(
        "/api/v1/usage-events/bulk/", _events(alice_account, 1), format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    response = carol_api.post(
        "/api/v1/touchpoints/",
        {"account": alice_account.pk, "kind": "call", "summary": "x"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert response.status_code == 409


def test_keys_belong_to_one_token(client_for, carol, alice_account):
    one, two = client_for(carol), client_for(carol)
    for client in (one, two):
        response = client.post(
            "/api/v1/usage-events/bulk/",
            _events(alice_account, 1),
            format="json",
            HTTP_IDEMPOTENCY_KEY="shared",
        )
        assert "Idempotent-Replayed" not in response
    assert UsageEvent.objects.count() == 2


def test_a_refused_request_frees_the_key(carol_api):
    bad = {"name": "", "domain": "x.example", "segment": "smb", "contract_start": "2025-01-01"}
    assert (
        carol_api.post("/api/v1/accounts/", bad, format="json", HTTP_IDEMPOTENCY_KEY="fix-me").status_code
        == 400
    )
    assert IdempotencyRecord.objects.count() == 0
    good = {**bad, "name": "Fixed"}
    response = carol_api.post("/api/v1/accounts/", good, format="json", HTTP_IDEMPOTENCY_KEY="fix-me")
    assert response.status_code == 201


def test_bad_key_is_400(carol_api, alice_account):
    response = carol_api.post(
        "/api/v1/usage-events/bulk/", _events(alice_account), format="json", HTTP_IDEMPOTENCY_KEY="x" * 256
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]


def test_without_a_key_each_post_writes(carol_api, alice_account):
    for _ in range(2):
        carol_api.post("/api/v1/usage-events/bulk/", _events(alice_account, 1), format="json")
    assert UsageEvent.objects.count() == 2


def test_old_records_expire(carol_api, alice_account):
    carol_api.post(
        "/api/v1/usage-events/bulk/", _events(alice_account, 1), format="json", HTTP_IDEMPOTENCY_KEY="old"
    )
    IdempotencyRecord.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    assert idempotency_purge() == 1
    response = carol_api.post(
        "/api/v1/usage-events/bulk/", _events(alice_account, 1), format="json", HTTP_IDEMPOTENCY_KEY="old"
    )
    assert "Idempotent-Replayed" not in response
    assert UsageEvent.objects.count() == 2
