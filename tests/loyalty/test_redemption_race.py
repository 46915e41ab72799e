"""Fifty simultaneous redemptions against a balance that affords ten: exactly ten succeed.

Each thread uses its own database connection (Django's connections are per thread), so the
requests really do race in PostgreSQL; the row lock and CHECK (balance >= 0) decide.
"""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from loyalty import services
from loyalty.models import LedgerEntry, PointsBalance, Redemption
from tests.conftest import requires_postgres
from tests.factories import AccountFactory, UserFactory

from .factories import RewardFactory
from .helpers import give

pytestmark = [pytest.mark.django_db(transaction=True), requires_postgres]


def test_fifty_parallel_redemptions_exactly_ten_succeed():
    account = AccountFactory()
    give(account, 1000)
    reward = RewardFactory(cost=100, stock=None)
    requester = UserFactory(role="csm")
    barrier = threading.Barrier(50)
    outcomes: list[str] = []
    lock = threading.Lock()

    def redeem():
        try:
            barrier.wait()
            services.redemption_request(account=account, reward=reward, by=requester)
            result = "ok"
        except ValidationError:
            result = "refused"
        except Exception as exc:
            result = f"error: {exc!r}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=redeem) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert connection.vendor == "postgresql"
    assert sorted(set(outcomes)) == ["ok", "refused"], outcomes
    assert outcomes.count("ok") == 10
    assert Redemption.objects.filter(account=account).count() == 10
    assert PointsBalance.objects.get(account=account).balance == 0
    assert sum(LedgerEntry.objects.filter(account=account).values_list("points", flat=True)) == 0


def test_stock_race_never_oversells():
    reward = RewardFactory(cost=10, stock=3)
    accounts = [AccountFactory() for _ in range(12)]
    for account in accounts:
        give(account, 10)
    barrier = threading.Barrier(len(accounts))
    wins = []

    def redeem(account):
        try:
            barrier.wait()
            services.redemption_request(account=account, reward=reward)
            wins.append(account.pk)
        except ValidationError:
            pass
        finally:
            connections.close_all()

    threads = [threading.Thread(target=redeem, args=(a,)) for a in accounts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reward.refresh_from_db()
    assert len(wins) == 3 and reward.stock == 0
