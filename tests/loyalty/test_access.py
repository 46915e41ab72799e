"""Access: a CSM sees and acts on their own portfolio's points only; managers approve."""

import pytest
from django.urls import reverse

from loyalty import services
from loyalty.models import LedgerEntry, LinkKind, RedemptionStatus
from tests.account_page import account_360_html
from tests.factories import ContactFactory

from .factories import ReferralFactory, RewardFactory
from .helpers import give

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob_redemption(bob_account):
    give(bob_account, 500)
    return services.redemption_request(account=bob_account, reward=RewardFactory(cost=100))


def test_other_csms_points_page_and_actions_are_404(client, alice, bob_account, bob_redemption):
    client.force_login(alice)
    assert client.get(reverse("loyalty:account", args=[bob_account.pk])).status_code == 404
    assert (
        client.post(
            reverse("loyalty:redeem", args=[bob_account.pk]), {"reward": bob_redemption.reward_id}
        ).status_code
        == 404
    )
    assert (
        client.post(reverse("loyalty:link_create", args=[bob_account.pk]), {"kind": "referral"}).status_code
        == 404
    )
    assert client.get(reverse("loyalty:redemption", args=[bob_redemption.pk])).status_code == 404
    page = client.get(reverse("loyalty:redemptions"))
    assert bob_redemption.reward.name not in page.content.decode()


def test_other_csms_referral_is_404(client, alice, bob_account):
    referral = ReferralFactory(link__account=bob_account)
    client.force_login(alice)
    assert client.get(reverse("loyalty:referral", args=[referral.pk])).status_code == 404
    assert "Prospect" not in client.get(reverse("loyalty:referrals")).content.decode()


def test_csm_cannot_approve_or_adjust_but_manager_can(client, alice, carol, alice_account):
    give(alice_account, 300)
    redemption = services.redemption_request(account=alice_account, reward=RewardFactory(cost=100), by=alice)
    client.force_login(alice)
    url = reverse("loyalty:redemption", args=[redemption.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"action": "approve"}).status_code == 403
    assert (
        client.post(
            reverse("loyalty:adjust", args=[alice_account.pk]), {"points": 5, "reason": "x"}
        ).status_code
        == 403
    )
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.PENDING
    client.force_login(carol)
    assert client.post(url, {"action": "approve"}).status_code == 302
    redemption.refresh_from_db()
    assert redemption.status == RedemptionStatus.APPROVED and redemption.decided_by == carol


def test_no_role_is_403_and_anonymous_to_login(client, charlie, alice_account):
    url = reverse("loyalty:account", args=[alice_account.pk])
    assert client.get(url).status_code == 302
    client.force_login(charlie)
    assert client.get(url).status_code == 403
    assert client.get(reverse("loyalty:overview")).status_code == 403


def test_public_referral_page_reveals_only_the_inviting_company(client, alice_account):
    contact = ContactFactory(account=alice_account, name="Secret Person", email="secret@alpha.example")
    give(alice_account, 4321)
    link = services.member_link_get(account=alice_account, contact=contact, kind=LinkKind.REFERRAL)
    html = client.get(link.get_absolute_url()).content.decode()
    assert alice_account.name in html
    for secret in ("4,321", "4321", "Secret Person", "secret@alpha.example", alice_account.owner.email):
        assert secret not in html


def test_referral_token_does_not_open_the_rewards_page(client, alice_account):
    link = services.member_link_get(account=alice_account, kind=LinkKind.REFERRAL)
    assert client.get(reverse("loyalty_public:rewards", args=[link.token])).status_code == 404
    assert client.get(reverse("loyalty_public:referral", args=["nope"])).status_code == 404
    assert client.get(reverse("loyalty_public:referral", args=["x" * 300])).status_code == 404


def test_rewards_page_shows_only_its_account(client, alice_account, bob_account):
    give(alice_account, 1234)
    give(bob_account, 9876)
    link = services.member_link_get(
        account=alice_account, kind=LinkKind.REWARDS, contact=ContactFactory(account=alice_account)
    )
    html = client.get(link.get_absolute_url()).content.decode()
    assert "1,234" in html and "9,876" not in html and bob_account.name not in html


def test_customer_requests_a_reward_on_the_rewards_page(client, alice_account):
    give(alice_account, 150)
    reward = RewardFactory(cost=100, name="Coffee card")
    contact = ContactFactory(account=alice_account)
    link = services.member_link_get(account=alice_account, kind=LinkKind.REWARDS, contact=contact)
    response = client.post(link.get_absolute_url(), {"reward": reward.pk}, follow=True)
    assert "request is with our team" in response.content.decode()
    redemption = alice_account.redemptions.get()
    assert redemption.channel == "customer" and redemption.contact == contact
    again = client.post(link.get_absolute_url(), {"reward": reward.pk})
    assert again.status_code == 422
    assert LedgerEntry.objects.filter(account=alice_account).count() == 2


def test_account_360_shows_the_rewards_card(client, alice, alice_account):
    give(alice_account, 1500)
    client.force_login(alice)
    html = account_360_html(client, alice_account)
    assert "1,500" in html and reverse("loyalty:account", args=[alice_account.pk]) in html
