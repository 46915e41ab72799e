"""The nightly job scores accounts with ``Scorer.score_many``, a loop written out for speed. It must
give exactly what ``Scorer.score`` (the one-account path pages and tests use) gives."""

import datetime as dt
import random
from decimal import Decimal

import pytest

from health.scoring import CapConfig, CardConfig, MeasureConfig, Scorer

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
MEASURES = (
    MeasureConfig("days_since_usage", 30, 30, 0),
    MeasureConfig("usage_trend", 20, -50, 20),
    MeasureConfig("nps_latest", 15, -100, 50),
    MeasureConfig("mrr_trend", 10, -20, 10),
    MeasureConfig("overdue_tasks", 5, 5, 0),
)
CAPS = (
    CapConfig("champion_missing", 60, 0),
    CapConfig("detractor_recent", 40, 30),
    CapConfig("usage_collapse", 30, 0, 50),
)


def _value(rng: random.Random):
    kind = rng.random()
    if kind < 0.2:
        return None
    if kind < 0.4:
        return rng.randint(-120, 120)  # ints, as counts come
    if kind < 0.5:
        return Decimal(rng.randint(-5000, 5000)) / 100  # Decimals, as money comes
    return rng.uniform(-150, 150)


@pytest.mark.parametrize("caps", [(), CAPS], ids=["no caps", "caps"])
@pytest.mark.parametrize("seed", range(4))
def test_score_many_equals_one_by_one(seed, caps):
    rng = random.Random(seed)
    card = CardConfig(id=1, name="t", green_from=70, yellow_from=40, measures=MEASURES, caps=caps)
    ids = list(range(1, 2001))
    signals: dict[str, dict[int, object]] = {}
    for key in [m.key for m in MEASURES] + ["usage_prior_30"]:
        signals[key] = {aid: v for aid in ids if (v := _value(rng)) is not None}
    signals["champion_missing"] = {aid: rng.randint(0, 1) for aid in ids if rng.random() < 0.5}
    signals["detractor_at"] = {
        aid: NOW - dt.timedelta(days=rng.randint(0, 60)) for aid in ids if rng.random() < 0.3
    }
    scorer = Scorer(card)
    many = scorer.score_many(ids, signals, NOW)
    assert list(many) == ids
    some_capped = False
    for aid in ids:

        def get(key, aid=aid):
            return signals.get(key, {}).get(aid)

        one = scorer.score(get, NOW)
        got = many[aid]
        assert (got.score, got.uncapped_score, got.grade, got.capped_by, got.raws) == (
            one.score,
            one.uncapped_score,
            one.grade,
            one.capped_by,
            one.raws,
        ), aid
        some_capped |= bool(got.capped_by)
    assert some_capped == bool(caps)
