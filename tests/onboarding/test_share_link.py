"""The customer's shared plan: an unguessable link (no login) that shows only that plan's
progress, customer-side milestones and success criteria, read-only, in the contact's
language; unknown, forged and revoked links are all the same 404."""

from __future__ import annotations

import hmac
import math

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from onboarding import services
from onboarding.models import ShareLink
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _url(token: str) -> str:
    return reverse("onboarding:shared", args=[token])


@pytest.fixture
def shared(plan, alice, alice_account):
    contact = ContactFactory(account=alice_account, name="Tuna Yılmaz", language="tr")
    services.plan_expectations_set(plan=plan, expectations="INTERNAL: they are price sensitive")
    services.milestone_status_set(
        milestone=plan.milestones.get(name="Data connected"),
        status="blocked",
        blocked_reason="SECRET blocker",
    )
    services.milestone_status_set(
        milestone=plan.milestones.get(name="Kick-off call"), status="done", done_on=timezone.localdate()
    )
    services.criterion_add(
        plan=plan,
        data={
            "metric": "Weekly active users",
            "unit": "users",
            "baseline": "5",
            "target": "50",
            "current": "20",
        },
    )
    link = services.share_link_create(plan=plan, by=alice, contact=contact)
    return link, services.share_link_token(link)


def test_token_is_long_random_and_not_stored(shared):
    link, token = shared
    selector, verifier = token.split(".")
    # 16 url-safe characters of selector (96 random bits) and a 43-character HMAC-SHA256 (256 bits).
    assert len(selector) == 16 and len(verifier) == 43
    assert len(verifier) * math.log2(64) >= 128
    columns = [f.attname for f in ShareLink._meta.concrete_fields]
    stored = " ".join(str(v) for v in ShareLink.objects.filter(pk=link.pk).values_list(*columns).get())
    assert verifier not in stored  # the secret part is derived with the site's key, never stored
    services.share_link_revoke(link=link, by=None)
    again = services.share_link_token(services.share_link_create(plan=link.plan, by=None))
    assert again.split(".")[0] != selector and again.split(".")[1] != verifier


def test_secret_is_compared_in_constant_time(shared, client, monkeypatch):
    _link, token = shared
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr("onboarding.services.hmac.compare_digest", spy)
    assert client.get(_url(token)).status_code == 200
    assert len(calls) == 1
    assert services.share_link_resolve(token=token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert len(calls) == 2


def test_page_shows_only_that_plan_read_only_and_in_the_contacts_language(shared, client, bob_plan, bob):
    services.share_link_create(plan=bob_plan, by=bob)
    _link, token = shared
    response = client.get(_url(token))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="tr">' in html
    assert "Başlangıç ilerlemesi: 4 kilometre taşından 1 tanesi tamamlandı." in html
    assert "Sizin adımlarınız" in html and "Başarı ölçütleri" in html
    assert "Alpha Industries" in html and "Test onboarding" in html
    # The customer-side milestones and the criteria, and nothing else:
    assert "Data connected" in html and "First report live" in html
    assert "Weekly active users" in html
    assert "Kick-off call" not in html and "Value review" not in html  # CSM-side
    for secret in ("SECRET blocker", "INTERNAL", "price sensitive", "Alice", "alice@", "Bravo Logistics"):
        assert secret not in html
    assert "<form" not in html and "csrf" not in html.lower()
    assert "no-store" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "no-referrer"
    english = client.get(_url(token), {"lang": "en"}).content.decode()
    assert "Onboarding progress: 1 of 4 milestones done." in english
    chinese = client.get(_url(token), {"lang": "zh-hant"}).content.decode()
    assert "您的步驟" in chinese
    _link.refresh_from_db()
    assert _link.views == 3 and _link.last_viewed_at is not None


def test_unknown_forged_and_revoked_links_are_the_same_404(shared, client, alice):
    link, token = shared
    forged = token.split(".")[0] + "." + "A" * 43
    for bad in (forged, "nope", "x" * 200, token.replace(".", ""), token + "x"):
        response = client.get(_url(bad))
        assert response.status_code == 404
        assert "This link does not work" in response.content.decode()
    services.share_link_revoke(link=link, by=alice)
    revoked = client.get(_url(token))
    assert revoked.status_code == 404
    assert "Alpha Industries" not in revoked.content.decode()
    assert services.share_link_resolve(token=token) is None


def test_revoking_from_the_plan_page_kills_the_link_and_a_new_one_differs(shared, client, alice):
    link, token = shared
    client.force_login(alice)
    page = client.get(reverse("onboarding:plan", args=[link.plan.account_id])).content.decode()
    assert token in page  # the CSM can copy it again
    response = client.post(reverse("onboarding:share_revoke", args=[link.pk]))
    assert response.status_code == 302
    client.logout()
    assert client.get(_url(token)).status_code == 404
    new = services.share_link_create(plan=link.plan, by=alice, language="zh-hant")
    assert services.share_link_token(new) != token
    assert client.get(_url(services.share_link_token(new))).status_code == 200


def test_one_active_link_per_plan_and_contacts_of_the_account_only(shared, bob_account):
    link, _token = shared
    with pytest.raises(ValidationError) as excinfo:
        services.share_link_create(plan=link.plan, by=None)
    assert "revoke it first" in str(excinfo.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        ShareLink.objects.create(plan=link.plan, selector="x" * 16)
    services.share_link_revoke(link=link, by=None)
    stranger = ContactFactory(account=bob_account)
    with pytest.raises(ValidationError) as excinfo:
        services.share_link_create(plan=link.plan, by=None, contact=stranger)
    assert excinfo.value.message_dict == {"contact": ["Choose a contact of this account."]}


def test_works_for_anonymous_visitors_and_logged_in_staff_alike(shared, client, bob):
    _link, token = shared
    assert client.get(_url(token)).status_code == 200
    client.force_login(bob)  # another CSM: the link grants the page, not the account
    html = client.get(_url(token)).content.decode()
    assert "Data connected" in html and "Log out" not in html
