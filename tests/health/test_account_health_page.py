"""The account 360's health card: score, grade, 90-day trend, changes over 7 and 30 days, why
(ordered by points lost), what changed since last week; alerts and tasks beside it."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from health.models import Alert, AlertRule, HealthSnapshot, ScorecardVersion, Task
from health.scoring import CardConfig, Scorer
from tests.account_page import side
from tests.factories import AccountFactory


def detail(account):
    return reverse("accounts:detail", args=[account.pk])


CONFIG = {
    "name": "Test card",
    "green_from": 70,
    "yellow_from": 40,
    "measures": [["usage_trend", 10, -50, 0], ["days_since_touch", 10, 100, 0], ["nps_latest", 10, 6, 9]],
    "caps": [],
}


def snap(account, days_ago, usage_trend, days_since_touch):
    """A snapshot scored by CONFIG from two raw values (NPS has no data)."""
    version, _ = ScorecardVersion.objects.get_or_create(digest="test", defaults={"config": CONFIG})
    raws = [usage_trend, days_since_touch, None]
    result = Scorer(CardConfig.from_config(CONFIG)).score_raws(raws, {}, timezone.now())
    return HealthSnapshot.objects.create(
        account=account,
        day=timezone.localdate() - dt.timedelta(days=days_ago),
        card_version=version,
        score=result.score,
        uncapped_score=result.uncapped_score,
        grade=result.grade,
        raw=raws,
    )


def test_no_score_yet(client, alice, alice_account):
    client.force_login(alice)
    html = client.get(detail(alice_account)).content.decode()
    assert "No health score yet." in html


def test_score_trend_changes_and_why(client, alice, alice_account):
    assert snap(alice_account, 30, 0.0, 3.0).score == 99  # (100 + 97) / 2 = 98.5, rounded half up
    assert snap(alice_account, 7, -10.0, 5.0).score == 88  # (80 + 95) / 2 = 87.5
    snap(alice_account, 3, -20.0, 8.0)
    assert snap(alice_account, 0, -35.0, 20.0).score == 55  # (30 + 80) / 2
    client.force_login(alice)
    response = client.get(detail(alice_account))
    health = response.context["health"]
    assert (health.score, health.change_7d, health.change_30d) == (55, -33, -44)
    assert [line.key for line in health.lines] == ["usage_trend", "days_since_touch"]  # 35 lost, then 10
    assert [(line.contribution, line.lost, line.share) for line in health.lines] == [
        (15.0, 35.0, 50.0),
        (40.0, 10.0, 50.0),
    ]
    # a week ago the points were 40.2 and 47.8 (87.5 rounded to 88, shared out in tenths)
    assert [(c.label, c.before, c.after, c.delta) for c in health.changes] == [
        ("Usage trend", -10.0, -35.0, -25.2),
        ("Days since last touchpoint", 5.0, 20.0, -7.8),
    ]
    assert len(health.trend) == 4 and health.points.count(",") == 4
    html = response.content.decode()
    assert 'data-score="55"' in html and ">Yellow<" in html
    assert '<span class="change down">-33</span>' in html and '<span class="change down">-44</span>' in html
    assert "Since last week" in html and "<polyline points=" in html
    assert "No data: Latest NPS answer." in html


def test_snapshot_without_any_data_says_so(client, alice, alice_account):
    snap(alice_account, 0, None, None)
    client.force_login(alice)
    html = client.get(detail(alice_account)).content.decode()
    assert "No data for any measure" in html


def test_account_360_with_health_keeps_a_constant_query_count(client, alice, django_assert_max_num_queries):
    """The health card is on the page; the alerts and tasks are side cards, loaded by htmx."""
    account = AccountFactory(owner=alice)
    client.force_login(alice)
    with django_assert_max_num_queries(12) as small:
        client.get(detail(account))
    with django_assert_max_num_queries(14) as small_side:
        side(client, account)
    rule = AlertRule.objects.get(name="Health turned red")
    for days in range(90):
        snap(account, days, -5.0 * (days % 7), float(days % 30))
    Alert.objects.create(account=account, rule=rule, severity="high")
    Alert.objects.create(account=account, rule=AlertRule.objects.get(name="Usage up 50%"), severity="low")
    for i in range(12):
        Task.objects.create(account=account, owner=alice, title=f"t{i}", due_date=timezone.localdate())
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(detail(account))
    with django_assert_max_num_queries(len(small_side.captured_queries)):
        response = side(client, account)
    assert len(response.context["health_tasks"]) == 10 and len(response.context["health_alerts"]) == 2
