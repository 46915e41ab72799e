"""Query counts on every loyalty list page: bounded, and not growing with rows."""

import pytest
from django.urls import reverse

from loyalty import services
from tests.factories import AccountFactory, ContactFactory

from .factories import AdvocacyAskFactory, RewardFactory
from .helpers import give

pytestmark = pytest.mark.django_db


def grows_not(client, url, make, django_assert_max_num_queries, ceiling=14):
    make(2)
    with django_assert_max_num_queries(ceiling) as few:
        assert client.get(url).status_code == 200
    make(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_redemptions_list(client, carol, django_assert_max_num_queries):
    client.force_login(carol)

    def make(n):
        for _ in range(n):
            account = AccountFactory()
            give(account, 100, by=carol)
            services.redemption_request(
                account=account,
                reward=RewardFactory(cost=10),
                contact=ContactFactory(account=account),
                by=carol,
            )

    grows_not(client, reverse("loyalty:redemptions"), make, django_assert_max_num_queries)


def test_account_ledger_page(client, carol, alice_account, django_assert_max_num_queries):
    client.force_login(carol)

    def make(n):
        for _ in range(n):
            give(alice_account, 5, by=carol)

    grows_not(
        client,
        reverse("loyalty:account", args=[alice_account.pk]),
        make,
        django_assert_max_num_queries,
        ceiling=20,
    )


def test_advocacy_page(client, carol, django_assert_max_num_queries):
    client.force_login(carol)
    grows_not(
        client,
        reverse("loyalty:advocacy"),
        lambda n: AdvocacyAskFactory.create_batch(n, asked_by=carol),
        django_assert_max_num_queries,
    )


def test_rewards_and_overview(client, carol, django_assert_max_num_queries):
    client.force_login(carol)
    grows_not(
        client,
        reverse("loyalty:rewards"),
        lambda n: RewardFactory.create_batch(n),
        django_assert_max_num_queries,
    )
    with django_assert_max_num_queries(20):
        assert client.get(reverse("loyalty:overview")).status_code == 200
