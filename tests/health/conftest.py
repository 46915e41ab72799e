"""Helpers for the health tests: a scorecard reduced to the measures a test is about, and an
account whose score is set through the days since its last touchpoint (score = 100 - days)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from health.models import Measure, Scorecard


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
