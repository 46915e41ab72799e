"""cs_app.plain_rows reads a values_list query without Django's converters (and, on PostgreSQL,
with psycopg's C timestamp loader): the rows must equal the ORM's, value for value and type for
type, and the query must still be seen by Django's query log."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, Max, Q, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account, MrrMovement, UsageEvent
from cs_app.plain_rows import plain_rows
from tests.factories import AccountFactory, ContactFactory, MrrMovementFactory, UsageEventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def data():
    now = timezone.now()
    accounts = [AccountFactory(renewal_date=dt.date(2027, 1, 31)), AccountFactory(renewal_date=None)]
    for n, account in enumerate(accounts):
        contact = ContactFactory(account=account)
        for days in (1, 8, 40):
            UsageEventFactory(
                account=account,
                contact=contact if days < 30 else None,
                occurred_at=now - dt.timedelta(days=days, microseconds=123_456 * (n + 1)),
            )
        MrrMovementFactory(account=account, kind="new", amount=Decimal("1234.56"), date=dt.date(2026, 1, 5))
    Account.objects.filter(pk=accounts[0].pk).update(last_touch_at=now - dt.timedelta(hours=5))
    return now


def same(queryset):
    expected = list(queryset)
    got = plain_rows(queryset)
    assert got == expected
    assert [[type(v) for v in row] for row in got] == [[type(v) for v in row] for row in expected]
    return got


def test_rows_equal_the_orm_including_timestamps_dates_decimals_and_nulls(data):
    rows = same(
        Account.objects.order_by("pk").values_list(
            "id", "segment", "owner_id", "renewal_date", "contract_start", "last_touch_at", "mrr"
        )
    )
    assert rows[0][5] is not None and rows[0][5].utcoffset() == dt.timedelta(0)
    assert rows[1][3] is None and rows[1][5] is None


def test_grouped_counts_and_sums_equal_the_orm(data):
    d30 = data - dt.timedelta(days=30)
    same(
        UsageEvent.objects.order_by("account_id")
        .values("account_id")
        .annotate(
            last_at=Max("occurred_at"),
            last_30=Count("occurred_at", filter=Q(occurred_at__gte=d30)),
            users=Count("contact_id", filter=Q(occurred_at__gte=d30), distinct=True),
        )
        .values_list("account_id", "last_at", "last_30", "users")
    )
    same(
        MrrMovement.objects.order_by("account_id")
        .values("account_id")
        .annotate(total=Sum("amount"))
        .values_list("account_id", "total")
    )


def test_the_query_is_logged_like_any_other(data):
    with CaptureQueriesContext(connection) as queries:
        plain_rows(Account.objects.values_list("id"))
    assert len(queries) == 1 and "accounts_account" in queries[0]["sql"]


def test_an_empty_in_list_asks_nothing():
    with CaptureQueriesContext(connection) as queries:
        assert plain_rows(Account.objects.filter(pk__in=[]).values_list("id")) == []
    assert len(queries) == 0


def test_only_tuples():
    with pytest.raises(TypeError):
        plain_rows(Account.objects.values_list("id", flat=True))
    with pytest.raises(TypeError):
        plain_rows(Account.objects.values("id"))
