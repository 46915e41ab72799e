"""cs_app.prepared: a query compiled once per process gives, call after call, what the ORM gives
for the same arguments (model instances with their select_related objects, dicts, tuples), and
Django still logs and counts it. A builder that freezes a value is refused."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections
from django.db.models import Count, QuerySet
from django.test.utils import CaptureQueriesContext

from accounts.models import Account, MrrMovement
from cs_app.prepared import prepared
from tests.conftest import requires_postgres
from tests.factories import AccountFactory, ContactFactory, MrrMovementFactory, UserFactory

pytestmark = pytest.mark.django_db


@prepared
def owned_by(owner_id: int) -> QuerySet[Account]:
    return Account.objects.filter(owner_id=owner_id).select_related("owner").order_by("name")


@prepared
def movements(account_id: int, day: dt.date) -> QuerySet[MrrMovement]:
    return MrrMovement.objects.filter(account_id=account_id, date__lte=day).order_by("date")


@prepared
def contact_counts(owner_id: int, since: dt.datetime) -> QuerySet:
    return (
        Account.objects.filter(owner_id=owner_id, created_at__gte=since)
        .values("name")
        .annotate(people=Count("contacts"))
        .order_by("name")
    )


@prepared
def counted_first(owner_id: int) -> QuerySet:
    """values() with an annotation named before a field: the dict keys follow the order given."""
    return (
        Account.objects.filter(owner_id=owner_id)
        .annotate(people=Count("contacts"))
        .values("people", "name", "tier")
        .order_by("name")
    )


@prepared
def names(owner_id: int) -> QuerySet:
    return Account.objects.filter(owner_id=owner_id).order_by("name").values_list("name", flat=True)


@pytest.fixture
def data():
    alice, bob = UserFactory(), UserFactory()
    a1 = AccountFactory(owner=alice, name="A1")
    a2 = AccountFactory(owner=alice, name="A2")
    b1 = AccountFactory(owner=bob, name="B1")
    ContactFactory(account=a1)
    ContactFactory(account=a1)
    for account, amounts in ((a1, ["100.00", "50.00"]), (b1, ["70.00"])):
        for i, amount in enumerate(amounts):
            kind = "new" if i == 0 else "expansion"
            MrrMovementFactory(
                account=account, kind=kind, amount=Decimal(amount), date=dt.date(2026, 1 + i, 1)
            )
    return alice, bob, a1, a2, b1


def test_each_call_gives_what_the_orm_gives_for_its_own_arguments(data):
    alice, bob, a1, _a2, b1 = data
    for owner in (alice, bob, alice):
        got = owned_by(owner_id=owner.pk)
        expected = list(owned_by.build(owner_id=owner.pk))
        assert [(a.pk, a.name, a.mrr, a.owner.email) for a in got] == [
            (a.pk, a.name, a.mrr, a.owner.email) for a in expected
        ]
        assert all(a.__dict__.keys() == e.__dict__.keys() for a, e in zip(got, expected, strict=True))
    assert [m.amount for m in movements(account_id=a1.pk, day=dt.date(2026, 1, 15))] == [Decimal("100.00")]
    assert [m.amount for m in movements(account_id=a1.pk, day=dt.date(2026, 3, 1))] == [
        Decimal("100.00"),
        Decimal("50.00"),
    ]
    assert [m.amount for m in movements(account_id=b1.pk, day=dt.date(2026, 3, 1))] == [Decimal("70.00")]
    long_ago = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    assert contact_counts(owner_id=alice.pk, since=long_ago) == [
        {"name": "A1", "people": 2},
        {"name": "A2", "people": 0},
    ]
    assert contact_counts(owner_id=alice.pk, since=dt.datetime(2999, 1, 1, tzinfo=dt.UTC)) == []
    assert names(owner_id=bob.pk) == ["B1"]
    assert counted_first(owner_id=alice.pk) == list(counted_first.build(owner_id=alice.pk))
    assert counted_first(owner_id=alice.pk)[0] == {"people": 2, "name": "A1", "tier": a1.tier}


def test_the_query_is_logged_and_counted(data):
    alice = data[0]
    owned_by(owner_id=alice.pk)
    with CaptureQueriesContext(connection) as queries:
        owned_by(owner_id=alice.pk)
    assert len(queries) == 1 and "accounts_account" in queries[0]["sql"]


@requires_postgres
def test_a_value_frozen_in_the_builder_is_refused():
    @prepared
    def frozen(owner_id: int) -> QuerySet[Account]:
        return Account.objects.filter(owner_id=7)  # the argument never reaches the SQL

    with pytest.raises(ImproperlyConfigured, match="owner_id did not reach the SQL"):
        frozen(owner_id=1)


@requires_postgres
def test_other_threads_use_their_own_connection(data, transactional_db):
    alice = data[0]
    owned_by(owner_id=alice.pk)  # compiled here
    found = []

    def run():
        try:
            found.append(len(owned_by(owner_id=alice.pk)))
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert found == [2]


@prepared
def weeks(owner_id: int) -> QuerySet:
    from django.db.models.functions import TruncDay

    return (
        Account.objects.filter(owner_id=owner_id)
        .annotate(day=TruncDay("created_at"))
        .values_list("name", "day")
        .order_by("name")
    )


def test_each_time_zone_gets_its_own_query(data):
    """SQL that names the current time zone (truncating to a day, a week) is compiled per zone."""
    from django.utils import timezone

    alice = data[0]
    Account.objects.filter(owner=alice).update(created_at=dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC))
    with timezone.override("UTC"):
        assert {day.date() for _name, day in weeks(owner_id=alice.pk)} == {dt.date(2026, 3, 1)}
    with timezone.override("America/New_York"):  # 2 a.m. UTC is still the day before there
        assert {day.date() for _name, day in weeks(owner_id=alice.pk)} == {dt.date(2026, 2, 28)}
