"""Every dashboard page and metrics endpoint runs a fixed number of queries (at most 20),
whatever the number of accounts: the figures are grouped queries, never one per account."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from health.models import AccountHealth, HealthSnapshot, ScorecardVersion
from tests.factories import UserFactory

from .conftest import bulk_customers

pytestmark = pytest.mark.django_db

PAGES = [
    ("dashboards:home", {}),
    ("dashboards:leadership", {"period": "quarter", "by": "owner"}),
    ("dashboards:leadership", {"period": "year", "by": "cohort", "segment": "smb"}),
    ("dashboards:cohorts", {}),
    ("dashboards:renewals", {}),
    ("dashboards:drilldown", {"list": "lost", "period": "year"}),
    ("api:metrics-summary", {}),
    ("api:metrics-breakdown", {"by": "plan"}),
    ("api:metrics-trend", {}),
    ("api:metrics-health", {}),
    ("api:metrics-churn-reasons", {}),
    ("api:metrics-cohorts", {}),
    ("api:metrics-renewals", {}),
    ("api:metrics-portfolio", {}),
]


def grow(owners, n: int, tag: str):
    today = timezone.localdate()
    version, _ = ScorecardVersion.objects.get_or_create(digest="q", defaults={"config": {}})
    for i, owner in enumerate(owners):
        accounts = bulk_customers(
            owner,
            n,
            start=(today - dt.timedelta(days=200 + 30 * i)).isoformat(),
            churn_on=(today - dt.timedelta(days=20)).isoformat(),
            churned=n // 3,
            prefix=f"{tag}{i}",
        )
        for a in accounts:
            a.renewal_date = today + dt.timedelta(days=15 + a.pk % 80)
            a.plan = f"Plan {a.pk % 4}"
        type(accounts[0]).objects.bulk_update(accounts, ["renewal_date", "plan"])
        AccountHealth.objects.bulk_create(
            AccountHealth(account=a, grade=("red", "yellow", "green")[a.pk % 3], score=50) for a in accounts
        )
        HealthSnapshot.objects.bulk_create(
            HealthSnapshot(
                account=a, day=d, grade=("red", "yellow", "green")[(a.pk + k) % 3], card_version=version
            )
            for a in accounts
            for k, d in enumerate((today - dt.timedelta(days=100), today - dt.timedelta(days=1)))
        )


def count(client, name, params) -> int:
    cache.clear()  # the plan filter's choices are cached: count the cold page
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(name), params)
    assert response.status_code == 200, (name, response.content[:500])
    return len(queries)


def test_query_counts_do_not_grow_with_accounts(client, carol, django_assert_max_num_queries):
    owners = [UserFactory(role="csm") for _ in range(3)]
    grow(owners, 4, "a")
    client.force_login(carol)
    small = {(name, str(params)): count(client, name, params) for name, params in PAGES}
    grow(owners + [UserFactory(role="csm") for _ in range(3)], 40, "b")
    for name, params in PAGES:
        with django_assert_max_num_queries(20):
            large = count(client, name, params)
        assert large == small[(name, str(params))], (name, params)


def test_the_csm_dashboard_query_count_is_fixed(client, alice, django_assert_max_num_queries):
    grow([alice], 30, "c")
    client.force_login(alice)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("dashboards:home")).status_code == 200
