"""My portfolio: who sees what, search, filters, sorting, pagination, htmx partials, query counts."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import AccountFactory, TouchpointFactory, UserFactory

URL = reverse("accounts:portfolio")


def names(response) -> list[str]:
    return [account.name for account in response.context["page"].object_list]


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("team:login"))


def test_user_without_role_is_forbidden(client, charlie, alice_account):
    client.force_login(charlie)
    assert client.get(URL).status_code == 403


def test_csm_sees_only_own_accounts(client, alice, alice_account, bob_account):
    client.force_login(alice)
    response = client.get(URL)
    assert response.status_code == 200
    assert names(response) == ["Alpha Industries"]
    assert b"Bravo Logistics" not in response.content
    assert b"My portfolio" in response.content


def test_manager_sees_every_portfolio_and_filters_by_owner(client, carol, alice, alice_account, bob_account):
    client.force_login(carol)
    assert names(client.get(URL)) == ["Alpha Industries", "Bravo Logistics"]
    assert names(client.get(URL, {"owner": alice.pk})) == ["Alpha Industries"]


def test_csm_cannot_use_owner_filter_to_see_others(client, alice, bob, alice_account, bob_account):
    client.force_login(alice)
    response = client.get(URL, {"owner": bob.pk})
    assert "Bravo Logistics" not in names(response)


def test_columns_show_mrr_renewal_stage_segment_tier_last_touch(client, alice):
    account = AccountFactory(
        owner=alice,
        name="Columns Co",
        mrr=Decimal("1234.00"),
        segment="enterprise",
        tier="gold",
        lifecycle_stage="renewal",
        renewal_date=dt.date(2030, 3, 4),
    )
    TouchpointFactory(account=account)
    account.last_touch_at = timezone.now()
    account.save()
    client.force_login(alice)
    html = client.get(URL).content.decode()
    for text in ["Columns Co", "1,234", "Mar 4, 2030", "Renewal", "Enterprise", "Gold", "today"]:
        assert text in html


def test_search_by_name_or_domain(client, alice):
    AccountFactory(owner=alice, name="Northwind", domain="northwind.example")
    AccountFactory(owner=alice, name="Contoso", domain="contoso-north.example")
    AccountFactory(owner=alice, name="Fabrikam", domain="fabrikam.example")
    client.force_login(alice)
    assert names(client.get(URL, {"q": "north"})) == ["Contoso", "Northwind"]
    assert names(client.get(URL, {"q": "FABRIKAM.ex"})) == ["Fabrikam"]


def test_search_results_sort_by_name_both_ways(client, carol):
    # A search sorts its matches by an unindexed name expression (accounts.selectors._search_order):
    # the same order as the plain name sort, in both directions, with the id breaking ties.
    for name in ["Northwind B", "Northwind A", "Contoso North", "Northwind A", "Fabrikam"]:
        AccountFactory(
            name=name,
            domain=f"{name.replace(' ', '-').lower()}-{AccountFactory._meta.model.objects.count()}.example",
        )
    client.force_login(carol)
    ascending = client.get(URL, {"q": "north", "sort": "name"}).context["page"].object_list
    assert [a.name for a in ascending] == ["Contoso North", "Northwind A", "Northwind A", "Northwind B"]
    assert ascending[1].pk < ascending[2].pk
    descending = client.get(URL, {"q": "north", "sort": "-name"}).context["page"].object_list
    assert [a.name for a in descending] == ["Northwind B", "Northwind A", "Northwind A", "Contoso North"]
    assert descending[1].pk > descending[2].pk


def test_filters_segment_tier_stage(client, alice):
    AccountFactory(owner=alice, name="A", segment="enterprise", tier="gold", lifecycle_stage="growth")
    AccountFactory(owner=alice, name="B", segment="enterprise", tier="silver", lifecycle_stage="growth")
    AccountFactory(owner=alice, name="C", segment="smb", tier="gold", lifecycle_stage="at_risk")
    client.force_login(alice)
    assert names(client.get(URL, {"segment": "enterprise"})) == ["A", "B"]
    assert names(client.get(URL, {"segment": "enterprise", "tier": "gold"})) == ["A"]
    assert names(client.get(URL, {"stage": "at_risk"})) == ["C"]


@pytest.mark.parametrize(
    ("window", "expected"),
    [("30", ["In 10"]), ("60", ["In 10", "In 45"]), ("90", ["In 10", "In 45", "In 80"])],
)
def test_renewal_within_window(client, alice, window, expected):
    today = timezone.localdate()
    for days in (10, 45, 80, 120):
        AccountFactory(
            owner=alice,
            name=f"In {days}",
            renewal_date=today + dt.timedelta(days=days),
            contract_start=today - dt.timedelta(days=300),
        )
    AccountFactory(
        owner=alice,
        name="Past",
        renewal_date=today - dt.timedelta(days=5),
        contract_start=today - dt.timedelta(days=400),
    )
    client.force_login(alice)
    assert names(client.get(URL, {"renewal": window})) == expected


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Alpha", "Bravo", "Charlie"]),
        ("-name", ["Charlie", "Bravo", "Alpha"]),
        ("mrr", ["Bravo", "Charlie", "Alpha"]),
        ("-mrr", ["Alpha", "Charlie", "Bravo"]),
        ("renewal_date", ["Charlie", "Alpha", "Bravo"]),
        ("-renewal_date", ["Alpha", "Charlie", "Bravo"]),
        ("last_touch_at", ["Charlie", "Bravo", "Alpha"]),  # never touched first: most neglected
        ("-last_touch_at", ["Alpha", "Bravo", "Charlie"]),
        ("bogus", ["Alpha", "Bravo", "Charlie"]),
    ],
)
def test_sort_by_column(client, alice, sort, expected):
    now = timezone.now()
    AccountFactory(
        owner=alice,
        name="Alpha",
        mrr=Decimal("300"),
        renewal_date=dt.date(2027, 6, 1),
        last_touch_at=now - dt.timedelta(days=3),
    )
    AccountFactory(
        owner=alice,
        name="Bravo",
        mrr=Decimal("100"),
        renewal_date=None,
        last_touch_at=now - dt.timedelta(days=9),
    )
    AccountFactory(
        owner=alice, name="Charlie", mrr=Decimal("200"), renewal_date=dt.date(2027, 2, 1), last_touch_at=None
    )
    client.force_login(alice)
    response = client.get(URL, {"sort": sort})
    assert response.status_code == 200
    assert names(response) == expected


def test_pagination_keeps_filters_in_links(client, alice):
    for i in range(30):
        AccountFactory(owner=alice, name=f"Ent {i:02d}", segment="enterprise")
    AccountFactory(owner=alice, name="Small", segment="smb")
    client.force_login(alice)
    first = client.get(URL, {"segment": "enterprise", "sort": "-name"})
    assert len(names(first)) == 25
    assert first.context["page"].paginator.count == 30
    assert "segment=enterprise&amp;sort=-name&amp;page=2" in first.content.decode()
    second = client.get(URL, {"segment": "enterprise", "sort": "-name", "page": 2})
    assert names(second) == [f"Ent {i:02d}" for i in range(4, -1, -1)]
    assert client.get(URL, {"page": "999"}).status_code == 200
    assert client.get(URL, {"page": "abc"}).status_code == 200


def test_htmx_request_returns_only_the_results_partial(client, alice, alice_account):
    client.force_login(alice)
    response = client.get(URL, {"q": "alpha", "sort": "-mrr"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="results"')
    assert "<html" not in html
    assert 'id="sort-input" value="-mrr"' in html and 'hx-swap-oob="true"' in html
    assert "HX-Request" in response["Vary"]


def test_history_restore_gets_the_full_page(client, alice, alice_account):
    client.force_login(alice)
    response = client.get(
        URL, {"q": "alpha"}, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in response.content.decode()


def test_page_works_without_javascript_as_a_plain_get_form(client, alice, alice_account):
    client.force_login(alice)
    html = client.get(URL).content.decode()
    assert '<form id="filters" class="filters" method="get" action="/accounts/"' in html
    assert 'href="?sort=-name"' in html or 'href="?sort=name"' in html


def test_invalid_filter_values_show_a_message_and_keep_the_list(client, alice, alice_account):
    client.force_login(alice)
    response = client.get(URL, {"segment": "galactic", "renewal": "7"})
    assert response.status_code == 200
    assert names(response) == ["Alpha Industries"]
    html = response.content.decode()
    assert "Select a valid choice" in html


def test_empty_states(client, alice, carol):
    client.force_login(alice)
    assert "When a manager assigns accounts to you" in client.get(URL).content.decode()
    AccountFactory(owner=alice, name="Only")
    assert "No accounts match these filters" in client.get(URL, {"q": "zzz"}).content.decode()


@pytest.mark.parametrize(
    "params", [{}, {"segment": "smb", "renewal": "90"}, {"q": "acc", "sort": "-last_touch_at"}]
)
def test_query_count_does_not_grow_with_accounts(client, carol, django_assert_max_num_queries, params):
    client.force_login(carol)
    owners = UserFactory.create_batch(3)
    for i in range(5):
        AccountFactory(owner=owners[i % 3])
    with django_assert_max_num_queries(6) as small:
        client.get(URL, params)
    for i in range(60):
        AccountFactory(owner=owners[i % 3])
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(URL, params)


@pytest.mark.parametrize("cap", [1000, 3])
def test_search_pages_hold_every_match_once_in_order(client, carol, monkeypatch, cap):
    # A search finds the sorted ids of its matches, then loads a page's accounts by id
    # (accounts.selectors.SearchRows); beyond CAP matches it counts and pages in the database.
    from accounts import selectors

    monkeypatch.setattr(selectors.SearchRows, "CAP", cap)
    for i in range(30):
        AccountFactory(name=f"Match {i:02d}", domain=f"match-{i}.example")
    AccountFactory(name="Other", domain="other.example")
    client.force_login(carol)
    seen = []
    for page in (1, 2):
        response = client.get(URL, {"q": "match", "sort": "-name", "page": page})
        assert response.context["page"].paginator.count == 30
        seen += names(response)
    assert seen == [f"Match {i:02d}" for i in reversed(range(30))]


def test_search_pages_keep_the_health_and_owner_columns(client, carol, alice):
    AccountFactory(owner=alice, name="Northwind", domain="northwind.example")
    client.force_login(carol)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, {"q": "north"})
    assert names(response) == ["Northwind"]
    assert alice.full_name in response.content.decode()
    assert len(queries) <= 6
