"""The same award event arriving many times at once, on PostgreSQL: one entry, one credit; and
parallel redemption requests through the API.

Each thread has its own database connection, so the awards really race: the account's balance
row lock serialises them, and the key's unique index settles a race between two accounts.
"""

import threading
from collections import Counter

import pytest
from django.db import connections
from django.test import Client

from loyalty import services
from loyalty.models import LedgerEntry, PointsBalance
from tests.conftest import requires_postgres
from tests.factories import AccountFactory, UserFactory

from .helpers import rule

pytestmark = [pytest.mark.django_db(transaction=True), requires_postgres]

THREADS = 30


def _race(work, count: int = THREADS) -> list:
    barrier = threading.Barrier(count)
    outcomes: list = []
    lock = threading.Lock()

    def run(i: int) -> None:
        try:
            barrier.wait()
            result = work(i)
        except Exception as exc:  # a failure is an outcome the test shows
            result = f"error: {exc!r}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_thirty_duplicate_awards_at_once_credit_once():
    rule("webinar_attended", 25)
    account = AccountFactory()

    def award(_i):
        result = services.points_award(
            account=account, event="webinar_attended", source="webinar:1", idempotency_key="webinar:1:x"
        )
        return ("created" if result.created else "replayed", result.entry.pk)

    outcomes = _race(award)
    assert Counter(kind for kind, _pk in outcomes) == {"created": 1, "replayed": THREADS - 1}, outcomes
    assert len({pk for _kind, pk in outcomes}) == 1
    assert LedgerEntry.objects.filter(idempotency_key="webinar:1:x").count() == 1
    balance = PointsBalance.objects.get(account=account)
    assert (balance.balance, balance.lifetime) == (25, 25)


def test_one_key_raced_over_two_accounts_is_written_once_and_nothing_fails():
    rule("webinar_attended", 25)
    accounts = [AccountFactory(), AccountFactory()]

    def award(i):
        result = services.points_award(
            account=accounts[i % 2], event="webinar_attended", source="w", idempotency_key="shared-key"
        )
        return result.created

    outcomes = _race(award, 10)
    assert sorted(outcomes, key=str) == [False] * 9 + [True], outcomes
    assert LedgerEntry.objects.filter(idempotency_key="shared-key").count() == 1
    assert sum(PointsBalance.objects.values_list("balance", flat=True)) == 25


def test_duplicate_award_requests_through_the_api_answer_201_once():
    rule("review_published", 40)
    owner = UserFactory(role="csm")
    account = AccountFactory(owner=owner)
    body = {"account": account.pk, "event": "review_published", "idempotency_key": "review:g2:1"}

    def post(_i):
        client = Client()
        client.force_login(owner)
        response = client.post("/api/v1/loyalty-awards/", body, content_type="application/json")
        return response.status_code, response.json().get("entry", {}).get("id")

    outcomes = _race(post, 12)
    assert Counter(code for code, _id in outcomes) == {201: 1, 200: 11}, outcomes
    assert len({entry for _code, entry in outcomes}) == 1
    assert PointsBalance.objects.get(account=account).balance == 40


def test_parallel_redemption_requests_through_the_api_never_overdraw_or_fail():
    """Twenty requests at once through the API against a balance that affords five: five 201s,
    fifteen 400s with the reason, never a 500, and the ledger adds up to zero."""
    from loyalty.models import Redemption

    from .factories import RewardFactory
    from .helpers import give

    owner = UserFactory(role="csm")
    account = AccountFactory(owner=owner)
    give(account, 500)
    reward = RewardFactory(cost=100, stock=None)

    def request(_i):
        client = Client()
        client.force_login(owner)
        body = {"account": account.pk, "reward": reward.pk}
        response = client.post("/api/v1/redemptions/", body, content_type="application/json")
        return response.status_code

    outcomes = _race(request, 20)
    assert Counter(outcomes) == {201: 5, 400: 15}, outcomes
    assert Redemption.objects.filter(account=account).count() == 5
    assert PointsBalance.objects.get(account=account).balance == 0
    assert sum(LedgerEntry.objects.filter(account=account).values_list("points", flat=True)) == 0
