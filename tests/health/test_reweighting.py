"""A measure without data is left out and the others re-weighted; the page says so."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from health.scoring import CardConfig, MeasureConfig, score_account
from health.services import health_scores_recompute

from .conftest import only_measures

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
CARD = CardConfig(
    id=1,
    name="t",
    green_from=70,
    yellow_from=40,
    measures=(
        MeasureConfig("days_since_touch", 20, 100, 0),
        MeasureConfig("usage_trend", 30, -50, 0),
        MeasureConfig("nps_latest", 50, 6, 9),
    ),
)


def test_all_measures_with_data_are_weighted_by_their_weights():
    result = score_account(CARD, {"days_since_touch": 50, "usage_trend": 0, "nps_latest": 6}, NOW)
    # 20 × 50 + 30 × 100 + 50 × 0 over 100
    assert result.score == 40
    assert result.grade == "yellow"


def test_missing_measure_is_left_out_and_the_rest_reweighted():
    result = score_account(CARD, {"days_since_touch": 50, "usage_trend": 0}, NOW)
    # (20 × 50 + 30 × 100) / 50 = 80, not (1000 + 3000) / 100 = 40
    assert result.score == 80
    assert result.grade == "green"
    assert result.measures["nps_latest"] == [None, None, 50, None]
    assert result.measures["days_since_touch"][2:] == [20, 20.0]  # weight, contribution (points)
    assert result.measures["usage_trend"][2:] == [30, 60.0]


def test_no_data_at_all_means_no_score_not_zero():
    result = score_account(CARD, {}, NOW)
    assert result.score is None
    assert result.grade == ""


def test_zero_weight_turns_a_measure_off():
    card = CardConfig(
        id=1, name="t", green_from=70, yellow_from=40,
        measures=(MeasureConfig("days_since_touch", 0, 100, 0), MeasureConfig("usage_trend", 1, -50, 0)),
    )  # fmt: skip
    result = score_account(card, {"days_since_touch": 100, "usage_trend": 0}, NOW)
    assert result.score == 100
    assert "days_since_touch" not in result.measures


def test_account_page_names_the_measures_left_out(client, alice, alice_account):
    only_measures(("days_since_touch", 10, 100, 0), ("nps_latest", 10, 6, 9), ("csat", 5, 50, 90))
    alice_account.last_touch_at = timezone.now() - dt.timedelta(days=10, hours=1)
    alice_account.save()
    health_scores_recompute()
    client.force_login(alice)
    response = client.get(reverse("accounts:detail", args=[alice_account.pk]))
    html = response.content.decode()
    health = response.context["health"]
    assert health.score == 90
    assert [line.key for line in health.missing] == ["csat", "nps_latest"]
    assert "No data:" in html and "Latest NPS answer" in html and "CSAT" in html
    assert "Left out; the other measures were re-weighted." in html
