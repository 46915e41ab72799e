"""NPS, CSAT and CES against values computed by hand, per DESIGN.md: NPS = % promoters (9-10)
− % detractors (0-6) among 0-10 answers given in the period; CSAT = % of 1-5 answers that are 4
or 5; CES = the mean of 1-7 answers and % answering 5-7. Periods are calendar days in the
platform's time zone; no answers is "no data", never 0."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse

from feedback import selectors
from tests.factories import AccountFactory, ContactFactory

from . import factories as f

TZ = zoneinfo.ZoneInfo("Europe/Istanbul")


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=TZ)


@pytest.fixture
def answers(alice, settings):
    settings.TIME_ZONE = "Europe/Istanbul"

    def add(kind: str, scores: list[int], *, when: dt.datetime, account=None, **account_fields):
        account = account or AccountFactory(owner=alice, **account_fields)
        campaign = f.campaign(by=alice, kind=kind)
        made = []
        for score in scores:
            invitation = f.invitation(
                contact=ContactFactory(account=account), campaign_obj=campaign, sent_at=when
            )
            made.append(f.response(invitation_obj=invitation, score=score, answered_at=when))
        return made

    return add


def analyse(user, kind, start, end, **filters):
    return selectors.analysis(
        user=user, filters=selectors.AnalysisFilters(kind=kind, start=start, end=end, **filters)
    )


def test_nps_by_hand(alice, answers):
    day = dt.date(2026, 3, 10)
    answers("nps", [10, 9, 9, 8, 7, 6, 5, 0, 10, 3], when=at(day))
    # promoters 10, 9, 9, 10 = 4; detractors 6, 5, 0, 3 = 4; passives 2 → (4 − 4) / 10 = 0
    result = analyse(alice, "nps", day, day)
    assert (result.metric.answers, result.metric.high, result.metric.low) == (10, 4, 4)
    assert result.metric.value == 0.0
    answers("nps", [9, 10, 9], when=at(day))
    # 7 promoters, 4 detractors of 13: 100 × 3 / 13 = 23.08
    assert analyse(alice, "nps", day, day).metric.value == pytest.approx(300 / 13)


def test_csat_by_hand(alice, answers):
    day = dt.date(2026, 3, 10)
    answers("csat", [5, 4, 4, 3, 2, 1, 5], when=at(day))
    assert analyse(alice, "csat", day, day).metric.value == pytest.approx(4 / 7 * 100)  # 57.14 %


def test_ces_by_hand(alice, answers):
    day = dt.date(2026, 3, 10)
    answers("ces", [7, 6, 5, 4, 3, 1], when=at(day))
    metric = analyse(alice, "ces", day, day).metric
    assert metric.value == pytest.approx(26 / 6)  # mean 4.33
    assert metric.high_pct == pytest.approx(50.0)  # 7, 6, 5 of 6 answer 5-7


def test_the_period_is_calendar_days_in_the_platform_time_zone(alice, answers):
    day = dt.date(2026, 3, 10)
    answers(
        "nps", [10], when=at(day, 0) + dt.timedelta(minutes=30)
    )  # 00:30 Istanbul = 21:30 UTC the day before
    answers("nps", [0], when=at(day + dt.timedelta(days=1), 0) - dt.timedelta(minutes=1))  # 23:59 Istanbul
    answers("nps", [0], when=at(day + dt.timedelta(days=1), 0))  # the next day: outside
    metric = analyse(alice, "nps", day, day).metric
    assert (metric.answers, metric.value) == (2, 0.0)


def test_no_answers_is_no_data(client, alice, answers):
    result = analyse(alice, "csat", dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert result.metric.value is None and result.response_rate is None
    client.force_login(alice)
    page = client.get(
        reverse("feedback:analysis"), {"kind": "csat", "start": "2026-01-01", "end": "2026-01-31"}
    )
    assert page.status_code == 200
    assert "No data" in page.content.decode()


def test_trend_by_month_and_breakdowns(client, alice, answers):
    answers("nps", [10, 10, 0], when=at(dt.date(2026, 1, 15)), segment="enterprise", plan="Pro")
    answers("nps", [9, 6], when=at(dt.date(2026, 3, 2)), segment="smb", plan="Basic")
    result = analyse(alice, "nps", dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    months = {month.isoformat(): metric.value for month, metric in result.months}
    assert months["2026-01-01"] == pytest.approx(100 / 3)
    assert months["2026-02-01"] is None
    assert months["2026-03-01"] == 0.0
    by_segment = {label: metric.value for label, metric in result.breakdowns[0].rows}
    assert by_segment == {"Enterprise": pytest.approx(100 / 3), "SMB": 0.0}
    enterprise = analyse(alice, "nps", dt.date(2026, 1, 1), dt.date(2026, 3, 31), segment="enterprise")
    assert enterprise.metric.answers == 3
    assert analyse(alice, "nps", dt.date(2026, 1, 1), dt.date(2026, 3, 31), plan="Basic").metric.answers == 2
    cohort = analyse(alice, "nps", dt.date(2026, 1, 1), dt.date(2026, 3, 31), cohort="2025-Q1")
    assert cohort.metric.answers == 5  # the factory's contract start: 2025-01-01
    client.force_login(alice)
    html = client.get(
        reverse("feedback:analysis"), {"kind": "nps", "start": "2026-01-01", "end": "2026-03-31"}
    ).content.decode()
    assert 'data-metric="nps">+20<' in html  # (3 promoters − 2 detractors) / 5
    assert "By Segment" in html and "<svg" in html and "Show as table" in html


def test_response_rate_counts_answered_invitations_sent_in_the_period(alice, answers):
    day = dt.date(2026, 5, 5)
    made = answers("csat", [5, 1], when=at(day))
    campaign = made[0].campaign
    f.invitation(contact=ContactFactory(account=made[0].account), campaign_obj=campaign, sent_at=at(day))
    f.invitation(contact=ContactFactory(account=made[0].account), campaign_obj=campaign, sent_at=at(day))
    result = analyse(alice, "csat", day, day)
    assert (result.invitations_sent, result.invitations_answered) == (4, 2)
    assert result.response_rate == 50.0


def test_answers_of_other_portfolios_are_not_counted_for_a_csm(alice, bob, carol, answers):
    day = dt.date(2026, 3, 10)
    answers("nps", [10], when=at(day))
    answers("nps", [0, 0], when=at(day), account=AccountFactory(owner=bob))
    assert analyse(alice, "nps", day, day).metric.value == 100.0
    assert analyse(carol, "nps", day, day).metric.value == pytest.approx(-100 / 3)
