"""Unsubscribing: every email carries List-Unsubscribe and List-Unsubscribe-Post (RFC 8058); a GET
shows a confirmation page and changes nothing (scanners follow links); a POST — the page's button
or a mail provider's one-click request, without a CSRF token — puts the address on the list."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from feedback.emails import build_message
from feedback.models import Suppression
from tests.factories import AccountFactory, ContactFactory

from . import factories as f


@pytest.fixture
def invitation(alice):
    contact = ContactFactory(
        account=AccountFactory(owner=alice), email="Dana@Customer.example", language="tr"
    )
    return f.invitation(contact=contact, campaign_obj=f.campaign(by=alice))


def test_the_email_offers_one_click_unsubscribe(invitation):
    message = build_message(invitation, invitation.campaign.survey)
    link = f"http://127.0.0.1:8000/s/{invitation.token}/unsubscribe/"
    assert message.extra_headers["List-Unsubscribe"] == f"<{link}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in message.body


def test_a_get_only_asks(client, invitation):
    page = client.get(reverse("feedback_public:unsubscribe", args=[invitation.token]))
    assert page.status_code == 200
    assert not Suppression.objects.exists()
    assert 'method="post"' in page.content.decode()
    assert page["Content-Language"] == "tr"  # the contact's language


def test_one_click_post_without_csrf_unsubscribes(invitation):
    provider = Client(enforce_csrf_checks=True)
    result = provider.post(
        reverse("feedback_public:unsubscribe", args=[invitation.token]),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert result.status_code == 200
    assert list(Suppression.objects.values_list("email", "reason")) == [
        ("dana@customer.example", "unsubscribed")
    ]
    assert provider.post(reverse("feedback_public:unsubscribe", args=[invitation.token])).status_code == 200
    assert Suppression.objects.count() == 1
    again = provider.get(reverse("feedback_public:unsubscribe", args=[invitation.token]), {"lang": "en"})
    assert b"You are unsubscribed" in again.content


def test_an_unknown_token_unsubscribes_nobody(client, db):
    assert client.post("/s/nope-nope-nope-nope-nope/unsubscribe/").status_code == 404
    assert not Suppression.objects.exists()
