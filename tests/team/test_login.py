"""Logging in with an email address, throttling against guessing, logging out, CSRF."""

from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD

LOGIN = reverse("team:login")


def test_login_with_email_lands_on_my_dashboard(client, alice):
    response = client.post(LOGIN, {"username": "Alice@Staff.Example", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboards:home")
    html = response.content.decode()
    assert "My dashboard" in html and "My portfolio" in html


def test_manager_lands_on_all_accounts(client, carol):
    response = client.post(LOGIN, {"username": carol.email, "password": PASSWORD}, follow=True)
    assert "All accounts" in response.content.decode()


def test_wrong_password_shows_a_clear_message(client, alice):
    response = client.post(LOGIN, {"username": alice.email, "password": "nope"})
    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()


def test_bad_email_is_a_field_error(client, db):
    response = client.post(LOGIN, {"username": "not-an-email", "password": "x"})
    assert "Enter a valid email address." in response.content.decode()


def test_login_is_throttled_after_repeated_failures(client, alice, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post(LOGIN, {"username": alice.email, "password": "guess"})
    response = client.post(LOGIN, {"username": alice.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_needs_post(client, alice):
    client.force_login(alice)
    assert client.get(reverse("team:logout")).status_code == 405
    response = client.post(reverse("team:logout"))
    assert response.status_code == 302
    assert client.get(reverse("accounts:portfolio")).status_code == 302


def test_forms_need_a_csrf_token(alice, alice_account):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(alice)
    url = reverse("accounts:touchpoint_create", args=[alice_account.pk])
    assert (
        csrf_client.post(url, {"kind": "call", "summary": "x"}, headers={"HX-Request": "true"}).status_code
        == 403
    )
    page = csrf_client.get(reverse("accounts:detail", args=[alice_account.pk])).content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in page


def test_me_page(client, alice, alice_account):
    client.force_login(alice)
    html = client.get(reverse("team:me")).content.decode()
    assert "Alice Archer" in html and "alice@staff.example" in html and ">1<" in html


def test_pages_send_security_headers(client, alice):
    client.force_login(alice)
    response = client.get(reverse("accounts:portfolio"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
