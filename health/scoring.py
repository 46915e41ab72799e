"""The arithmetic of a health score, free of the database: measure scores, re-weighting, caps,
contributions that add up, grades, and the ROC AUC the backtest reports."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .registry import CAPS


def measure_score(raw: float, zero_at: float, full_at: float) -> float:
    """0 at ``zero_at`` (and beyond it), 100 at ``full_at`` (and beyond it), linear in between.

    Works both ways: when ``full_at < zero_at`` a lower raw value is better.
    """
    t = (raw - zero_at) / (full_at - zero_at)
    return 100.0 * min(1.0, max(0.0, t))


def round_half_up(value: float, places: int = 0) -> float:
    quantum = Decimal(1).scaleb(-places)
    return float(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def allocate(exact: list[float], total_tenths: int) -> list[int]:
    """Round ``exact`` parts to whole tenths so that they add up to ``total_tenths`` exactly
    (largest remainder, after scaling the parts to the total)."""
    if not exact:
        return []
    current = sum(exact)
    if current <= 0:
        scaled = [0.0] * len(exact)
        scaled[0] = float(total_tenths)
    else:
        scaled = [part * total_tenths / current for part in exact]
    floors = [math.floor(value) for value in scaled]
    missing = total_tenths - sum(floors)
    order = sorted(range(len(exact)), key=lambda i: (scaled[i] - floors[i], -i), reverse=True)
    for i in order[:missing]:
        floors[i] += 1
    return floors


@dataclass(frozen=True)
class MeasureConfig:
    key: str
    weight: int
    zero_at: float
    full_at: float


@dataclass(frozen=True)
class CapConfig:
    condition: str
    cap: int
    window_days: int


@dataclass(frozen=True)
class CardConfig:
    """A scorecard as the scorer needs it (loaded once per run)."""

    id: int | None
    name: str
    green_from: int
    yellow_from: int
    measures: tuple[MeasureConfig, ...]
    caps: tuple[CapConfig, ...] = ()

    def grade_for(self, score: int | None) -> str:
        if score is None:
            return ""
        if score >= self.green_from:
            return "green"
        if score >= self.yellow_from:
            return "yellow"
        return "red"


@dataclass
class Result:
    score: int | None
    uncapped_score: int | None
    grade: str
    capped_by: str = ""
    # key -> [raw, score, weight, contribution]; no data: [None, None, weight, None]
    measures: dict[str, list[Any]] = field(default_factory=dict)


def cap_applies(cap: CapConfig, signals: dict[str, Any], as_of: dt.datetime) -> bool:
    if cap.condition == "detractor_recent":
        when = signals.get("detractor_at")
        return when is not None and when >= as_of - dt.timedelta(days=cap.window_days)
    if cap.condition == "champion_missing":
        return bool(signals.get("champion_missing"))
    return False


def score_account(card: CardConfig, signals: dict[str, Any], as_of: dt.datetime) -> Result:
    """Score one account from its raw values (``signals``: key -> value, absent = no data)."""
    used: list[tuple[MeasureConfig, float, float]] = []
    measures: dict[str, list[Any]] = {}
    for measure in card.measures:
        if measure.weight <= 0:
            continue
        raw = signals.get(measure.key)
        if raw is None:
            measures[measure.key] = [None, None, measure.weight, None]
            continue
        used.append((measure, float(raw), measure_score(float(raw), measure.zero_at, measure.full_at)))
    if not used:
        return Result(score=None, uncapped_score=None, grade="", measures=measures)
    total_weight = sum(m.weight for m, _raw, _s in used)
    exact_parts = [m.weight * s / total_weight for m, _raw, s in used]
    uncapped = int(round_half_up(sum(exact_parts)))
    tenths = allocate(exact_parts, uncapped * 10)
    for (measure, raw, score), part in zip(used, tenths, strict=True):
        measures[measure.key] = [round_half_up(raw, 2), round_half_up(score, 1), measure.weight, part / 10]
    score, capped_by = uncapped, ""
    for cap in sorted(card.caps, key=lambda c: c.cap):
        if cap.condition in CAPS and cap_applies(cap, signals, as_of) and cap.cap < score:
            score, capped_by = cap.cap, cap.condition
            break
    return Result(
        score=score,
        uncapped_score=uncapped,
        grade=card.grade_for(score),
        capped_by=capped_by,
        measures=measures,
    )


def roc_auc(scores: list[float], churned: list[bool]) -> float | None:
    """Probability that a random churned account scored lower than a random retained one
    (ties count half): the ROC AUC of the score as a churn predictor. None without both classes."""
    n_churned = sum(churned)
    n_retained = len(churned) - n_churned
    if not n_churned or not n_retained:
        return None
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        average = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = average
        i = j + 1
    retained_rank_sum = sum(rank for rank, lost in zip(ranks, churned, strict=True) if not lost)
    pairs_won = retained_rank_sum - n_retained * (n_retained + 1) / 2
    return pairs_won / (n_retained * n_churned)
