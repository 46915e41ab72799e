"""Exceptions that override the total: a cap lowers the score while its condition holds."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from health.models import ScoreCap
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
