"""The permission matrix: no token, read-only token, CSM token, manager token; own and other's accounts."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from api.models import ApiToken
from api.services import token_revoke

NEW_ACCOUNT = {"name": "New Co", "domain": "newco.example", "segment": "smb", "contract_start": "2025-03-01"}


def test_no_token_is_401_with_a_bearer_challenge(db, alice_account):
    response = APIClient().get("/api/v1/accounts/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_or_malformed_token_is_401(db):
    for header in ("Bearer csp_not-a-real-token", "Bearer", "Bearer a b", "Token nope"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        response = client.get("/api/v1/accounts/")
        assert response.status_code == 401, header
        assert "detail" in response.json()


def test_revoked_token_is_401(alice, make_token):
    raw = make_token(alice)
    token = ApiToken.objects.get()
    token_revoke(token=token, by=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/accounts/").status_code == 401


def test_token_of_a_deactivated_person_is_401(alice, client_for):
    client = client_for(alice)
    alice.is_active = False
    alice.save()
    assert client.get("/api/v1/accounts/").status_code == 401


def test_token_of_someone_without_a_role_is_403(charlie, alice, client_for):
    client = client_for(alice)
    alice.role = ""
    alice.save()
    response = client.get("/api/v1/accounts/")
    assert response.status_code == 403


def test_read_only_token_reads_but_cannot_write(client_for, alice, alice_account):
    client = client_for(alice, scope="read")
    assert client.get(f"/api/v1/accounts/{alice_account.pk}/").status_code == 200
    for method, url, body in [
        ("post", "/api/v1/accounts/", NEW_ACCOUNT),
        ("patch", f"/api/v1/accounts/{alice_account.pk}/", {"plan": "Pro"}),
        ("put", "/api/v1/accounts/by-external-id/crm-9/", NEW_ACCOUNT),
        ("post", "/api/v1/usage-events/bulk/", {"events": []}),
        ("post", "/api/v1/touchpoints/", {"account": alice_account.pk, "kind": "call", "summary": "Hi"}),
    ]:
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 403, url
        assert "read-only" in response.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/accounts/{pk}/",
        "/api/v1/accounts/by-external-id/{external_id}/",
        "/api/v1/contacts/{contact}/",
    ],
)
def test_csm_token_gets_404_for_another_portfolio(client_for, alice, bob_account, path):
    from tests.factories import ContactFactory

    bob_account.external_id = "crm-bob"
    bob_account.save()
    contact = ContactFactory(account=bob_account)
    url = path.format(pk=bob_account.pk, external_id="crm-bob", contact=contact.pk)
    client = client_for(alice)
    assert client.get(url).status_code == 404
    assert client.patch(url, {"name": "Mine now"}, format="json").status_code in (404, 405)


def test_csm_token_cannot_change_another_portfolios_account(client_for, alice, bob_account):
    client = client_for(alice)
    assert (
        client.patch(f"/api/v1/accounts/{bob_account.pk}/", {"plan": "x"}, format="json").status_code == 404
    )
    bob_account.external_id = "crm-bob"
    bob_account.save()
    response = client.put("/api/v1/accounts/by-external-id/crm-bob/", NEW_ACCOUNT, format="json")
    assert response.status_code == 404
    bob_account.refresh_from_db()
    assert bob_account.name == "Bravo Logistics"


def test_csm_token_lists_only_own_accounts_and_their_rows(client_for, alice, alice_account, bob_account):
    from tests.factories import MrrMovementFactory, TouchpointFactory, UsageEventFactory

    for account in (alice_account, bob_account):
        UsageEventFactory(account=account)
        TouchpointFactory(account=account)
        MrrMovementFactory(account=account)
    client = client_for(alice)
    ids = [row["id"] for row in client.get("/api/v1/accounts/").json()["results"]]
    assert ids == [alice_account.pk]
    for url in ("/api/v1/usage-events/", "/api/v1/touchpoints/", "/api/v1/mrr-movements/"):
        rows = client.get(url).json()["results"]
        assert {row["account"] for row in rows} == {alice_account.pk}, url


def test_csm_cannot_ingest_into_or_log_on_another_portfolio(client_for, alice, bob_account):
    client = client_for(alice)
    response = client.post(
        "/api/v1/usage-events/bulk/",
        {"events": [{"account": bob_account.pk, "name": "x", "occurred_at": "2026-01-01T00:00:00Z"}]},
        format="json",
    )
    assert response.json()["accepted"] == 0
    assert response.json()["rejected"][0]["errors"] == {
        "account": "No account with this id in your portfolio."
    }
    response = client.post(
        "/api/v1/touchpoints/", {"account": bob_account.pk, "kind": "call", "summary": "x"}, format="json"
    )
    assert response.status_code == 400
    assert "account" in response.json()["errors"]


def test_manager_token_sees_and_changes_every_portfolio(client_for, carol, alice_account, bob_account):
    client = client_for(carol)
    ids = {row["id"] for row in client.get("/api/v1/accounts/").json()["results"]}
    assert ids == {alice_account.pk, bob_account.pk}
    response = client.patch(f"/api/v1/accounts/{bob_account.pk}/", {"plan": "Enterprise"}, format="json")
    assert response.status_code == 200
    assert response.json()["plan"] == "Enterprise"


def test_csm_creates_own_accounts_and_cannot_give_them_away(client_for, alice, bob, alice_account):
    client = client_for(alice)
    response = client.post("/api/v1/accounts/", NEW_ACCOUNT, format="json")
    assert response.status_code == 201
    assert response.json()["owner"] == alice.email
    response = client.patch(f"/api/v1/accounts/{alice_account.pk}/", {"owner": bob.email}, format="json")
    assert response.status_code == 400
    assert "owner" in response.json()["errors"]


def test_manager_may_reassign_by_owner_email(client_for, carol, bob, alice_account):
    response = client_for(carol).patch(
        f"/api/v1/accounts/{alice_account.pk}/", {"owner": bob.email.upper()}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["owner"] == bob.email


def test_session_login_works_for_the_browsable_api(client, alice, alice_account):
    client.force_login(alice)
    response = client.get("/api/v1/accounts/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"Alpha Industries" in response.content
    # Session writes need the CSRF token, like any form.
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    response = strict.post("/api/v1/accounts/", NEW_ACCOUNT, content_type="application/json")
    assert response.status_code == 403


def test_token_records_last_use(alice, client_for):
    client = client_for(alice)
    assert ApiToken.objects.get().last_used_at is None
    client.get("/api/v1/accounts/")
    assert ApiToken.objects.get().last_used_at is not None


def test_browsable_api_pages_render_for_staff(client, carol, alice_account):
    from tests.factories import ContactFactory, TouchpointFactory, UsageEventFactory

    alice_account.external_id = "crm-a"
    alice_account.save()
    contact = ContactFactory(account=alice_account)
    touchpoint = TouchpointFactory(account=alice_account)
    event = UsageEventFactory(account=alice_account)
    client.force_login(carol)
    for url in (
        "/api/v1/",
        "/api/v1/accounts/",
        f"/api/v1/accounts/{alice_account.pk}/",
        "/api/v1/accounts/by-external-id/crm-a/",
        "/api/v1/contacts/",
        f"/api/v1/contacts/{contact.pk}/",
        "/api/v1/mrr-movements/",
        "/api/v1/touchpoints/",
        f"/api/v1/touchpoints/{touchpoint.pk}/",
        "/api/v1/usage-events/",
        f"/api/v1/usage-events/{event.pk}/",
    ):
        response = client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/html"), url


def test_v1_index_links_every_resource(carol_api):
    links = carol_api.get("/api/v1/").json()
    assert set(links) >= {
        "accounts",
        "contacts",
        "mrr-movements",
        "touchpoints",
        "usage-events",
        "schema",
        "docs",
    }
