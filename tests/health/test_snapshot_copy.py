"""The nightly job writes snapshots as lines of COPY's text format made per row for speed
(``_snapshot_lines``), not through ``bulk``'s general formatter: both must say the same thing, and
on PostgreSQL the rows stored must be the ones the ORM would have stored."""

import datetime as dt
import json
import math

import pytest
from django.utils import timezone

from health import bulk
from health.models import HealthSnapshot
from health.scoring import CardConfig, MeasureConfig, Result, Scorer
from health.services import SNAPSHOT_COLUMNS, _snapshot_lines, _snapshot_rows
from tests.conftest import requires_postgres
from tests.factories import AccountFactory

NOW = dt.datetime(2026, 3, 1, 12, 30, 5, tzinfo=dt.UTC)
DAY = dt.date(2026, 3, 1)


@pytest.mark.parametrize(
    "values",
    [
        [],
        [None],
        [0.0, -0.5, 100.0, None, -23.076923076923077, 1e-07, 123456789.125, 3],
        [None, None, 7.0, 7.0, 7.0],
    ],
)
def test_float_list_json_is_the_json_of_the_list(values):
    texts = bulk.FloatTexts()
    assert json.loads(bulk.float_list_json(values, texts)) == values
    assert json.loads(bulk.float_list_json(values, texts)) == values  # remembered texts, same answer


def test_numbers_without_json_are_written_as_null():
    texts = bulk.FloatTexts()
    text = bulk.float_list_json([1.5, math.inf, -math.inf, math.nan, None], texts)
    assert json.loads(text) == [1.5, None, None, None, None]


def _results() -> dict[int, Result]:
    card = CardConfig(
        id=1,
        name="t",
        green_from=70,
        yellow_from=40,
        measures=(MeasureConfig("a", 1, 0, 10), MeasureConfig("b", 1, 0, 10)),
        version_id=42,
    )
    scorer = Scorer(card)
    return {
        5: Result(71, 90, "green", "champion_missing", [10.0, 7.25], scorer),
        6: Result(None, None, "", "", [None, None], scorer),
        7: Result(3, 3, "red", "", [0.3333333333333333, None], scorer),
    }


def _general_lines(results) -> list[str]:
    """What bulk's general formatter writes for the same rows."""
    formatters = [bulk._json_text if c == "raw" else bulk._text for c in SNAPSHOT_COLUMNS]
    return [
        "\t".join(bulk.NULL if v is None else fmt(v) for fmt, v in zip(formatters, row, strict=True))
        for row in _snapshot_rows(results, day=DAY, now=NOW)
    ]


def test_snapshot_lines_say_what_the_general_formatter_says():
    results = _results()
    fast = list(_snapshot_lines(results, day=DAY, now=NOW))
    general = _general_lines(results)
    assert len(fast) == len(general) == 3
    raw_at = SNAPSHOT_COLUMNS.index("raw")
    for mine, theirs in zip(fast, general, strict=True):
        mine_fields, their_fields = mine.split("\t"), theirs.split("\t")
        assert json.loads(mine_fields.pop(raw_at)) == json.loads(their_fields.pop(raw_at))
        assert mine_fields == their_fields


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_snapshot_lines_store_what_the_orm_would(touch_card):
    """COPY the fast lines into the table and read them back through the ORM."""
    from dataclasses import replace

    from django.db import transaction

    from health.models import ScorecardVersion

    version = ScorecardVersion.objects.create(scorecard=touch_card, digest="x", config={})
    accounts = [AccountFactory() for _ in range(3)]
    results = _results()
    scorer = next(iter(results.values())).scorer
    scorer.card = replace(scorer.card, version_id=version.pk)
    mapped = {account.pk: result for account, result in zip(accounts, results.values(), strict=True)}
    now = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        bulk.replace_day_lines(
            HealthSnapshot,
            SNAPSHOT_COLUMNS,
            ids=list(mapped),
            lines=_snapshot_lines(mapped, day=DAY, now=now),
            day=DAY,
        )
    fields = ("day", "card_version_id", "score", "uncapped_score", "capped_by", "grade", "raw", "computed_at")
    stored = {s.account_id: tuple(getattr(s, f) for f in fields) for s in HealthSnapshot.objects.all()}
    assert stored == {
        aid: (DAY, version.pk, r.score, r.uncapped_score, r.capped_by, r.grade, r.raws, now)
        for aid, r in mapped.items()
    }
