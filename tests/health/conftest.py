"""Helpers for the health tests: a scorecard reduced to the measures a test is about, and an
account whose score is set through the days since its last touchpoint (score = 100 - days)."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from health.models import Measure, Scorecard


@pytest.fixture(autouse=True)
def health_defaults(db):
    """The defaults the data migration creates (scorecard, rules, playbooks). Created again when a
    transactional test earlier in the run (a browser test) flushed the database."""
    importlib.import_module("health.migrations.0002_defaults").create_defaults(apps, None)
    importlib.import_module("health.migrations.0004_usage_up_off").switch_off(apps, None)
    importlib.import_module("health.migrations.0005_usage_collapse_cap").add_cap(apps, None)


def default_card() -> Scorecard:
    return Scorecard.objects.get(segment="")


def only_measures(*specs: tuple[str, int, float, float], card: Scorecard | None = None) -> Scorecard:
    """Replace the scorecard's measures with ``(key, weight, zero_at, full_at)`` specs."""
    card = card or default_card()
    card.measures.all().delete()
    Measure.objects.bulk_create(
        Measure(scorecard=card, key=key, weight=weight, zero_at=zero_at, full_at=full_at)
        for key, weight, zero_at, full_at in specs
    )
    return card


@pytest.fixture
def touch_card(db) -> Scorecard:
    """One measure: days since the last touchpoint, 0 at 100 days, 100 at 0 days (score = 100 - days).
    Green from 70, yellow from 40. No caps."""
    card = only_measures(("days_since_touch", 10, 100, 0))
    card.caps.all().delete()
    return card


def set_score(account, score: int, now: dt.datetime | None = None) -> None:
    """Make ``account`` score ``score`` under ``touch_card`` at ``now``."""
    now = now or timezone.now()
    account.last_touch_at = now - dt.timedelta(days=100 - score, hours=1)
    account.save(update_fields=["last_touch_at"])


def past_snapshot(account, day: dt.date, score: int | None, grade: str = ""):
    """A stored snapshot for a past day (only its score matters to the test)."""
    from health.models import HealthSnapshot, ScorecardVersion

    version, _ = ScorecardVersion.objects.get_or_create(
        digest="past",
        defaults={
            "config": {"name": "past", "green_from": 70, "yellow_from": 40, "measures": [], "caps": []}
        },
    )
    return HealthSnapshot.objects.create(
        account=account, day=day, score=score, grade=grade, card_version=version, raw=[]
    )
