"""The portfolio's score, grade and 7-day trend columns: shown, sortable, filterable, joined
(never an extra query per page)."""

import pytest
from django.urls import reverse

from health.models import AccountHealth
from tests.factories import AccountFactory, UserFactory

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


@pytest.mark.parametrize("sort", ["score", "-score", "grade", "-grade"])
def test_health_sort_pages_through_scored_then_unscored_accounts(
    client, alice, django_assert_max_num_queries, sort
):
    """The scored accounts come from the health index, the unscored after them: every page
    joins up without gaps or repeats, in at most three queries for the rows."""
    scored = []
    for i in range(30):
        account = AccountFactory(owner=alice, name=f"S{i:02}")
        score = (i * 7) % 100
        grade = "red" if score < 40 else "yellow" if score < 70 else "green"
        AccountHealth.objects.create(
            account=account, score=score, grade=grade, grade_order={"red": 1, "yellow": 2, "green": 3}[grade]
        )
        scored.append((score, account.pk, account.name))
    unscored = [AccountFactory(owner=alice, name=f"U{i:02}") for i in range(27)]
    AccountHealth.objects.create(account=unscored[0])  # a row without a score is unscored too
    descending = sort.startswith("-")
    if sort.lstrip("-") == "grade":
        key = {name: (score >= 40) + (score >= 70) for score, _pk, name in scored}
        scored.sort(key=lambda s: (key[s[2]], s[0], s[1]), reverse=descending)
    else:
        scored.sort(reverse=descending)
    expected = [name for _score, _pk, name in scored] + sorted((a.name for a in unscored), reverse=descending)
    client.force_login(alice)
    seen = []
    for page in (1, 2, 3):
        with django_assert_max_num_queries(7):  # session, user, count, 1 to 3 for the rows, badge
            response = client.get(URL, {"sort": sort, "page": page})
        seen += names(response)
    assert seen == expected
    assert response.context["page"].paginator.count == 57
