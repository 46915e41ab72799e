"""The onboarding board: the CSM's accounts in onboarding, behind schedule first, with progress
bars; filters and tabs; a fixed number of queries whatever the number of plans."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from onboarding import services
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def _plan_for(owner, template, name, *, days_ago, done=0, segment="smb"):
    today = timezone.localdate()
    account = AccountFactory(
        owner=owner, name=name, segment=segment, contract_start=today - dt.timedelta(days=days_ago)
    )
    plan = services.plan_start(account=account, template=template)
    for milestone in plan.milestones.order_by("position")[:done]:
        services.milestone_status_set(milestone=milestone, status="done", done_on=today)
    return plan


@pytest.fixture
def board_plans(alice, template):
    # Milestones fall due on days 3, 10, 20 and 40.
    return {
        "fresh": _plan_for(
            alice, template, "Fresh Co", days_ago=1
        ),  # nothing due: on track, next due in 2 days
        "late": _plan_for(alice, template, "Late Co", days_ago=12),  # kick-off and data overdue
        "slightly": _plan_for(
            alice, template, "Slightly Late Co", days_ago=5, segment="enterprise"
        ),  # kick-off overdue
        "ahead": _plan_for(alice, template, "Ahead Co", days_ago=12, done=3),  # on track, next due day 40
        "done": _plan_for(alice, template, "Done Co", days_ago=60, done=4),
    }


def _rows(client, **params):
    response = client.get(reverse("onboarding:board"), params)
    assert response.status_code == 200
    return [p.account.name for p in response.context["plans"]], response


def test_behind_schedule_first_then_the_soonest_due(client, alice, board_plans):
    client.force_login(alice)
    names, response = _rows(client)
    # Behind: the one whose next open milestone is the oldest first; then on track by next due.
    assert names == ["Late Co", "Slightly Late Co", "Fresh Co", "Ahead Co"]
    html = response.content.decode()
    assert '<progress class="progress" max="100" value="60"' in html  # Ahead: 6 of 10
    assert "Behind" in html and "On track" in html
    assert response.context["counts"] == {"open": 4, "behind": 2, "done": 1, "all": 5, "on_track": 2}


def test_tabs_filters_and_sorts(client, alice, board_plans):
    client.force_login(alice)
    assert _rows(client, status="behind")[0] == ["Late Co", "Slightly Late Co"]
    assert _rows(client, status="on_track")[0] == ["Fresh Co", "Ahead Co"]
    assert _rows(client, status="done")[0] == ["Done Co"]
    assert len(_rows(client, status="all")[0]) == 5
    assert _rows(client, segment="enterprise")[0] == ["Slightly Late Co"]
    assert _rows(client, q="ahead")[0] == ["Ahead Co"]
    assert _rows(client, sort="-progress")[0][0] == "Ahead Co"
    assert _rows(client, sort="account")[0] == ["Ahead Co", "Fresh Co", "Late Co", "Slightly Late Co"]
    # Nonsense filters are ignored, not an error.
    names, response = _rows(client, status="bogus", sort="drop table", segment="galaxy", template="x")
    assert response.status_code == 200
    assert names == ["Late Co", "Slightly Late Co", "Fresh Co", "Ahead Co"]  # the defaults


def test_htmx_returns_the_results_only(client, alice, board_plans):
    client.force_login(alice)
    response = client.get(reverse("onboarding:board"), {"status": "done"}, headers=HX)
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="results"')
    assert "Done Co" in html and "<html" not in html


def test_empty_states(client, alice, board_plans):
    client.force_login(alice)
    _names, response = _rows(client, q="nothing like this")
    assert "No plans match these filters." in response.content.decode()
    client.force_login(alice)
    from onboarding.models import OnboardingPlan

    OnboardingPlan.objects.all().delete()
    assert "No accounts in onboarding." in client.get(reverse("onboarding:board")).content.decode()


def test_pagination(client, alice, template):
    for i in range(27):
        _plan_for(alice, template, f"Paged {i:02d}", days_ago=1)
    client.force_login(alice)
    names, response = _rows(client, sort="account")
    assert len(names) == 25 and response.context["page"].paginator.num_pages == 2
    names, _response = _rows(client, sort="account", page=2)
    assert names == ["Paged 25", "Paged 26"]


@pytest.mark.parametrize("who", ["alice", "carol"])
def test_board_query_count_does_not_grow_with_plans(
    client, request, alice, template, who, django_assert_max_num_queries
):
    user = request.getfixturevalue(who)
    _plan_for(alice, template, "One", days_ago=15, done=1)
    client.force_login(user)
    with django_assert_max_num_queries(30) as small:
        client.get(reverse("onboarding:board"))
    for i in range(20):
        _plan_for(alice, template, f"More {i}", days_ago=i * 3, done=i % 5)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(reverse("onboarding:board"))
    assert len(response.context["plans"]) >= 15
