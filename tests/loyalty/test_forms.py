"""Bad input on every loyalty form: a message next to the field, nothing written, never a 500."""

import pytest
from django.urls import reverse

from loyalty.models import AdvocacyAsk, LedgerEntry, MemberLink
from tests.factories import ContactFactory

from .factories import RewardFactory
from .helpers import give

pytestmark = pytest.mark.django_db


def test_redeem_form_errors(client, alice, alice_account):
    client.force_login(alice)
    url = reverse("loyalty:redeem", args=[alice_account.pk])
    response = client.post(url, {"reward": "999999"})
    assert response.status_code == 422 and "reward" in response.context["request_form"].errors
    RewardFactory(cost=500, name="Big")
    reward = RewardFactory(cost=500)
    response = client.post(url, {"reward": reward.pk})
    assert response.status_code == 422 and "Not enough points" in response.content.decode()
    other = ContactFactory()
    response = client.post(url, {"reward": reward.pk, "contact": other.pk})
    assert response.status_code == 422 and "contact" in response.context["request_form"].errors
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    "data, field",
    [
        ({"points": "", "reason": "x"}, "points"),
        ({"points": "0", "reason": "x"}, "points"),
        ({"points": "abc", "reason": "x"}, "points"),
        ({"points": "5", "reason": ""}, "reason"),
        ({"points": "99999999999", "reason": "x"}, "points"),
        ({"points": "-5", "reason": "x"}, "points"),
    ],
)
def test_adjust_form_errors(client, carol, alice_account, data, field):
    client.force_login(carol)
    response = client.post(reverse("loyalty:adjust", args=[alice_account.pk]), data)
    assert response.status_code == 422
    assert field in response.context["adjust_form"].errors
    assert not LedgerEntry.objects.exists()


def test_link_form_errors(client, alice, alice_account):
    client.force_login(alice)
    response = client.post(reverse("loyalty:link_create", args=[alice_account.pk]), {"kind": "bogus"})
    assert response.status_code == 422 and "kind" in response.context["link_form"].errors
    other = ContactFactory()
    response = client.post(
        reverse("loyalty:link_create", args=[alice_account.pk]), {"kind": "referral", "contact": other.pk}
    )
    assert response.status_code == 422 and "contact" in response.context["link_form"].errors
    assert not MemberLink.objects.exists()


def test_advocacy_form_errors_and_flow(client, alice, alice_account, bob_account):
    mine = ContactFactory(account=alice_account)
    theirs = ContactFactory(account=bob_account)
    client.force_login(alice)
    url = reverse("loyalty:advocacy")
    response = client.post(url, {"contact": theirs.pk, "kind": "review"})
    assert response.status_code == 422 and "contact" in response.context["form"].errors
    response = client.post(url, {"contact": mine.pk, "kind": "nonsense"})
    assert response.status_code == 422 and "kind" in response.context["form"].errors
    assert client.post(url, {"contact": mine.pk, "kind": "review"}).status_code == 302
    response = client.post(url, {"contact": mine.pk, "kind": "review"})
    assert response.status_code == 422 and "open ask" in response.content.decode()
    ask = AdvocacyAsk.objects.get()
    bad = client.post(
        reverse("loyalty:ask_update", args=[ask.pk]), {"status": "done", "link": "not a url"}, follow=True
    )
    assert "Enter a valid URL" in bad.content.decode()
    client.post(
        reverse("loyalty:ask_update", args=[ask.pk]), {"status": "done", "link": "https://g2.example/r/1"}
    )
    ask.refresh_from_db()
    assert ask.status == "done"
    assert LedgerEntry.objects.get(account=alice_account).event == "review_published"
    assert (
        client.post(
            reverse("loyalty:ask_update", args=[ask.pk]), {"status": "declined"}, follow=True
        ).status_code
        == 200
    )
    ask.refresh_from_db()
    assert ask.status == "done"


def test_other_csms_ask_is_404(client, alice, bob_account, bob):
    ask = AdvocacyAsk.objects.create(contact=ContactFactory(account=bob_account), kind="review", asked_by=bob)
    client.force_login(alice)
    assert (
        client.post(reverse("loyalty:ask_update", args=[ask.pk]), {"status": "declined"}).status_code == 404
    )


def test_public_rewards_bad_input(client, alice_account):
    from loyalty import services

    give(alice_account, 10)
    link = services.member_link_get(account=alice_account, kind="rewards")
    response = client.post(link.get_absolute_url(), {"reward": "abc"})
    assert response.status_code == 422
    assert not alice_account.redemptions.exists()
