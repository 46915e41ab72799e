"""NPS, CSAT and CES from the survey answers given in the period; "no data" without answers."""

import datetime as dt

import pytest
from django.utils import timezone

from dashboards.selectors import Scope, leadership_report
from tests.factories import ContactFactory
from tests.feedback import factories as fb

from .conftest import customer, period

pytestmark = pytest.mark.django_db


def answers(account, by, kind: str, scores: list[int], when: dt.datetime):
    campaign = fb.campaign(by=by, kind=kind, name=f"{kind} {when:%Y%m%d}")
    for score in scores:
        contact = ContactFactory(account=account)
        fb.response(
            invitation_obj=fb.invitation(contact=contact, campaign_obj=campaign),
            score=score,
            answered_at=when,
        )


def at(text: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(text), timezone.get_default_timezone())


def test_nps_csat_and_ces_of_the_answers_in_the_period(everyone, alice, carol):
    account = customer(alice, [("new", "2025-06-01", 100)])
    # NPS: 3 promoters, 2 passives, 5 detractors → (3 − 5) / 10 = −20
    answers(account, carol, "nps", [10, 9, 9, 8, 7, 6, 5, 3, 0, 6], at("2026-01-10 12:00"))
    answers(account, carol, "csat", [5, 4, 3, 1], at("2026-01-31 23:59"))  # 2 of 4 happy
    answers(account, carol, "ces", [7, 6, 2, 5, 1], at("2026-01-01 00:00"))  # mean 4.2; 3 of 5 easy
    answers(account, carol, "nps", [0, 0, 0], at("2026-02-01 00:00"))  # after E: not counted
    answers(account, carol, "nps", [10], at("2025-12-31 23:59"))  # before S: the previous period
    report = leadership_report(scope=everyone, period=period("2026-01-01", "2026-01-31"))
    f = report.current
    assert (f.nps_n, f.nps_promoters, f.nps_detractors, f.nps_passives) == (10, 3, 5, 2)
    assert f.nps == pytest.approx(-20.0)
    assert (f.csat_n, f.csat) == (4, pytest.approx(0.5))
    assert (f.ces_n, f.ces, f.ces_easy_share) == (5, pytest.approx(4.2), pytest.approx(0.6))
    assert (report.previous.nps_n, report.previous.nps) == (1, 100.0)


def test_no_answers_is_no_data_not_zero(everyone, alice):
    customer(alice, [("new", "2025-06-01", 100)])
    f = leadership_report(scope=everyone, period=period("2026-01-01", "2026-01-31")).current
    assert f.surveys is True  # the feedback part is there...
    assert (f.nps, f.csat, f.ces, f.ces_easy_share) == (None, None, None, None)  # ...with no answers


def test_a_csm_sees_the_answers_of_their_accounts_only(alice, bob, carol):
    mine = customer(alice, [("new", "2025-06-01", 100)])
    theirs = customer(bob, [("new", "2025-06-01", 100)])
    answers(mine, carol, "nps", [10], at("2026-01-10 12:00"))
    answers(theirs, carol, "nps", [0, 0], at("2026-01-10 12:00"))
    f = leadership_report(scope=Scope(user=alice), period=period("2026-01-01", "2026-01-31")).current
    assert (f.nps_n, f.nps) == (1, 100.0)
