"""The arithmetic of a health score, free of the database: measure scores, re-weighting, caps,
contributions that add up, grades, and the ROC AUC the backtest reports.

A score is a pure function of the raw values and the scorecard's configuration. Snapshots store
the raw values and the exact configuration used (a ``ScorecardVersion``), so every measure's score
and contribution on any past day is recomputed exactly by ``Scorer.explain`` when shown.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import repeat
from typing import Any

from .registry import CAPS, USAGE_COLLAPSE_MIN_EVENTS

CAP_SIGNALS = ("detractor_at", "champion_missing", "usage_trend", "usage_prior_30")  # what caps read


def measure_score(raw: float, zero_at: float, full_at: float) -> float:
    """0 at ``zero_at`` (and beyond it), 100 at ``full_at`` (and beyond it), linear in between.

    Works both ways: when ``full_at < zero_at`` a lower raw value is better.
    """
    t = (raw - zero_at) / (full_at - zero_at)
    return 100.0 * min(1.0, max(0.0, t))


def round_half_up(value: float, places: int = 0) -> float:
    """Round half away from zero (as people do), not to even."""
    scale = 10.0**places
    scaled = abs(value) * scale + 0.5 + 1e-9
    return math.copysign(math.floor(scaled) / scale, value)


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
        factor = total_tenths / current
        scaled = [part * factor for part in exact]
    floors = [math.floor(value) for value in scaled]
    missing = total_tenths - sum(floors)
    if missing:
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
    threshold: int | None = None


@dataclass(frozen=True)
class CardConfig:
    """A scorecard as the scorer needs it (loaded once per run). ``version_id``: the stored
    ``ScorecardVersion`` with exactly this configuration, when one has been recorded."""

    id: int | None
    name: str
    green_from: int
    yellow_from: int
    measures: tuple[MeasureConfig, ...]
    caps: tuple[CapConfig, ...] = ()
    version_id: int | None = None

    def grade_for(self, score: int | None) -> str:
        if score is None:
            return ""
        if score >= self.green_from:
            return "green"
        if score >= self.yellow_from:
            return "yellow"
        return "red"

    def config(self) -> dict[str, Any]:
        """The configuration that decides scores, as stored in a scorecard version."""
        return {
            "name": self.name,
            "green_from": self.green_from,
            "yellow_from": self.yellow_from,
            "measures": [[m.key, m.weight, m.zero_at, m.full_at] for m in self.measures if m.weight > 0],
            "caps": [[c.condition, c.cap, c.window_days, c.threshold] for c in self.caps],
        }

    def digest(self) -> str:
        text = json.dumps(self.config(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    @classmethod
    def from_config(cls, config: dict[str, Any], *, id: int | None = None, version_id: int | None = None):
        return cls(
            id=id,
            name=config["name"],
            green_from=config["green_from"],
            yellow_from=config["yellow_from"],
            measures=tuple(MeasureConfig(k, w, z, f) for k, w, z, f in config["measures"]),
            caps=tuple(CapConfig(*cap) for cap in config["caps"]),
            version_id=version_id,
        )


@dataclass(slots=True)
class Result:
    """One account's score. ``raws`` are the measures' raw values in the order of
    ``scorer.keys`` (None: no data); ``measures`` explains them."""

    score: int | None
    uncapped_score: int | None
    grade: str
    capped_by: str
    raws: list[float | None]
    scorer: Scorer

    @property
    def measures(self) -> dict[str, list[Any]]:
        """key -> [raw, score, weight, contribution]; no data: [None, None, weight, None]."""
        return self.scorer.explain(self.raws)


def cap_test(
    cap: CapConfig, columns: Mapping[str, Mapping[int, Any]], as_of: dt.datetime
) -> Callable[[int], bool]:
    """Whether ``cap``'s condition holds for an account, as a test of its id, over the signals'
    columns ({signal key: {account id: value}}): the conditions decided once, not per account."""
    empty: dict[int, Any] = {}
    if cap.condition == "detractor_recent":
        detractor_at = columns.get("detractor_at", empty)
        since = as_of - dt.timedelta(days=cap.window_days)

        def detractor_recent(aid: int) -> bool:
            when = detractor_at.get(aid)
            return when is not None and when >= since

        return detractor_recent
    if cap.condition == "champion_missing":
        champion_missing = columns.get("champion_missing", empty)
        return lambda aid: bool(champion_missing.get(aid))
    if cap.condition == "usage_collapse":
        trend, prior = columns.get("usage_trend", empty), columns.get("usage_prior_30", empty)
        limit = -(cap.threshold or 0)

        def usage_collapse(aid: int) -> bool:
            change, before = trend.get(aid), prior.get(aid)
            return (
                change is not None
                and before is not None
                and before >= USAGE_COLLAPSE_MIN_EVENTS
                and change <= limit
            )

        return usage_collapse
    return lambda aid: False


def cap_applies(cap: CapConfig, signals: dict[str, Any], as_of: dt.datetime) -> bool:
    """Whether ``cap``'s condition holds for one account, given its signals ({key: value})."""
    return cap_test(cap, {key: {0: value} for key, value in signals.items()}, as_of)(0)


def _number(raw: Any) -> float | None:
    if raw is None:
        return None
    value = float(raw)  # sources may give int or Decimal
    return None if value != value else value  # NaN: no data


class Scorer:
    """Scores many accounts with one scorecard: the card's measures are unpacked once and the loop
    per account only sums (100,000 accounts in well under a second); ``explain`` gives the
    per-measure scores and contributions when a page shows them."""

    def __init__(self, card: CardConfig) -> None:
        self.card = card
        self.measures = tuple(
            (m.key, m.weight, m.zero_at, 1.0 / (m.full_at - m.zero_at)) for m in card.measures if m.weight > 0
        )
        self.keys = tuple(m[0] for m in self.measures)
        self.caps = tuple(sorted((c for c in card.caps if c.condition in CAPS), key=lambda c: c.cap))

    def score(self, get: Callable[[str], Any], as_of: dt.datetime) -> Result:
        """``get(key)`` gives the account's raw value for a signal, or None (no data)."""
        caps = {key: get(key) for key in CAP_SIGNALS}
        return self.score_raws([_number(get(key)) for key in self.keys], caps, as_of)

    def score_many(
        self, account_ids, signals: dict[str, dict[int, Any]], as_of: dt.datetime
    ) -> dict[int, Result]:
        """``score_raws`` for many accounts, written out in one loop (the nightly job's hot spot):
        the same arithmetic in the same order, so the same results to the last bit."""
        empty: dict[int, Any] = {}
        columns = [signals.get(key, empty) for key in self.keys]
        cap_tests = [(cap.cap, cap.condition, cap_test(cap, signals, as_of)) for cap in self.caps]
        specs = [(weight, zero_at, inverse_span) for _key, weight, zero_at, inverse_span in self.measures]
        caps = self.caps
        lowest_cap = caps[0].cap if caps else 0  # sorted: no cap applies to a score at or below it
        green_from, yellow_from = self.card.green_from, self.card.yellow_from
        floor = math.floor
        results = {}
        account_ids = list(account_ids)
        # each measure's values for all the accounts at once (a C loop each), then row by row
        values_by_measure = [list(map(column.get, account_ids)) for column in columns]
        rows = zip(*values_by_measure, strict=True) if values_by_measure else repeat((), len(account_ids))
        for aid, row in zip(account_ids, rows, strict=True):
            raws = list(row)
            weighted, total_weight = 0.0, 0
            for i, raw in enumerate(raws):
                if raw is None:
                    continue
                if raw.__class__ is not float:
                    raws[i] = raw = _number(raw)
                    if raw is None:
                        continue
                weight, zero_at, inverse_span = specs[i]
                t = (raw - zero_at) * inverse_span
                weighted += weight * (0.0 if t <= 0 else 100.0 if t >= 1 else 100.0 * t)
                total_weight += weight
            if not total_weight:
                results[aid] = Result(None, None, "", "", raws, self)
                continue
            score = uncapped = floor(weighted / total_weight + 0.5 + 1e-9)
            capped_by = ""
            if caps and score > lowest_cap:
                for cap, condition, applies in cap_tests:
                    if cap < score and applies(aid):
                        score, capped_by = cap, condition
                        break
            grade = "green" if score >= green_from else "yellow" if score >= yellow_from else "red"
            results[aid] = Result(score, uncapped, grade, capped_by, raws, self)
        return results

    def _total(self, raws: list[float | None]) -> tuple[float, int]:
        weighted, total_weight = 0.0, 0
        for (_key, weight, zero_at, inverse_span), raw in zip(self.measures, raws, strict=True):
            if raw is not None:
                t = (raw - zero_at) * inverse_span
                weighted += weight * (0.0 if t <= 0 else 100.0 if t >= 1 else 100.0 * t)
                total_weight += weight
        return weighted, total_weight

    def score_raws(self, raws: list[float | None], caps: dict[str, Any], as_of: dt.datetime) -> Result:
        weighted, total_weight = self._total(raws)
        if not total_weight:
            return Result(None, None, "", "", raws, self)
        uncapped = math.floor(weighted / total_weight + 0.5 + 1e-9)
        score, capped_by = uncapped, ""
        for cap in self.caps:
            if cap.cap < score and cap_applies(cap, caps, as_of):
                score, capped_by = cap.cap, cap.condition
                break
        card = self.card
        grade = "green" if score >= card.green_from else "yellow" if score >= card.yellow_from else "red"
        return Result(score, uncapped, grade, capped_by, raws, self)

    def explain(self, raws: list[float | None]) -> dict[str, list[Any]]:
        """Each measure's [raw, score, weight, contribution]; contributions (tenths) add up to the
        score before caps."""
        measures: dict[str, list[Any]] = {}
        used = []
        for (key, weight, zero_at, inverse_span), raw in zip(self.measures, raws, strict=True):
            if raw is None:
                measures[key] = [None, None, weight, None]
                continue
            t = (raw - zero_at) * inverse_span
            used.append((key, raw, 0.0 if t <= 0 else 100.0 if t >= 1 else 100.0 * t, weight))
        weighted, total_weight = self._total(raws)
        if not total_weight:
            return measures
        uncapped = math.floor(weighted / total_weight + 0.5 + 1e-9)
        tenths = allocate([weight * score / total_weight for _k, _r, score, weight in used], uncapped * 10)
        for (key, raw, score, weight), part in zip(used, tenths, strict=True):
            measures[key] = [round(raw, 2), round(score, 1), weight, part / 10]
        return {key: measures[key] for key in self.keys}


def score_account(card: CardConfig, signals: dict[str, Any], as_of: dt.datetime) -> Result:
    """Score one account from its raw values (``signals``: key -> value, absent = no data)."""
    return Scorer(card).score(signals.get, as_of)


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
