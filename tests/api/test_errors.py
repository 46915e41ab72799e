"""Errors are JSON with the right status, whatever the input; never a 500."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import AccountFactory


def test_malformed_json_is_400(carol_api):
    empty = carol_api.generic("POST", "/api/v1/accounts/", b"", content_type="application/json")
    assert empty.status_code == 400 and "name" in empty.json()["errors"]  # no body: every field missing
    for raw in (b"{", b"\xff\xfe", b'{"name": NaN}', b"[" * 5000 + b"]" * 5000):
        response = carol_api.generic("POST", "/api/v1/accounts/", raw, content_type="application/json")
        assert response.status_code == 400, raw[:10]
        assert response["Content-Type"] == "application/json"
        assert response.json()["code"] == "parse_error"


def test_unsupported_media_type_is_415_json(carol_api):
    response = carol_api.generic(
        "POST", "/api/v1/accounts/", b"name=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/accounts/99999999999999999999999/",
        "/api/v1/accounts/abc/",
        "/api/v1/nothing-here/",
        "/api/v2/accounts/",
        "/api/v1/accounts/?page=999",
    ],
)
def test_unknown_addresses_are_json_404(carol_api, url):
    response = carol_api.get(url)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_nul_and_huge_numbers_in_queries_are_not_500(carol_api):
    for query in ("search=%00", "owner=a%00b", "mrr_min=1e400", "page_size=99999999999999999999"):
        response = carol_api.get(f"/api/v1/accounts/?{query}")
        assert response.status_code in (200, 400), query
    for query in ("account=99999999999999999999", "account=-1"):
        assert carol_api.get(f"/api/v1/usage-events/?{query}").status_code == 400
    assert carol_api.get("/api/v1/accounts/by-external-id/a%00b/").status_code == 400


def test_nul_and_lone_surrogates_in_bodies_are_400(carol_api):
    for raw in (b'{"name": "a\\u0000b"}', b'{"name": "\\ud800"}', b'{"\\u0000": 1}'):
        response = carol_api.generic("POST", "/api/v1/accounts/", raw, content_type="application/json")
        assert response.status_code == 400, raw


def test_wrong_types_are_field_errors(carol_api, alice):
    response = carol_api.post(
        "/api/v1/accounts/",
        {
            "name": ["x"],
            "domain": 5,
            "segment": None,
            "contract_start": 20250101,
            "owner": 12,
            "parent": 10**30,
        },
        format="json",
    )
    assert response.status_code == 400
    assert {"name", "segment", "contract_start", "owner", "parent"} <= set(response.json()["errors"])


def test_method_not_allowed_is_405_json(carol_api, alice_account):
    response = carol_api.delete(f"/api/v1/accounts/{alice_account.pk}/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_body_over_the_general_limit_is_413(carol_api, settings):
    settings.API_MAX_BODY_BYTES = 100
    response = carol_api.post("/api/v1/accounts/", {"name": "x" * 200}, format="json")
    assert response.status_code == 413


def test_throttled_token_gets_429_with_retry_after(carol, make_token, settings, alice_account):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "3/min", "ingest": "1/min"},
    }
    client, other = APIClient(), APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(carol)}")
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(carol)}")
    statuses = [client.get("/api/v1/accounts/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/accounts/")
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) > 0
    assert other.get("/api/v1/accounts/").status_code == 200  # counted per token
    body = {"events": [{"account": alice_account.pk, "name": "x", "occurred_at": "2026-01-01T00:00:00Z"}]}
    assert other.post("/api/v1/usage-events/bulk/", body, format="json").status_code == 200
    assert other.post("/api/v1/usage-events/bulk/", body, format="json").status_code == 429


def test_race_on_a_unique_value_is_409_not_500(carol_api, monkeypatch):
    from django.db import IntegrityError

    from accounts import services_sync

    def boom(**kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(services_sync, "account_add", boom)
    body = {"name": "Race", "domain": "race.example", "segment": "smb", "contract_start": "2025-01-01"}
    response = carol_api.post("/api/v1/accounts/", body, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"


def test_pages_are_json_for_anonymous_browsers_too(db):
    AccountFactory()
    response = APIClient().get("/api/v1/accounts/", HTTP_ACCEPT="application/json")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_time_filters_with_extreme_offsets_are_not_500(carol_api):
    for query in (
        "occurred_before=1790-08-01T23%3A29%3A07%2B16%3A03",
        "occurred_after=0001-01-01T00%3A00%3A00%2B05%3A00",
        "occurred_after=9999-12-31T23%3A59%3A59-05%3A00",
    ):
        for url in ("/api/v1/touchpoints/", "/api/v1/usage-events/"):
            assert carol_api.get(f"{url}?{query}").status_code in (200, 400), (url, query)


def test_any_unknown_api_address_is_json_even_with_odd_bytes(carol_api):
    for url in ("/api/v1/accounts/%F2%8F%0Ao/", "/api/v1/accounts/a%0A/", "/api/%0A"):
        for method in ("get", "patch", "post"):
            response = getattr(carol_api, method)(url, {}, format="json")
            assert response.status_code == 404, (method, url)
            assert response["Content-Type"] == "application/json"


def test_every_path_answers_any_method_without_a_server_error(carol_api, alice_account):
    import json

    from tests.factories import ContactFactory, TouchpointFactory, UsageEventFactory

    alice_account.external_id = "crm-a"
    alice_account.save()
    ids = {
        "id": alice_account.pk,
        "external_id": "crm-a",
    }
    ContactFactory(account=alice_account)
    TouchpointFactory(account=alice_account)
    UsageEventFactory(account=alice_account)
    schema = json.loads(carol_api.get("/api/schema/?format=json").content)
    for template in schema["paths"]:
        path = template.replace("{id}", str(ids["id"])).replace("{external_id}", ids["external_id"])
        for method in ("OPTIONS", "HEAD", "DELETE", "TRACE", "PATCH", "PUT", "POST", "GET"):
            response = carol_api.generic(method, path, b"[]", content_type="application/json")
            assert response.status_code < 500, (method, path)


def test_an_unexpected_error_is_json_and_logged(carol_api, monkeypatch, caplog):
    from accounts import api as accounts_api

    def broken(self):
        raise RuntimeError("bug")

    monkeypatch.setattr(accounts_api.AccountViewSet, "get_queryset", broken)
    response = carol_api.get("/api/v1/accounts/")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert "Unhandled error" in caplog.text
