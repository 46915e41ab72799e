"""The count of all accounts the managers' portfolio shows: on PostgreSQL a tally kept by
triggers (no COUNT(*) over 100,000 rows per page), always equal to COUNT(*)."""

import io

from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse

from accounts.models import Account
from accounts.selectors import accounts_total
from tests.conftest import requires_postgres
from tests.factories import AccountFactory


def tally_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM accounts_account_tally")
        return cursor.fetchone()[0]


def test_the_total_is_the_count_of_accounts(db):
    assert accounts_total() == 0
    AccountFactory.create_batch(3)
    assert accounts_total() == Account.objects.count() == 3


def test_the_managers_unfiltered_portfolio_shows_the_total(client, carol, alice):
    AccountFactory.create_batch(30, owner=alice)
    client.force_login(carol)
    response = client.get(reverse("accounts:portfolio"), {"sort": "-mrr", "page": 2})
    assert response.context["page"].paginator.count == 30
    assert "30 accounts" in response.content.decode() and len(response.context["page"].object_list) == 5
    filtered = client.get(reverse("accounts:portfolio"), {"segment": "smb", "grade": "purple"})
    # an invalid field is ignored, the valid one still filters: counted, not the total
    assert filtered.context["page"].paginator.count == Account.objects.filter(segment="smb").count()


@requires_postgres
def test_the_tally_follows_every_kind_of_write(db, alice):
    AccountFactory()  # the ORM
    Account.objects.bulk_create([AccountFactory.build(owner=alice) for _ in range(4)])  # one statement
    call_command("seed_demo", "--accounts", "5", "--events-per-account", "1", "--quiet", stdout=io.StringIO())
    assert accounts_total() == Account.objects.count() == 10
    Account.objects.filter(pk__in=Account.objects.order_by("pk").values("pk")[:3]).delete()  # cascades
    assert accounts_total() == Account.objects.count() == 7
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred key checks left to run
        cursor.execute("TRUNCATE accounts_account CASCADE")
    assert accounts_total() == Account.objects.count() == 0


@requires_postgres
def test_the_tally_stays_a_row_and_a_rolled_back_change_leaves_it(db):
    for _ in range(20):
        AccountFactory()
    assert tally_rows() == 1 and accounts_total() == Account.objects.count() == 20
    try:
        with transaction.atomic():
            AccountFactory.create_batch(3)
            assert accounts_total() == 23  # this transaction sees its own accounts, as COUNT(*)
            raise RuntimeError
    except RuntimeError:
        pass
    assert accounts_total() == Account.objects.count() == 20
