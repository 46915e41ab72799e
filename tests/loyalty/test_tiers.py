"""Tiers: up at once (on earning and nightly), down only after the grace period; history on the timeline."""

import datetime as dt

import pytest

from accounts.models import Account
from loyalty import services
from loyalty.models import PointsBalance, TierChange, TierRule
from tests.account_page import account_360_html

from .helpers import give

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def tiers(settings):
    settings.LOYALTY_TIER_GRACE_DAYS = 30
    TierRule.objects.all().delete()
    TierRule.objects.create(tier="silver", min_lifetime_points=1000)
    TierRule.objects.create(tier="gold", min_lifetime_points=5000, min_tenure_months=60)


def tier(account):
    return Account.objects.get(pk=account.pk).tier


def test_earning_moves_up_immediately(alice_account):
    give(alice_account, 999)
    assert tier(alice_account) == "bronze"
    give(alice_account, 1)
    assert tier(alice_account) == "silver"
    change = TierChange.objects.get(account_id=alice_account.pk)
    assert (change.from_tier, change.to_tier) == ("bronze", "silver")


def test_tenure_qualifies_nightly(alice_account):
    Account.objects.filter(pk=alice_account.pk).update(contract_start=dt.date(2019, 1, 1))
    report = services.tiers_evaluate(day=dt.date(2026, 6, 1))
    assert report.raised == 1 and tier(alice_account) == "gold"


def test_down_only_after_grace(alice_account):
    give(alice_account, 1200)
    assert tier(alice_account) == "silver"
    TierRule.objects.filter(tier="silver").update(min_lifetime_points=2000)  # the programme got stricter
    day = dt.date(2026, 6, 1)
    services.tiers_evaluate(day=day)
    assert tier(alice_account) == "silver"
    assert PointsBalance.objects.get(account=alice_account).tier_below_since == day
    services.tiers_evaluate(day=day + dt.timedelta(days=29))
    assert tier(alice_account) == "silver"
    report = services.tiers_evaluate(day=day + dt.timedelta(days=30))
    assert report.lowered == 1 and tier(alice_account) == "bronze"
    assert list(TierChange.objects.filter(account_id=alice_account.pk).values_list("to_tier", flat=True)) == [
        "bronze",
        "silver",
    ]


def test_requalifying_during_grace_cancels_the_move(alice_account):
    give(alice_account, 1200)
    TierRule.objects.filter(tier="silver").update(min_lifetime_points=2000)
    services.tiers_evaluate(day=dt.date(2026, 6, 1))
    TierRule.objects.filter(tier="silver").update(min_lifetime_points=1000)
    services.tiers_evaluate(day=dt.date(2026, 6, 2))
    assert PointsBalance.objects.get(account=alice_account).tier_below_since is None
    services.tiers_evaluate(day=dt.date(2026, 8, 1))
    assert tier(alice_account) == "silver"


def test_tier_history_on_the_account_timeline(client, alice, alice_account):
    give(alice_account, 1000)
    client.force_login(alice)
    html = account_360_html(client, alice_account)
    assert "Tier: Bronze → Silver" in html
