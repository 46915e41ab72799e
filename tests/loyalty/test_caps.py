"""Earn rules cap the points an account earns per day, month and year."""

import datetime as dt

import pytest
from django.utils import timezone

from loyalty import services
from loyalty.models import LedgerEntry

from .helpers import rule

pytestmark = pytest.mark.django_db


def award(account, n):
    return services.points_award_for_event(
        account=account,
        event="webinar_attended",
        source=f"webinar:{n}",
        idempotency_key=f"webinar:{account.pk}:{n}",
    )


def test_daily_cap_trims_then_stops(alice_account):
    rule("webinar_attended", 30, cap_per_day=50)
    assert award(alice_account, 1).points == 30
    assert award(alice_account, 2).points == 20  # only 20 left today
    assert award(alice_account, 3) is None
    assert sum(LedgerEntry.objects.filter(account=alice_account).values_list("points", flat=True)) == 50


def test_monthly_and_yearly_caps_count_earlier_days(alice_account):
    rule("webinar_attended", 30, cap_per_month=60, cap_per_year=1000)
    first = award(alice_account, 1)
    earlier = timezone.localtime().replace(day=1, hour=0, minute=1)
    LedgerEntry.objects.filter(pk=first.pk).update(created_at=earlier)
    assert award(alice_account, 2).points == 30
    assert award(alice_account, 3) is None  # 60 this month already


def test_last_years_points_do_not_count(alice_account):
    rule("webinar_attended", 30, cap_per_year=30)
    first = award(alice_account, 1)
    LedgerEntry.objects.filter(pk=first.pk).update(created_at=timezone.now() - dt.timedelta(days=400))
    assert award(alice_account, 2).points == 30


def test_caps_are_per_account(alice_account, bob_account):
    rule("webinar_attended", 30, cap_per_day=30)
    assert award(alice_account, 1).points == 30
    assert award(bob_account, 1).points == 30
