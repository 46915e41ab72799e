"""Triggered sends: CSAT after a support touchpoint (to the contact touched, when the touchpoint
is committed) and NPS N days after onboarding completes (a row that beat sends on its day); both
under the same consent, suppression and throttling as any campaign."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from accounts.services import touchpoint_log
from feedback import services
from feedback import services_outbox as outbox
from feedback.models import CampaignRound, Invitation
from tests.factories import AccountFactory, ContactFactory

from . import factories as f


@pytest.fixture
def support_csat(alice):
    campaign = services.campaign_create(
        by=alice, name="CSAT after support", survey=f.survey("csat"), trigger="support"
    )
    services.campaign_launch(campaign=campaign, by=alice)
    return campaign


def _log(account, contact, kind="support"):
    return touchpoint_log(
        account=account, author=account.owner, kind=kind, summary="Ticket #42 solved", contact=contact
    )


def test_a_support_touchpoint_sends_csat_to_the_contact_touched(
    alice, support_csat, django_capture_on_commit_callbacks
):
    account = AccountFactory(owner=alice)
    dana, _other = ContactFactory(account=account, email="dana@x.example"), ContactFactory(account=account)
    with django_capture_on_commit_callbacks(execute=True):
        touchpoint = _log(account, dana)
    assert [m.to for m in mail.outbox] == [["dana@x.example"]]
    assert "How did we do?" in mail.outbox[0].subject
    invitation = Invitation.objects.get()
    assert invitation.source == f"touchpoint:{touchpoint.pk}" and invitation.status == "sent"
    local = timezone.localtime()
    assert invitation.round.number == local.year * 100 + local.month  # this month's round


def test_other_touchpoints_and_no_contact_send_nothing(
    alice, support_csat, django_capture_on_commit_callbacks
):
    account = AccountFactory(owner=alice)
    dana = ContactFactory(account=account)
    with django_capture_on_commit_callbacks(execute=True):
        _log(account, dana, kind="call")
        _log(account, None)
    assert mail.outbox == [] and not Invitation.objects.exists()


def test_triggered_sends_are_throttled_like_any(alice, support_csat, django_capture_on_commit_callbacks):
    account = AccountFactory(owner=alice)
    dana = ContactFactory(account=account)
    with django_capture_on_commit_callbacks(execute=True):
        _log(account, dana)
        _log(account, dana)  # a second ticket the same week
    assert len(mail.outbox) == 1
    assert Invitation.objects.count() == 1  # one per contact and month round


def test_a_touchpoint_outside_the_campaigns_audience_sends_nothing(
    alice, bob, support_csat, django_capture_on_commit_callbacks
):
    account = AccountFactory(owner=bob)  # not in alice's portfolio: alice's campaign cannot reach it
    with django_capture_on_commit_callbacks(execute=True):
        _log(account, ContactFactory(account=account))
    assert mail.outbox == []


def test_a_rolled_back_touchpoint_triggers_nothing(alice, support_csat):
    from django.db import transaction

    account = AccountFactory(owner=alice)
    dana = ContactFactory(account=account)
    with pytest.raises(RuntimeError), transaction.atomic():
        _log(account, dana)
        raise RuntimeError
    assert not Invitation.objects.exists()


def test_nps_after_onboarding_waits_for_its_day(alice, django_capture_on_commit_callbacks):
    campaign = services.campaign_create(
        by=alice,
        name="NPS after onboarding",
        survey=f.survey("nps"),
        trigger="onboarding",
        trigger_delay_days=14,
    )
    services.campaign_launch(campaign=campaign, by=alice)
    account = AccountFactory(owner=alice)
    ContactFactory(account=account, email="a@x.example")
    ContactFactory(account=account, email="b@x.example", accepts_surveys=False)
    completed = timezone.now() - dt.timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        invitations = services.survey_trigger_after_onboarding(account=account, completed_at=completed)
    assert sorted(i.status for i in invitations) == ["queued", "skipped"]
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        outbox.feedback_tick()
    assert mail.outbox == []  # 11 days to go
    Invitation.objects.filter(status="queued").update(send_after=timezone.now() - dt.timedelta(minutes=1))
    CampaignRound.objects.update(heartbeat_at=timezone.now() - dt.timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        outbox.feedback_tick()
    assert [m.to for m in mail.outbox] == [["a@x.example"]]


def test_a_triggered_campaign_cannot_repeat(alice):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        services.campaign_create(
            by=alice, name="x", survey=f.survey("csat"), trigger="support", recurrence_months=3
        )
    assert "recurrence_months" in exc.value.message_dict
