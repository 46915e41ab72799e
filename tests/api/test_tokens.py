"""API tokens: managers create (shown once), list and revoke them in the app; admins in the admin."""

from __future__ import annotations

import re

from rest_framework.test import APIClient

from api.models import ApiToken, TokenScope
from api.services import token_digest


def _bearer(raw):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_manager_creates_a_token_shown_once_and_stored_hashed(client, carol, alice, alice_account):
    client.force_login(carol)
    assert client.get("/api/tokens/new/").status_code == 200
    response = client.post("/api/tokens/new/", {"name": "Usage feed", "user": alice.pk, "scope": "write"})
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    raw = re.search(r'value="(csp_[^"]+)"', response.content.decode()).group(1)
    token = ApiToken.objects.get()
    assert (token.user, token.scope, token.created_by) == (alice, TokenScope.WRITE, carol)
    assert token.digest == token_digest(raw) and raw not in token.digest
    assert raw not in client.get("/api/tokens/").content.decode()  # never shown again
    # It acts for alice: her portfolio only.
    ids = [row["id"] for row in _bearer(raw).get("/api/v1/accounts/").json()["results"]]
    assert ids == [alice_account.pk]


def test_token_form_shows_field_errors(client, carol):
    client.force_login(carol)
    response = client.post("/api/tokens/new/", {"name": "", "scope": "admin"})
    assert response.status_code == 422
    html = response.content.decode()
    assert html.count('class="error"') >= 3
    assert ApiToken.objects.count() == 0


def test_manager_revokes_after_confirming(client, carol, alice, make_token):
    raw = make_token(alice)
    token = ApiToken.objects.get()
    client.force_login(carol)
    page = client.get(f"/api/tokens/{token.pk}/revoke/")
    assert page.status_code == 200 and b"Revoke this token?" in page.content
    assert _bearer(raw).get("/api/v1/accounts/").status_code == 200
    response = client.post(f"/api/tokens/{token.pk}/revoke/", follow=True)
    assert b"is revoked" in response.content
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == carol
    assert _bearer(raw).get("/api/v1/accounts/").status_code == 401


def test_list_shows_last_use_and_status(client, carol, alice, make_token):
    raw = make_token(alice, name="CRM sync")
    _bearer(raw).get("/api/v1/accounts/")
    client.force_login(carol)
    html = client.get("/api/tokens/").content.decode()
    assert "CRM sync" in html and "never" not in html


def test_csms_and_people_without_a_role_cannot_manage_tokens(client, alice, charlie, make_token):
    make_token(alice)
    token = ApiToken.objects.get()
    for person in (alice, charlie):
        client.force_login(person)
        for url in ("/api/tokens/", "/api/tokens/new/", f"/api/tokens/{token.pk}/revoke/"):
            assert client.get(url).status_code == 403, (person, url)
        assert client.post(f"/api/tokens/{token.pk}/revoke/").status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None
    client.logout()
    assert client.get("/api/tokens/").status_code == 302  # to the login page


def test_admin_creates_a_token_and_shows_it_once(client, dave, bob):
    client.force_login(dave)
    response = client.post("/admin/api/apitoken/add/", {"name": "Script", "user": bob.pk, "scope": "read"})
    assert response.status_code == 200
    raw = re.search(r'value="(csp_[^"]+)"', response.content.decode()).group(1)
    token = ApiToken.objects.get()
    assert token.digest == token_digest(raw)
    assert _bearer(raw).get("/api/v1/accounts/").status_code == 200
    assert _bearer(raw).post("/api/v1/accounts/", {}, format="json").status_code == 403  # read only
    change = client.get(f"/admin/api/apitoken/{token.pk}/change/").content.decode()
    assert raw not in change


def test_admin_revokes_with_an_action(client, dave, bob, make_token):
    raw = make_token(bob)
    client.force_login(dave)
    token = ApiToken.objects.get()
    client.post("/admin/api/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}, follow=True)
    assert _bearer(raw).get("/api/v1/accounts/").status_code == 401


def test_command_issues_a_token_for_scripts(alice, alice_account, charlie):
    from io import StringIO

    import pytest
    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command(
        "create_api_token", "--user", "ALICE@staff.example", "--scope", "read", "--name", "Script", stdout=out
    )
    raw = out.getvalue().strip()
    assert raw.startswith("csp_")
    assert [r["id"] for r in _bearer(raw).get("/api/v1/accounts/").json()["results"]] == [alice_account.pk]
    with pytest.raises(CommandError, match="role"):
        call_command("create_api_token", "--user", charlie.email, "--name", "x")
    with pytest.raises(CommandError, match="No staff member"):
        call_command("create_api_token", "--user", "nobody@x.example", "--name", "x")


def test_admin_refuses_a_token_for_someone_without_a_role(client, dave, charlie):
    client.force_login(dave)
    response = client.post("/admin/api/apitoken/add/", {"name": "Nope", "user": charlie.pk, "scope": "read"})
    assert response.status_code == 200
    assert b"errornote" in response.content or b"errorlist" in response.content
    assert ApiToken.objects.count() == 0
