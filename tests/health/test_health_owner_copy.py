"""The current-health row's copy of its account's owner (health migration 0008), which a CSM's
health sorts walk: PostgreSQL's triggers keep it in step however the owner changes, and the
portfolio never shows an account that is not the user's, even if the copy were wrong."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Account
from accounts.selectors import PortfolioFilters, portfolio_rows
from accounts.services import account_reassign_owner
from health.models import AccountHealth
from health.services import health_scores_recompute
from tests.conftest import requires_postgres
from tests.factories import AccountFactory, UsageEventFactory

URL = reverse("accounts:portfolio")


def owner_copy(account) -> int | None:
    return AccountHealth.objects.values_list("owner_id", flat=True).get(account=account)


@requires_postgres
def test_a_new_row_takes_its_accounts_owner_however_it_is_written(alice, bob):
    one, two, three = (AccountFactory(owner=alice) for _ in range(3))
    unowned = AccountFactory(owner=None)
    AccountHealth.objects.create(account=one, score=50)
    AccountHealth.objects.bulk_create([AccountHealth(account=two), AccountHealth(account=unowned)])
    UsageEventFactory(account=three)
    health_scores_recompute(accounts=Account.objects.filter(pk=three.pk), evaluate_alerts=False)
    assert [owner_copy(a) for a in (one, two, three, unowned)] == [alice.pk, alice.pk, alice.pk, None]


@requires_postgres
def test_the_copy_follows_every_change_of_owner(alice, bob, carol):
    account = AccountFactory(owner=alice)
    AccountHealth.objects.create(account=account, score=40)
    account_reassign_owner(account=account, owner=bob, by=carol)
    assert owner_copy(account) == bob.pk
    Account.objects.filter(pk=account.pk).update(owner=alice)  # bulk updates, imports
    assert owner_copy(account) == alice.pk
    account.refresh_from_db()
    account.owner = None
    account.save()
    assert owner_copy(account) is None
    account.name = "Renamed"  # a save that leaves the owner alone changes nothing
    account.save()
    assert owner_copy(account) is None
    without_row = AccountFactory(owner=alice)
    account_reassign_owner(account=without_row, owner=bob, by=carol)  # no row yet: nothing to do
    assert not AccountHealth.objects.filter(account=without_row).exists()


@requires_postgres
def test_a_rolled_back_reassignment_leaves_the_copy_as_it_was(alice, bob):
    from django.db import transaction

    account = AccountFactory(owner=alice)
    AccountHealth.objects.create(account=account, score=40)
    with pytest.raises(RuntimeError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(owner=bob)
        raise RuntimeError
    assert owner_copy(account) == alice.pk


def test_a_wrong_copy_never_shows_someone_elses_account(client, alice, bob, bob_account):
    mine = AccountFactory(owner=alice, name="Mine")
    AccountHealth.objects.create(account=mine, score=60, grade="yellow", grade_order=2, change_7d=1)
    AccountHealth.objects.create(account=bob_account, score=10, grade="red", grade_order=1, change_7d=-20)
    client.force_login(alice)
    # As if the copy had gone wrong (the triggers do not let it): Bob's account says Alice. The
    # page may then come up short on PostgreSQL, but it never shows Bob's account.
    AccountHealth.objects.filter(account=bob_account).update(owner=alice)
    for sort in ("score", "-score", "grade", "trend"):
        listed = [a.name for a in client.get(URL, {"sort": sort}).context["page"].object_list]
        assert "Bravo Logistics" not in listed and set(listed) <= {"Mine"}, sort
    # And Bob's own page still lists it (his copy is the one that went wrong).
    client.force_login(bob)
    assert [a.name for a in client.get(URL, {"sort": "name"}).context["page"].object_list] == [
        "Bravo Logistics"
    ]


@requires_postgres
def test_a_csms_health_sort_walks_the_health_index_with_the_owner(alice, bob, carol):
    """The rows come from the health index's owner column (an index-only walk in a subquery),
    and a manager filtering by that owner gets the same page."""
    for i in range(40):
        account = AccountFactory(owner=alice if i % 3 else bob, name=f"A{i:02}")
        AccountHealth.objects.create(
            account=account, score=(i * 37) % 100, grade="red", grade_order=1, change_7d=i - 20
        )
    for sort in ("score", "-score", "grade", "-trend"):
        rows = portfolio_rows(user=alice, filters=PortfolioFilters(health_sort=sort))
        assert rows.owned_ids is not None
        with CaptureQueriesContext(connection) as queries:
            page = rows[0:10]
        assert len(queries) == 1 and 'FROM "health_accounthealth" U0' in queries[0]["sql"]
        assert 'U0."owner_id" =' in queries[0]["sql"]
        general = portfolio_rows(user=alice, filters=PortfolioFilters(health_sort=sort, segment=""))
        general.owned_ids = None
        assert [a.pk for a in page] == [a.pk for a in general[0:10]]
        assert all(a.owner_id == alice.pk for a in page)
        managers = portfolio_rows(user=carol, filters=PortfolioFilters(health_sort=sort, owner_id=alice.pk))
        assert [a.pk for a in managers[0:10]] == [a.pk for a in page]
    # Any other filter: the general walk, which checks every filter on the joined rows.
    filtered = portfolio_rows(user=alice, filters=PortfolioFilters(health_sort="score", segment="smb"))
    assert filtered.owned_ids is None
