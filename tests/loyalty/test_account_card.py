"""The account 360's rewards card: points, tier, lifetime points and pending redemptions, each in
its place (the card's one query names its columns in an order the page must follow)."""

import re

import pytest
from django.urls import reverse

from loyalty import services

from .factories import RewardFactory
from .helpers import give

pytestmark = pytest.mark.django_db


def card_facts(client, account) -> dict[str, str]:
    html = client.get(reverse("accounts:side", args=[account.pk]), headers={"HX-Request": "true"}).content
    card = html.decode().split('class="card loyalty-card"', 1)[1].split("</section>", 1)[0]
    return {
        term: re.sub(r"<[^>]+>", "", value).strip()
        for term, value in re.findall(r"<dt>([^<]+)</dt><dd[^>]*>(.*?)</dd>", card)
    }


def test_the_card_shows_each_figure_under_its_heading(client, alice, alice_account):
    give(alice_account, 250)
    for cost in (40, 60):
        services.redemption_request(account=alice_account, reward=RewardFactory(cost=cost), by=alice)
    client.force_login(alice)
    facts = card_facts(client, alice_account)
    assert facts["Points"] == "150"
    assert facts["Lifetime"] == "250"
    assert facts["Pending redemptions"] == "2"
    assert facts["Tier"] == alice_account.get_tier_display()
