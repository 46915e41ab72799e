"""Recurring campaigns: every 3, 6 or 12 months a new round is written and sent by beat (rows
with a time, not countdowns), each round with its own score."""

from __future__ import annotations

import datetime as dt

from django.core import mail
from django.utils import timezone

from feedback import selectors, services
from feedback import services_outbox as outbox
from feedback.models import CampaignRound, Invitation, Response
from tests.factories import AccountFactory, ContactFactory

from . import factories as f


def _answer_all(rnd, scores):
    for invitation, score in zip(Invitation.objects.filter(round=rnd).order_by("id"), scores, strict=True):
        f.response(invitation_obj=invitation, score=score)


def test_each_round_is_sent_by_beat_and_scored_on_its_own(client, alice, django_capture_on_commit_callbacks):
    account = AccountFactory(owner=alice)
    for i in range(4):
        ContactFactory(account=account, email=f"p{i}@r.example")
    campaign = services.campaign_create(
        by=alice, name="Quarterly NPS", survey=f.survey("nps"), recurrence_months=3
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_launch(campaign=campaign, by=alice)
    first = CampaignRound.objects.get(campaign=campaign, number=1)
    second = CampaignRound.objects.get(campaign=campaign, number=2)
    assert second.status == "scheduled"
    assert second.scheduled_at == outbox.add_months(first.scheduled_at, 3)
    assert len(mail.outbox) == 4
    _answer_all(first, [10, 9, 2, 7])  # NPS (2 - 1) / 4 = +25

    # Beat does nothing before the round's time...
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.feedback_tick().rounds_started == 0
    # ...and starts it when its time has come (here: the first round moved 100 days back).
    back = dt.timedelta(days=100)
    Invitation.objects.filter(round=first).update(
        sent_at=timezone.now() - back, send_after=timezone.now() - back
    )
    CampaignRound.objects.filter(pk=second.pk).update(scheduled_at=timezone.now() - dt.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.feedback_tick().rounds_started == 1
    assert len(mail.outbox) == 8  # everyone again: 100 days is outside the 30-day throttle
    assert CampaignRound.objects.get(campaign=campaign, number=3).status == "scheduled"
    _answer_all(second, [3, 4, 5, 9])  # (1 - 3) / 4 = -50

    rounds = {r.round.number: r for r in selectors.campaign_rounds(campaign=campaign)}
    assert rounds[1].metric.value == 25.0 and rounds[2].metric.value == -50.0
    assert rounds[3].metric.value is None  # no data yet, not 0
    assert Response.objects.filter(campaign=campaign).count() == 8
    client.force_login(alice)
    html = client.get(campaign.get_absolute_url()).content.decode()
    assert 'data-round-score="1"><strong>+25</strong>' in html
    assert 'data-round-score="2"><strong>-50</strong>' in html


def test_a_round_due_while_paused_waits(alice, django_capture_on_commit_callbacks):
    ContactFactory(account=AccountFactory(owner=alice))
    campaign = services.campaign_create(
        by=alice, name="Later", survey=f.survey("csat"), send_at=timezone.now() + dt.timedelta(hours=1)
    )
    services.campaign_launch(campaign=campaign, by=alice)
    services.campaign_pause(campaign=campaign, by=alice)
    CampaignRound.objects.filter(campaign=campaign).update(
        scheduled_at=timezone.now() - dt.timedelta(minutes=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        outbox.feedback_tick()
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_resume(campaign=campaign, by=alice)
    assert len(mail.outbox) == 1


def test_add_months_keeps_the_day_or_the_months_last():
    when = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
    assert outbox.add_months(when, 3) == dt.datetime(2027, 2, 28, 9, 0, tzinfo=dt.UTC)
    assert outbox.add_months(when, 12) == dt.datetime(2027, 11, 30, 9, 0, tzinfo=dt.UTC)
