"""Ledger arithmetic and idempotent awards: the same event never awards twice."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from loyalty import services
from loyalty.models import EarnEvent, LedgerEntry, PointsBalance

from .helpers import give, rule

pytestmark = pytest.mark.django_db


def test_same_idempotency_key_awards_once(alice_account):
    rule(EarnEvent.WEBINAR_ATTENDED, 25)
    first = services.points_award_for_event(
        account=alice_account, event="webinar_attended", source="webinar:9", idempotency_key="webinar:9:a"
    )
    again = services.points_award_for_event(
        account=alice_account, event="webinar_attended", source="webinar:9", idempotency_key="webinar:9:a"
    )
    assert first.pk == again.pk
    assert LedgerEntry.objects.filter(account=alice_account).count() == 1
    assert PointsBalance.objects.get(account=alice_account).balance == 25


def test_database_refuses_a_duplicate_key(alice_account):
    give(alice_account, 10, key="k1")
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            account=alice_account, kind="earn", points=5, balance_after=15, reason="x", idempotency_key="k1"
        )


def test_balance_and_lifetime_follow_the_ledger(alice_account, carol):
    give(alice_account, 300, by=carol)
    services.points_adjust(account=alice_account, points=-100, reason="correction", by=carol)
    balance = PointsBalance.objects.get(account=alice_account)
    assert (balance.balance, balance.lifetime) == (200, 200)
    assert [e.balance_after for e in LedgerEntry.objects.filter(account=alice_account).order_by("id")] == [
        300,
        200,
    ]
    PointsBalance.objects.filter(account=alice_account).update(balance=7, lifetime=7)
    rebuilt = services.balance_rebuild(account=alice_account)
    assert (rebuilt.balance, rebuilt.lifetime) == (200, 200)


def test_database_refuses_a_negative_balance(alice_account):
    give(alice_account, 10)
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsBalance.objects.filter(account=alice_account).update(balance=-1)


def test_adjustment_below_zero_is_refused_and_writes_nothing(alice_account, carol):
    give(alice_account, 10, by=carol)
    with pytest.raises(ValidationError) as exc:
        services.points_adjust(account=alice_account, points=-11, reason="too much", by=carol)
    assert "points" in exc.value.message_dict
    assert LedgerEntry.objects.filter(account=alice_account).count() == 1


def test_adjustment_needs_reason_and_a_manager(alice_account, alice, carol):
    with pytest.raises(ValidationError) as exc:
        services.points_adjust(account=alice_account, points=5, reason="  ", by=carol)
    assert "reason" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        services.points_adjust(account=alice_account, points=5, reason="gift", by=alice)
    entry = services.points_adjust(account=alice_account, points=5, reason="gift", by=carol)
    assert entry.created_by == carol and entry.reason == "gift"


def test_no_rule_no_points(alice_account):
    from loyalty.models import EarnRule

    EarnRule.objects.filter(event="renewal").update(is_active=False)
    assert (
        services.points_award_for_event(
            account=alice_account, event="renewal", source="x", idempotency_key="renewal:1"
        )
        is None
    )
