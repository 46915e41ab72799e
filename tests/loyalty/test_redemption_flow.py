"""Redemption: points held on request, approved or rejected by a manager, fulfilled or returned; stock."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from loyalty import services
from loyalty.models import PointsBalance, RedemptionStatus

from .factories import RewardFactory
from .helpers import give

pytestmark = pytest.mark.django_db


def balance(account):
    return PointsBalance.objects.get(account=account).balance


def test_hold_approve_fulfil(alice_account, alice, carol):
    give(alice_account, 250)
    reward = RewardFactory(cost=100, stock=2)
    redemption = services.redemption_request(account=alice_account, reward=reward, by=alice)
    reward.refresh_from_db()
    assert (balance(alice_account), reward.stock, redemption.status) == (150, 1, RedemptionStatus.PENDING)
    with pytest.raises(PermissionDenied):
        services.redemption_approve(redemption=redemption, by=alice)
    services.redemption_approve(redemption=redemption, by=carol)
    with pytest.raises(ValidationError):
        services.redemption_fulfil(redemption=redemption, by=carol, code="", notes="")
    done = services.redemption_fulfil(redemption=redemption, by=carol, code="GIFT-123")
    assert done.status == RedemptionStatus.FULFILLED and done.fulfilment_code == "GIFT-123"
    assert balance(alice_account) == 150


def test_reject_returns_points_and_stock_once(alice_account, carol):
    give(alice_account, 100)
    reward = RewardFactory(cost=100, stock=1)
    redemption = services.redemption_request(account=alice_account, reward=reward)
    with pytest.raises(ValidationError) as exc:
        services.redemption_reject(redemption=redemption, by=carol, note="")
    assert "note" in exc.value.message_dict
    services.redemption_reject(redemption=redemption, by=carol, note="Out of season")
    reward.refresh_from_db()
    assert (balance(alice_account), reward.stock) == (100, 1)
    with pytest.raises(ValidationError):
        services.redemption_reject(redemption=redemption, by=carol, note="again")
    assert balance(alice_account) == 100


def test_approved_then_returned(alice_account, carol):
    give(alice_account, 100)
    redemption = services.redemption_request(account=alice_account, reward=RewardFactory(cost=60))
    services.redemption_approve(redemption=redemption, by=carol)
    returned = services.redemption_reject(redemption=redemption, by=carol, note="Supplier failed")
    assert returned.status == RedemptionStatus.RETURNED and balance(alice_account) == 100


def test_refusals_write_nothing(alice_account):
    give(alice_account, 50)
    with pytest.raises(ValidationError, match="Not enough points"):
        services.redemption_request(account=alice_account, reward=RewardFactory(cost=60))
    with pytest.raises(ValidationError, match="out of stock"):
        services.redemption_request(account=alice_account, reward=RewardFactory(cost=10, stock=0))
    with pytest.raises(ValidationError, match="not available"):
        services.redemption_request(account=alice_account, reward=RewardFactory(cost=10, is_active=False))
    limited = RewardFactory(cost=10, per_account_limit=1)
    services.redemption_request(account=alice_account, reward=limited)
    with pytest.raises(ValidationError, match="limit"):
        services.redemption_request(account=alice_account, reward=limited)
    assert balance(alice_account) == 40 and alice_account.redemptions.count() == 1


def test_manager_approves_through_the_page(client, carol, alice_account):
    give(alice_account, 100)
    redemption = services.redemption_request(account=alice_account, reward=RewardFactory(cost=100))
    client.force_login(carol)
    url = f"/loyalty/redemptions/{redemption.pk}/"
    bad = client.post(url, {"action": "reject", "note": ""})
    assert bad.status_code == 422 and "Say why" in bad.content.decode()
    assert client.post(url, {"action": "approve"}).status_code == 302
    bad = client.post(url, {"action": "fulfil", "code": "", "notes": ""})
    assert bad.status_code == 422 and "Enter the code" in bad.content.decode()
    assert client.post(url, {"action": "fulfil", "code": "ABC"}).status_code == 302
    redemption.refresh_from_db()
    assert redemption.status == "fulfilled"
