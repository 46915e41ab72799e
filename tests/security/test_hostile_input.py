"""Input is hostile: markup a customer or an import puts in a name is shown as text everywhere,
and an uploaded CSV too large to preview is refused by its size."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts import admin as accounts_admin
from accounts.models import Account
from loyalty import services as loyalty_services
from loyalty.models import LinkKind
from tests.factories import AccountFactory, ContactFactory, TouchpointFactory

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_markup_in_names_is_escaped_on_staff_and_public_pages(client, alice):
    account = AccountFactory(owner=alice, name="Evil " + XSS)
    ContactFactory(account=account, name=XSS)
    TouchpointFactory(account=account, summary=XSS)
    client.force_login(alice)
    pages = [
        reverse("accounts:portfolio"),
        reverse("accounts:portfolio") + "?q=Evil",
        reverse("accounts:detail", args=[account.pk]),
        reverse("accounts:timeline", args=[account.pk]),
        reverse("loyalty:account", args=[account.pk]),
    ]
    link = loyalty_services.member_link_get(account=account, kind=LinkKind.REFERRAL)
    for url in pages:
        html = client.get(url).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html, url
    client.logout()
    html = client.get(link.get_absolute_url()).content.decode()
    assert "Evil" in html and "<script>alert" not in html and "&lt;script&gt;" in html


def test_too_large_an_import_file_is_refused_by_size(admin_client, monkeypatch):
    monkeypatch.setattr(accounts_admin, "IMPORT_MAX_BYTES", 1024)
    content = "name,domain\n" + "Acme,acme.example\n" * 200  # ~3.6 KB
    response = admin_client.post(
        reverse("admin:accounts_account_import"),
        {
            "format": "0",
            "resource": "0",
            "import_file": SimpleUploadedFile("big.csv", content.encode(), content_type="text/csv"),
        },
    )
    assert response.status_code == 200
    assert "files up to" in response.content.decode()
    assert not Account.objects.exists()


def test_api_bodies_have_a_size_limit(client, settings, carol):
    settings.API_MAX_BODY_BYTES = 1000
    client.force_login(carol)
    response = client.post(
        "/api/v1/accounts/", data='{"name": "' + "x" * 5000 + '"}', content_type="application/json"
    )
    assert response.status_code == 413
