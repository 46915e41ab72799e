"""The portfolio's score, grade and 7-day trend columns: shown, sortable, filterable, joined
(never an extra query per page)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from health.models import AccountHealth
from health.services import health_scores_recompute
from tests.factories import AccountFactory, UserFactory

from .conftest import past_snapshot, set_score

URL = reverse("accounts:portfolio")


def names(response) -> list[str]:
    return [account.name for account in response.context["page"].object_list]


@pytest.fixture
def scored(alice):
    rows = [
        ("Alpha", 85, "green", 3),
        ("Bravo", 30, "red", -12),
        ("Charlie", 55, "yellow", -6),
        ("Delta", None, "", None),
    ]
    for name, score, grade, change in rows:
        account = AccountFactory(owner=alice, name=name)
        if score is not None:
            order = {"red": 1, "yellow": 2, "green": 3}[grade]
            AccountHealth.objects.create(
                account=account, score=score, grade=grade, grade_order=order, change_7d=change
            )
    AccountFactory(owner=alice, name="Echo")  # no health row at all
    return alice


def test_columns_show_score_grade_and_trend(client, scored):
    client.force_login(scored)
    html = client.get(URL).content.decode()
    for text in ["Score", "Grade", "7-day trend", ">85<", ">Red<", ">Yellow<", "+3", "-12", "no data"]:
        assert text in html, text


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("score", ["Bravo", "Charlie", "Alpha", "Delta", "Echo"]),
        ("-score", ["Alpha", "Charlie", "Bravo", "Echo", "Delta"]),
        ("grade", ["Bravo", "Charlie", "Alpha", "Delta", "Echo"]),
        ("-grade", ["Alpha", "Charlie", "Bravo", "Echo", "Delta"]),
        ("trend", ["Bravo", "Charlie", "Alpha", "Delta", "Echo"]),
        ("-trend", ["Alpha", "Charlie", "Bravo", "Echo", "Delta"]),
    ],
)
def test_sort_by_health_with_unscored_last_either_way(client, scored, sort, expected):
    client.force_login(scored)
    response = client.get(URL, {"sort": sort})
    assert names(response) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"grade": "red"}, ["Bravo"]),
        ({"grade": "green"}, ["Alpha"]),
        ({"grade": "none"}, ["Delta", "Echo"]),
        ({"trend": "falling"}, ["Bravo", "Charlie"]),
        ({"trend": "rising"}, []),
        ({"grade": "yellow", "trend": "falling"}, ["Charlie"]),
    ],
)
def test_filter_by_grade_and_trend(client, scored, params, expected):
    client.force_login(scored)
    assert names(client.get(URL, params)) == expected


def test_bad_grade_shows_an_error_and_keeps_the_list(client, scored):
    client.force_login(scored)
    response = client.get(URL, {"grade": "purple"})
    assert response.status_code == 200 and len(names(response)) == 5
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize(
    "params", [{}, {"sort": "-score"}, {"grade": "red", "trend": "falling", "sort": "grade"}]
)
def test_health_columns_add_no_query(client, carol, django_assert_max_num_queries, params):
    client.force_login(carol)
    owners = UserFactory.create_batch(3)
    for i in range(5):
        account = AccountFactory(owner=owners[i % 3])
        AccountHealth.objects.create(account=account, score=20, grade="red", grade_order=1, change_7d=-9)
    with django_assert_max_num_queries(6) as small:
        client.get(URL, params)
    for i in range(60):
        account = AccountFactory(owner=owners[i % 3])
        if i % 2:
            AccountHealth.objects.create(account=account, score=i, grade="red", grade_order=1, change_7d=-i)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(URL, params)


def test_the_nightly_recompute_copies_the_current_health_onto_the_account(client, alice, touch_card):
    """The portfolio sorts by copies on the account row; every write of the current health keeps
    them in step: the bulk recompute, a save, a delete."""
    red, green, unscored = (AccountFactory(owner=alice, name=n) for n in ("Red", "Green", "Unscored"))
    past_snapshot(red, timezone.localdate() - dt.timedelta(days=7), 45, "yellow")
    set_score(red, 30)
    set_score(green, 90)
    health_scores_recompute(accounts=Account.objects.exclude(pk=unscored.pk))
    for account, expected in ((red, (30, 1, -15)), (green, (90, 3, None)), (unscored, (None, None, None))):
        account.refresh_from_db()
        assert (account.health_score, account.health_grade_order, account.health_change_7d) == expected
    assert (red.health_grade, green.health_grade, unscored.health_grade) == ("red", "green", "")
    client.force_login(alice)
    assert names(client.get(URL, {"sort": "score"})) == ["Red", "Green", "Unscored"]
    assert names(client.get(URL, {"grade": "red"})) == ["Red"]

    set_score(green, 20)  # the next run changes the copy too
    health_scores_recompute()
    green.refresh_from_db()
    assert (green.health_score, green.health_grade) == (20, "red")

    health = AccountHealth.objects.get(account=green)
    health.score, health.grade, health.grade_order, health.change_7d = 75, "green", 3, 4
    health.save()
    green.refresh_from_db()
    assert (green.health_score, green.health_grade_order, green.health_change_7d) == (75, 3, 4)
    health.delete()
    green.refresh_from_db()
    assert (green.health_score, green.health_grade_order, green.health_change_7d) == (None, None, None)
