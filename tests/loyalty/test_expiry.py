"""Expiry: oldest points first, a nightly entry per account, and a warning email 14 days ahead."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from loyalty import services
from loyalty.models import LedgerEntry, PointsBalance
from tests.factories import ContactFactory

from .factories import RewardFactory
from .helpers import give

pytestmark = pytest.mark.django_db


def earn_on(account, points, day, key):
    entry = give(account, points, key=key)
    LedgerEntry.objects.filter(pk=entry.pk).update(
        created_at=timezone.make_aware(dt.datetime.combine(day, dt.time(12))),
        expires_on=services.add_months(day, 12),
    )
    return entry


def test_spending_consumes_the_oldest_points_first(alice_account, settings):
    settings.LOYALTY_POINTS_EXPIRE_MONTHS = 12
    earn_on(alice_account, 100, dt.date(2025, 1, 10), "a")
    earn_on(alice_account, 50, dt.date(2025, 6, 10), "b")
    services.redemption_request(account=alice_account, reward=RewardFactory(cost=80))
    # On 2026-01-10 the first 100 expire, 80 of which were already spent: 20 expire.
    assert services.points_expire(day=dt.date(2026, 1, 9)) == 0
    assert services.points_expire(day=dt.date(2026, 1, 10)) == 1
    expired = LedgerEntry.objects.get(account=alice_account, kind="expire")
    assert expired.points == -20
    assert PointsBalance.objects.get(account=alice_account).balance == 50
    assert services.points_expire(day=dt.date(2026, 1, 11)) == 0  # nothing more until June
    assert services.points_expire(day=dt.date(2026, 6, 10)) == 1
    assert PointsBalance.objects.get(account=alice_account).balance == 0
    assert services.points_expire(day=dt.date(2026, 6, 10)) == 0  # idempotent


def test_refunded_points_count_as_unspent(alice_account, carol):
    earn_on(alice_account, 100, dt.date(2025, 1, 10), "a")
    redemption = services.redemption_request(account=alice_account, reward=RewardFactory(cost=100))
    services.redemption_reject(redemption=redemption, by=carol, note="no")
    services.points_expire(day=dt.date(2026, 1, 10))
    assert LedgerEntry.objects.get(account=alice_account, kind="expire").points == -100


def test_warning_email_14_days_ahead_once(alice_account, django_capture_on_commit_callbacks):
    ContactFactory(account=alice_account, role="champion", email="champ@alpha.example")
    ContactFactory(account=alice_account, role="user", email="user@alpha.example")
    earn_on(alice_account, 120, dt.date(2025, 3, 20), "a")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.points_expiry_warn(day=dt.date(2026, 3, 5)) == 0  # 15 days ahead: not yet
        assert services.points_expiry_warn(day=dt.date(2026, 3, 6)) == 1
        assert services.points_expiry_warn(day=dt.date(2026, 3, 7)) == 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["champ@alpha.example"]
    assert "120" in message.subject and "2026-03-20" in message.subject
    assert "/rewards/" in message.body


def test_nightly_task_runs_all_three(alice_account, settings):
    from loyalty.tasks import loyalty_nightly_task

    earn_on(alice_account, 10, dt.date(2020, 1, 1), "old")
    result = loyalty_nightly_task.apply().get()
    assert result["expired"] == 1
    assert PointsBalance.objects.get(account=alice_account).balance == 0
