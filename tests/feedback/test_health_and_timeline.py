"""Each answer is on the account's timeline, on the account 360's survey card, and in the health
measures (nps_latest, nps_avg_12m, csat, ces, detractor_at, promoter_at)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from accounts.selectors import account_timeline
from feedback.health import feedback_signals
from health.registry import ScoringContext, provided_signals
from tests.account_page import HX, account_360_html
from tests.factories import AccountFactory, ContactFactory

from . import factories as f


def _answer(account, kind, score, days_ago=1, by=None, **fields):
    campaign = f.campaign(by=account.owner, kind=kind)
    when = timezone.now() - dt.timedelta(days=days_ago)
    invitation = f.invitation(
        contact=ContactFactory(account=account, name="Dana Decider"), campaign_obj=campaign
    )
    return f.response(invitation_obj=invitation, score=score, answered_at=when, **fields)


def test_health_signals_by_hand(alice):
    account, other = AccountFactory(owner=alice), AccountFactory(owner=alice)
    _answer(account, "nps", 9, days_ago=100)
    _answer(account, "nps", 3, days_ago=10)
    _answer(account, "nps", 10, days_ago=400)  # older than 12 months: ignored
    _answer(account, "csat", 5)
    _answer(account, "csat", 2)
    _answer(account, "csat", 4)
    _answer(account, "ces", 6)
    _answer(account, "ces", 3)
    _answer(other, "ces", 7)
    now = timezone.now()
    ctx = ScoringContext(day=timezone.localdate(now), as_of=now, accounts=Account.objects.all())
    signals = feedback_signals(ctx)
    assert signals["nps_latest"][account.pk] == 3.0
    assert signals["nps_avg_12m"][account.pk] == 6.0
    assert signals["csat"][account.pk] == 200 / 3
    assert signals["ces"][account.pk] == 4.5 and signals["ces"][other.pk] == 7.0
    assert (now - signals["detractor_at"][account.pk]).days == 10
    assert (now - signals["promoter_at"][account.pk]).days == 100
    assert other.pk not in signals["nps_latest"]
    assert {"nps_latest", "nps_avg_12m", "csat", "ces", "detractor_at", "promoter_at"} <= provided_signals()


def test_signals_see_only_answers_before_the_moment_scored(alice):
    account = AccountFactory(owner=alice)
    _answer(account, "nps", 2, days_ago=1)
    past = timezone.now() - dt.timedelta(days=5)
    ctx = ScoringContext(day=timezone.localdate(past), as_of=past, replay=True)
    assert account.pk not in feedback_signals(ctx)["nps_latest"]


def test_answers_are_on_the_timeline(alice):
    account = AccountFactory(owner=alice)
    _answer(account, "nps", 4, follow_up="Too slow", comment="Please call")
    entry = next(e for e in account_timeline(account=account).entries if e.kind == "survey")
    assert entry.title == "NPS 4 (Detractor / unhappy) · Dana Decider"
    assert entry.body == "Too slow\nPlease call"
    assert entry.icon == "survey-detractor"


def test_the_account_360_shows_the_latest_scores_and_answers(client, alice):
    account = AccountFactory(owner=alice)
    _answer(account, "nps", 8, days_ago=3)
    _answer(account, "nps", 10, days_ago=1, comment="Love the new reports")
    _answer(account, "ces", 2, days_ago=2)
    client.force_login(alice)
    html = account_360_html(client, account)
    assert "Survey answers" in html
    assert '<span class="score-chip band-promoter">10</span>' in html
    assert '<span class="score-chip band-detractor">2</span>' in html
    assert "Love the new reports" in html
    assert reverse("feedback:account_answers", args=[account.pk]) in html


def test_the_account_360_query_count_does_not_grow_with_answers(client, alice, django_assert_max_num_queries):
    account = AccountFactory(owner=alice)
    _answer(account, "nps", 8)
    client.force_login(alice)
    # the page (the timeline) and its side cards (the answers card), loaded by htmx
    for name, headers in (("accounts:detail", {}), ("accounts:side", HX)):
        url = reverse(name, args=[account.pk])
        with django_assert_max_num_queries(40) as few:
            client.get(url, headers=headers)
        for i in range(12):
            _answer(account, ["nps", "csat", "ces"][i % 3], 3 + i % 3)
        with django_assert_max_num_queries(len(few.captured_queries)):
            client.get(url, headers=headers)
