"""Accounts: list (filter, search, order, page), read, create, update, upsert by CRM id."""

from __future__ import annotations

from decimal import Decimal

from accounts.models import Account
from tests.factories import AccountFactory

ROW = {
    "name": "Delta Freight",
    "domain": "https://www.Delta.example/home",
    "segment": "mid_market",
    "tier": "gold",
    "plan": "Scale",
    "contract_start": "2025-02-01",
    "renewal_date": "2026-02-01",
    "currency": "eur",
}


def test_list_filters_searches_orders_and_pages(client_for, carol, alice, bob):
    AccountFactory(owner=alice, name="Zeta", segment="enterprise", tier="gold", mrr=Decimal("900"))
    AccountFactory(
        owner=alice, name="Alpha", segment="smb", tier="gold", mrr=Decimal("100"), external_id="A-1"
    )
    AccountFactory(owner=bob, name="Mu", segment="enterprise", tier="silver", mrr=Decimal("500"))
    client = client_for(carol, scope="read")

    names = lambda r: [row["name"] for row in r.json()["results"]]  # noqa: E731
    assert names(client.get("/api/v1/accounts/")) == ["Alpha", "Mu", "Zeta"]
    assert names(client.get("/api/v1/accounts/?segment=enterprise")) == ["Mu", "Zeta"]
    assert names(client.get("/api/v1/accounts/?tier=gold&ordering=-mrr")) == ["Zeta", "Alpha"]
    assert names(client.get(f"/api/v1/accounts/?owner={bob.email.upper()}")) == ["Mu"]
    assert names(client.get("/api/v1/accounts/?mrr_min=400&mrr_max=600")) == ["Mu"]
    assert names(client.get("/api/v1/accounts/?search=a-1")) == ["Alpha"]
    assert names(client.get("/api/v1/accounts/?external_id=A-1")) == ["Alpha"]

    page = client.get("/api/v1/accounts/?page_size=2").json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    assert names(client.get(page["next"])) == ["Zeta"]


def test_bad_filter_values_are_400_with_the_field(carol_api):
    response = carol_api.get("/api/v1/accounts/?segment=huge&mrr_min=abc&renewal_after=31-31-2020")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"segment", "mrr_min", "renewal_after"}


def test_list_query_count_does_not_grow_with_rows(client_for, carol, alice, django_assert_max_num_queries):
    client = client_for(carol, scope="read")
    AccountFactory.create_batch(3, owner=alice)
    client.get("/api/v1/accounts/")  # first use records last_used_at
    with django_assert_max_num_queries(3):  # token+user, count, page
        assert len(client.get("/api/v1/accounts/").json()["results"]) == 3
    AccountFactory.create_batch(30, owner=alice)
    with django_assert_max_num_queries(3):
        assert len(client.get("/api/v1/accounts/").json()["results"]) == 33


def test_create_normalizes_and_returns_the_account(carol_api, alice):
    response = carol_api.post("/api/v1/accounts/", {**ROW, "owner": alice.email}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["domain"] == "delta.example"
    assert body["currency"] == "EUR"
    assert body["owner"] == alice.email
    assert body["mrr"] == "0.00"
    assert Account.objects.get(pk=body["id"]).name == "Delta Freight"


def test_create_reports_every_bad_field(carol_api):
    response = carol_api.post(
        "/api/v1/accounts/",
        {"name": "", "domain": "not a domain", "segment": "galactic", "contract_start": "soon"},
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {"name", "segment", "contract_start"} <= set(errors)
    assert Account.objects.count() == 0


def test_business_rules_come_back_by_field(carol_api, alice_account):
    response = carol_api.post(
        "/api/v1/accounts/", {**ROW, "domain": alice_account.domain.upper()}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"]["domain"] == ["Another account already uses this domain."]
    response = carol_api.post("/api/v1/accounts/", {**ROW, "renewal_date": "2020-01-01"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]


def test_patch_changes_only_given_fields(carol_api, alice_account):
    response = carol_api.patch(f"/api/v1/accounts/{alice_account.pk}/", {"tier": "platinum"}, format="json")
    assert response.status_code == 200
    alice_account.refresh_from_db()
    assert alice_account.tier == "platinum"
    assert alice_account.name == "Alpha Industries"


def test_upsert_creates_then_is_idempotent(carol_api):
    first = carol_api.put("/api/v1/accounts/by-external-id/CRM-42/", ROW, format="json")
    assert first.status_code == 201, first.json()
    again = carol_api.put("/api/v1/accounts/by-external-id/CRM-42/", ROW, format="json")
    assert again.status_code == 200
    assert again.json() == first.json()  # nothing changed, not even updated_at
    assert Account.objects.filter(external_id="CRM-42").count() == 1

    changed = carol_api.put(
        "/api/v1/accounts/by-external-id/CRM-42/", {**ROW, "tier": "silver"}, format="json"
    )
    assert changed.status_code == 200
    assert changed.json()["tier"] == "silver"
    assert carol_api.get("/api/v1/accounts/by-external-id/CRM-42/").json()["tier"] == "silver"
    assert Account.objects.count() == 1


def test_upsert_requires_the_whole_account(carol_api):
    response = carol_api.put("/api/v1/accounts/by-external-id/CRM-1/", {"name": "Only a name"}, format="json")
    assert response.status_code == 400
    assert {"domain", "segment", "contract_start"} <= set(response.json()["errors"])


def test_create_with_a_taken_external_id_points_to_upsert(carol_api):
    carol_api.put("/api/v1/accounts/by-external-id/CRM-7/", ROW, format="json")
    response = carol_api.post(
        "/api/v1/accounts/", {**ROW, "domain": "other.example", "external_id": "CRM-7"}, format="json"
    )
    assert response.status_code == 400
    assert "external_id" in response.json()["errors"]


def test_bulk_upsert_twice_creates_no_duplicates(carol_api):
    rows = [
        {**ROW, "external_id": f"CRM-{n}", "name": f"Company {n}", "domain": f"company{n}.example"}
        for n in range(5)
    ]
    rows.append({"external_id": "CRM-bad", "name": "Bad", "domain": "bad", "segment": "smb"})
    first = carol_api.post("/api/v1/accounts/bulk-upsert/", {"accounts": rows}, format="json")
    assert first.status_code == 200, first.json()
    body = first.json()
    assert (body["created"], body["updated"], body["unchanged"], body["rejected"]) == (5, 0, 0, 1)
    assert body["results"][5]["status"] == "rejected"
    assert "contract_start" in body["results"][5]["errors"]

    rows[0]["tier"] = "platinum"
    second = carol_api.post("/api/v1/accounts/bulk-upsert/", {"accounts": rows}, format="json").json()
    assert (second["created"], second["updated"], second["unchanged"], second["rejected"]) == (0, 1, 4, 1)
    assert Account.objects.count() == 5


def test_bulk_upsert_over_the_limit_is_413(carol_api):
    response = carol_api.post("/api/v1/accounts/bulk-upsert/", {"accounts": [{}] * 1001}, format="json")
    assert response.status_code == 413
