"""Exceptions that override the total: a cap lowers the score while its condition holds."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import UsageEvent
from health.models import ScoreCap, Task
from health.registry import SOURCES, Source
from health.scoring import CapConfig, CardConfig, MeasureConfig, score_account
from health.services import health_scores_recompute
from tests.factories import AccountFactory, ContactFactory

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
CARD = CardConfig(
    id=1,
    name="t",
    green_from=70,
    yellow_from=40,
    measures=(MeasureConfig("days_since_touch", 10, 100, 0),),
    caps=(CapConfig("detractor_recent", 40, 30), CapConfig("champion_missing", 60, 0)),
)


def test_detractor_in_the_last_30_days_caps_the_score_at_40():
    signals = {"days_since_touch": 5, "detractor_at": NOW - dt.timedelta(days=29)}
    result = score_account(CARD, signals, NOW)
    assert (result.uncapped_score, result.score, result.grade, result.capped_by) == (
        95,
        40,
        "yellow",
        "detractor_recent",
    )


@pytest.mark.parametrize(("days", "capped"), [(30, True), (31, False)])
def test_detractor_window_boundary(days, capped):
    signals = {"days_since_touch": 5, "detractor_at": NOW - dt.timedelta(days=days)}
    assert (score_account(CARD, signals, NOW).score == 40) is capped


def test_cap_never_raises_a_lower_score():
    signals = {"days_since_touch": 80, "detractor_at": NOW}
    result = score_account(CARD, signals, NOW)
    assert (result.score, result.capped_by) == (20, "")


def test_lowest_applicable_cap_wins():
    signals = {"days_since_touch": 0, "detractor_at": NOW, "champion_missing": 1}
    assert score_account(CARD, signals, NOW).score == 40
    signals = {"days_since_touch": 0, "champion_missing": 1}
    result = score_account(CARD, signals, NOW)
    assert (result.score, result.capped_by) == (60, "champion_missing")


def test_champion_left_caps_the_score_and_the_page_explains_it(client, alice, touch_card):
    account = AccountFactory(owner=alice, last_touch_at=timezone.now() - dt.timedelta(hours=1))
    ContactFactory(account=account, role="user")  # contacts, but no champion any more
    ScoreCap.objects.create(scorecard=touch_card, condition="champion_missing", cap=60)
    champion_kept = AccountFactory(owner=alice, last_touch_at=timezone.now() - dt.timedelta(hours=1))
    ContactFactory(account=champion_kept, role="champion")
    health_scores_recompute()
    client.force_login(alice)
    health = client.get(reverse("accounts:detail", args=[account.pk])).context["health"]
    assert (health.snapshot.uncapped_score, health.score, health.snapshot.grade) == (100, 60, "yellow")
    assert health.cap_label == "Champion left" and health.cap_points == -40
    # the points shown, cap included, add up to the score
    assert health.total_contribution + health.cap_points == health.score
    kept = client.get(reverse("accounts:detail", args=[champion_kept.pk])).context["health"]
    assert kept.score == 100 and not kept.cap_label


def test_inactive_cap_does_not_apply(alice, touch_card):
    account = AccountFactory(owner=alice, last_touch_at=timezone.now() - dt.timedelta(hours=1))
    ContactFactory(account=account, role="user")
    ScoreCap.objects.create(scorecard=touch_card, condition="champion_missing", cap=60, is_active=False)
    health_scores_recompute()
    assert account.health_snapshots.get().score == 100


def test_a_later_source_feeds_the_detractor_cap(monkeypatch, alice, touch_card):
    """Surveys do not exist yet; a source registered later (as feedback will) drives the cap."""
    account = AccountFactory(owner=alice, last_touch_at=timezone.now() - dt.timedelta(hours=1))
    ScoreCap.objects.create(scorecard=touch_card, condition="detractor_recent", cap=40, window_days=30)

    def answers(ctx):
        return {"detractor_at": {account.pk: ctx.as_of - dt.timedelta(days=3)}}

    monkeypatch.setitem(SOURCES, "feedback-test", Source("feedback-test", ("detractor_at",), answers))
    health_scores_recompute()
    snapshot = account.health_snapshots.get()
    assert (snapshot.score, snapshot.capped_by) == (40, "detractor_recent")


COLLAPSE = CardConfig(
    id=1,
    name="t",
    green_from=70,
    yellow_from=40,
    measures=(MeasureConfig("days_since_touch", 10, 100, 0),),
    caps=(CapConfig("usage_collapse", 39, 0, 60),),
)


@pytest.mark.parametrize(
    ("trend", "before", "capped"),
    [(-60.0, 10, True), (-90.0, 40, True), (-59.9, 10, False), (-80.0, 9, False), (None, 50, False)],
)
def test_usage_collapse_caps_at_39_from_enough_events(trend, before, capped):
    signals = {"days_since_touch": 5, "usage_trend": trend, "usage_prior_30": before}
    result = score_account(COLLAPSE, signals, NOW)
    assert (result.score, result.grade) == ((39, "red") if capped else (95, "green"))


def test_an_account_whose_usage_collapses_turns_red_with_one_alert(alice):
    """Usage down 90 % (one event in ten days) but otherwise healthy: the default scorecard's
    'usage collapsed' exception makes it red, and the red rule opens one alert with its tasks."""
    now = timezone.now()
    account = AccountFactory(owner=alice, last_touch_at=now - dt.timedelta(days=3))
    people = [
        ContactFactory(account=account, role="champion"),
        *ContactFactory.create_batch(3, account=account),
    ]
    events = [(people[i % 4], 31 + i * 0.7) for i in range(40)]  # 40 events the 30 days before
    events += [(people[0], d) for d in (10, 20, 25, 28)]  # 4 in the last 30 days: -90 %
    UsageEvent.objects.bulk_create(
        UsageEvent(account=account, contact=c, name="x", occurred_at=now - dt.timedelta(days=d))
        for c, d in events
    )
    health_scores_recompute(now=now)
    snapshot = account.health_snapshots.get()
    assert (snapshot.score, snapshot.grade, snapshot.capped_by) == (39, "red", "usage_collapse")
    assert snapshot.uncapped_score >= 40  # without the exception it would not be red
    assert [a.rule.name for a in account.alerts.select_related("rule")] == ["Health turned red"]
    assert Task.objects.filter(account=account, owner=alice).count() == 4
