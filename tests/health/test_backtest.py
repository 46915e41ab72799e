"""The backtest: replay the scoring as of a past day with only the data from before it, then compare
grades with churn over the next 90 days. On a hand-built portfolio whose figures are worked out
below by hand."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from health.scoring import roc_auc
from health.selectors import backtest
from tests.factories import AccountFactory, MrrMovementFactory, TouchpointFactory

URL = reverse("health:backtest")
TODAY = timezone.localdate()
D = TODAY - dt.timedelta(days=100)  # the backtest day
TZ = timezone.get_current_timezone()


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=TZ)


def move(account, kind, day, amount):
    MrrMovementFactory(account=account, kind=kind, date=day, amount=Decimal(amount))


@pytest.fixture
def portfolio(alice, touch_card):
    """Score = 100 - days since the last touchpoint before D (touch_card). Churned = not paying
    on D - 1 + 90 days. Scores and outcomes:

        A 95 retained   B 80 churned   H 70 retained (churned and came back)   -> green
        C 55 retained   D 50 churned   I 50 retained                           -> yellow
        E 20 churned    G 15 churned   F 10 retained                           -> red
    """
    start = D - dt.timedelta(days=400)
    accounts = {}
    for name, days_before, fate in [
        ("A", 5, "stay"),
        ("B", 20, "churn"),
        ("H", 30, "return"),
        ("C", 45, "stay"),
        ("D", 50, "churn"),
        ("I", 50, "stay"),
        ("E", 80, "churn"),
        ("G", 85, "churn"),
        ("F", 90, "stay"),
    ]:
        account = AccountFactory(owner=alice, name=name, contract_start=start, renewal_date=None)
        move(account, "new", start, "100")
        TouchpointFactory(account=account, occurred_at=midnight(D - dt.timedelta(days=days_before)))
        TouchpointFactory(account=account, occurred_at=midnight(D - dt.timedelta(days=300)))
        if fate == "churn":
            move(account, "churn", D + dt.timedelta(days=30), "-100")
        elif fate == "return":
            move(account, "churn", D + dt.timedelta(days=10), "-100")
            move(account, "reactivation", D + dt.timedelta(days=40), "100")
        accounts[name] = account
    # data from D on must not count: a touchpoint at D 00:00 and one after it
    TouchpointFactory(account=accounts["F"], occurred_at=midnight(D))
    TouchpointFactory(account=accounts["E"], occurred_at=midnight(D) + dt.timedelta(hours=30))
    # not in the cohort: won after D, lost before D
    late = AccountFactory(
        owner=alice, name="Late", contract_start=D + dt.timedelta(days=10), renewal_date=None
    )
    move(late, "new", D + dt.timedelta(days=10), "100")
    gone = AccountFactory(owner=alice, name="Gone", contract_start=start, renewal_date=None)
    move(gone, "new", start, "100")
    move(gone, "churn", D - dt.timedelta(days=20), "-100")
    return accounts


def test_auc_by_hand():
    # churned 80, 50, 20, 15 against retained 95, 70, 55, 50, 10: pairs where the churned account
    # scored lower: 80 -> 1 (95); 50 -> 95, 70, 55 and a tie with 50 (half) = 3.5; 20 -> 4; 15 -> 4.
    assert roc_auc([95, 80, 70, 55, 50, 50, 20, 15, 10], [0, 1, 0, 0, 1, 0, 1, 1, 0]) == 12.5 / 20
    assert roc_auc([1, 2], [1, 1]) is None


def test_backtest_figures_match_the_hand_computation(portfolio, django_assert_max_num_queries):
    with django_assert_max_num_queries(15):
        result = backtest(day=D, horizon=90)
    assert (result.start, result.end) == (D - dt.timedelta(days=1), D + dt.timedelta(days=89))
    assert (result.cohort, result.scored, result.churned) == (9, 9, 4)
    assert [(r.grade, r.accounts, r.churned) for r in result.by_grade] == [
        ("red", 3, 2),
        ("yellow", 3, 1),
        ("green", 3, 1),
    ]
    assert result.base_rate == pytest.approx(4 / 9)
    assert result.auc == pytest.approx(0.625)
    assert result.red_lift == pytest.approx((2 / 3) / (4 / 9))  # 1.5
    scores = {pk: score for pk, score, _grade, _lost in result.rows}
    expected = {"A": 95, "B": 80, "H": 70, "C": 55, "D": 50, "I": 50, "E": 20, "G": 15, "F": 10}
    assert {name: scores[a.pk] for name, a in portfolio.items()} == expected
    assert [(r.label, r.accounts, r.churned) for r in result.bands] == [
        ("10–19", 2, 1),
        ("20–29", 1, 1),
        ("50–59", 3, 1),
        ("70–79", 1, 0),
        ("80–89", 1, 1),
        ("90–100", 1, 0),
    ]


def test_backtest_page_for_managers(client, carol, portfolio):
    client.force_login(carol)
    response = client.get(URL, {"day": D.isoformat(), "horizon": 90})
    html = response.content.decode()
    assert response.status_code == 200
    assert '<dd class="big" id="bt-auc">0.625</dd>' in html
    assert '<dd class="big" id="bt-lift">1.50×</dd>' in html
    assert '<dd class="big" id="bt-base">44.4%</dd>' in html
    assert "66.7%" in html and "33.3%" in html
    download = client.get(URL, {"day": D.isoformat(), "horizon": 90, "format": "csv"})
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[0] == ["account_id", "account", "score", "grade", "churned_within_90_days"]
    assert sorted((r[1], r[2], r[3], r[4]) for r in rows[1:])[:2] == [
        ("A", "95", "green", "0"),
        ("B", "80", "green", "1"),
    ]


def test_backtest_default_is_90_days_ago(client, dave, db):
    client.force_login(dave)
    result = client.get(URL).context["result"]
    assert result.day == TODAY - dt.timedelta(days=90) and result.horizon == 90
    assert result.auc is None and result.base_rate is None  # no accounts: no data, never 0


def test_outcome_must_be_known(client, carol, db):
    client.force_login(carol)
    response = client.get(URL, {"day": (TODAY - dt.timedelta(days=30)).isoformat(), "horizon": 90})
    assert response.status_code == 200 and response.context["result"] is None
    assert "Pick a day at least 90 days ago" in response.content.decode()


def test_csms_cannot_run_the_backtest(client, alice, charlie):
    client.force_login(alice)
    assert client.get(URL).status_code == 403
    client.force_login(charlie)
    assert client.get(URL).status_code == 403
