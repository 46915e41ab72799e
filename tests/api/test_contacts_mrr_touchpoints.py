"""Contacts (create, update, upsert by email), MRR movements (one or many) and touchpoints."""

from __future__ import annotations

from decimal import Decimal

from accounts.models import Contact, MrrMovement, Touchpoint
from tests.factories import ContactFactory, MrrMovementFactory, TouchpointFactory


def test_contact_create_by_external_id_and_duplicate_email(carol_api, alice_account):
    alice_account.external_id = "crm-a"
    alice_account.save()
    body = {
        "account_external_id": "crm-a",
        "name": "Ann",
        "email": "Ann@Customer.example",
        "role": "champion",
    }
    response = carol_api.post("/api/v1/contacts/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["account"] == alice_account.pk
    assert response.json()["email"] == "ann@customer.example"
    again = carol_api.post("/api/v1/contacts/", body, format="json")
    assert again.status_code == 400
    assert again.json()["errors"]["email"] == ["This account already has a contact with this email."]


def test_contact_upsert_is_idempotent(carol_api, alice_account):
    body = {"account": alice_account.pk, "name": "Ann", "email": "ann@customer.example", "language": "tr"}
    assert carol_api.post("/api/v1/contacts/upsert/", body, format="json").status_code == 201
    body["name"] = "Ann Archer"
    response = carol_api.post(
        "/api/v1/contacts/upsert/", {**body, "email": "ANN@customer.example"}, format="json"
    )
    assert response.status_code == 200
    assert Contact.objects.get().name == "Ann Archer"
    assert Contact.objects.count() == 1


def test_contact_update_and_list_filters(carol_api, alice_account, bob_account):
    contact = ContactFactory(account=alice_account, name="Ann")
    ContactFactory(account=bob_account, name="Ben")
    response = carol_api.patch(f"/api/v1/contacts/{contact.pk}/", {"accepts_surveys": False}, format="json")
    assert response.status_code == 200
    assert response.json()["accepts_surveys"] is False
    rows = carol_api.get(f"/api/v1/contacts/?account={alice_account.pk}").json()["results"]
    assert [row["name"] for row in rows] == ["Ann"]
    assert carol_api.get("/api/v1/contacts/?search=ben").json()["count"] == 1


def test_contact_needs_an_account(carol_api):
    response = carol_api.post("/api/v1/contacts/", {"name": "A", "email": "a@b.example"}, format="json")
    assert response.status_code == 400
    assert "account" in response.json()["errors"]


def test_mrr_movement_create_and_list_per_account(carol_api, alice_account, bob_account):
    MrrMovementFactory(account=bob_account)
    response = carol_api.post(
        "/api/v1/mrr-movements/",
        {"account": alice_account.pk, "kind": "new", "date": "2025-01-01", "amount": "250.00"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["amount"] == "250.00"
    alice_account.refresh_from_db()
    assert alice_account.mrr == Decimal("250.00")
    rows = carol_api.get(f"/api/v1/mrr-movements/?account={alice_account.pk}").json()["results"]
    assert [row["kind"] for row in rows] == ["new"]


def test_mrr_movement_rules_are_field_errors(carol_api, alice_account):
    response = carol_api.post(
        "/api/v1/mrr-movements/",
        {"account": alice_account.pk, "kind": "expansion", "date": "2025-01-01", "amount": "10"},
        format="json",
    )
    assert response.status_code == 400
    assert "kind" in response.json()["errors"]


def test_mrr_batch_is_all_or_nothing(carol_api, alice_account):
    alice_account.external_id = "crm-a"
    alice_account.save()
    good = [
        {"account_external_id": "crm-a", "kind": "new", "date": "2025-01-01", "amount": "100"},
        {"account": alice_account.pk, "kind": "expansion", "date": "2025-02-01", "amount": "50"},
    ]
    bad = [*good, {"account": alice_account.pk, "kind": "contraction", "date": "2025-03-01", "amount": "500"}]
    response = carol_api.post("/api/v1/mrr-movements/batch/", {"movements": bad}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]["movements"]) == ["2"]
    assert MrrMovement.objects.count() == 0

    response = carol_api.post("/api/v1/mrr-movements/batch/", {"movements": good}, format="json")
    assert response.status_code == 201
    assert [row["amount"] for row in response.json()["movements"]] == ["100.00", "50.00"]
    alice_account.refresh_from_db()
    assert alice_account.mrr == Decimal("150.00")


def test_touchpoint_log_and_list(client_for, alice, alice_account):
    client = client_for(alice)
    contact = ContactFactory(account=alice_account)
    TouchpointFactory(account=alice_account, summary="Older")
    response = client.post(
        "/api/v1/touchpoints/",
        {"account": alice_account.pk, "kind": "qbr", "summary": "Quarterly review", "contact": contact.pk},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["author"] == alice.email
    rows = client.get(f"/api/v1/touchpoints/?account={alice_account.pk}").json()["results"]
    assert [row["summary"] for row in rows] == ["Quarterly review", "Older"]
    alice_account.refresh_from_db()
    assert alice_account.last_touch_at is not None


def test_touchpoint_rules(client_for, alice, alice_account, bob_account):
    client = client_for(alice)
    other_contact = ContactFactory(account=bob_account)
    response = client.post(
        "/api/v1/touchpoints/",
        {"account": alice_account.pk, "kind": "call", "summary": "  ", "contact": other_contact.pk},
        format="json",
    )
    assert response.status_code == 400
    assert {"summary", "contact"} <= set(response.json()["errors"])
    response = client.post(
        "/api/v1/touchpoints/",
        {"account": alice_account.pk, "kind": "call", "summary": "x", "occurred_at": "2999-01-01T00:00:00Z"},
        format="json",
    )
    assert response.status_code == 400
    assert "occurred_at" in response.json()["errors"]
    assert Touchpoint.objects.count() == 0


def test_lists_have_bounded_queries(client_for, carol, alice_account, django_assert_max_num_queries):
    client = client_for(carol, scope="read")
    client.get("/api/v1/contacts/")
    for batch in (2, 20):
        ContactFactory.create_batch(batch, account=alice_account)
        TouchpointFactory.create_batch(batch, account=alice_account)
        for url in ("/api/v1/contacts/", "/api/v1/touchpoints/", "/api/v1/mrr-movements/"):
            with django_assert_max_num_queries(3):
                assert client.get(url).status_code == 200
