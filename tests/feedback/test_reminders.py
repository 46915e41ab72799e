"""Reminders go to non-responders only, once, N days after the first email (the campaign's N),
through the same outbox and senders; answered, unsubscribed and too-recent invitations get none."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from feedback import services
from feedback import services_outbox as outbox
from feedback.models import Invitation
from tests.factories import AccountFactory, ContactFactory

from . import factories as f


@pytest.fixture
def sent(alice):
    campaign = f.campaign(by=alice, kind="nps", reminder_after_days=3, status="finished")
    account = AccountFactory(owner=alice)
    four_days = timezone.now() - dt.timedelta(days=4)
    rows = {
        name: f.invitation(
            contact=ContactFactory(account=account, email=f"{name}@c.example"),
            campaign_obj=campaign,
            sent_at=when,
        )
        for name, when in [
            ("silent", four_days),
            ("answered", four_days),
            ("unsubscribed", four_days),
            ("recent", timezone.now() - dt.timedelta(days=2)),
        ]
    }
    f.response(invitation_obj=rows["answered"], score=8)
    services.unsubscribe(invitation=rows["unsubscribed"])
    return campaign, rows


def test_reminders_go_to_non_responders_only(sent, django_capture_on_commit_callbacks):
    _campaign, rows = sent
    with django_capture_on_commit_callbacks(execute=True):
        report = outbox.feedback_tick()
    assert report.reminders_queued == 2  # silent and unsubscribed (checked again when sending)
    assert [m.to[0] for m in mail.outbox] == ["silent@c.example"]
    assert mail.outbox[0].subject.startswith("Reminder")
    states = dict(Invitation.objects.values_list("email", "reminder_status"))
    assert states == {
        "silent@c.example": "sent",
        "answered@c.example": "",
        "unsubscribed@c.example": "skipped",
        "recent@c.example": "",
    }
    silent = Invitation.objects.get(pk=rows["silent"].pk)
    assert silent.reminded_at is not None and silent.reminder_message_id != silent.message_id


def test_a_reminder_is_sent_once(sent, django_capture_on_commit_callbacks):
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            outbox.feedback_tick()
    assert len(mail.outbox) == 1


def test_an_answer_given_after_queueing_cancels_the_reminder(sent):
    _campaign, rows = sent
    assert outbox.reminders_queue() == 2
    f.response(invitation_obj=rows["silent"], score=3)
    report = outbox.invitations_send_chunk(round_id=rows["silent"].round_id, lane=outbox.REMINDER)
    assert report.sent == 0 and mail.outbox == []
    assert Invitation.objects.get(pk=rows["silent"].pk).reminder_status == "skipped"


def test_no_reminder_without_the_option_or_when_paused(sent, django_capture_on_commit_callbacks):
    campaign, _rows = sent
    campaign.status = "paused"
    campaign.save()
    with django_capture_on_commit_callbacks(execute=True):
        outbox.feedback_tick()
    assert mail.outbox == []
    campaign.status, campaign.reminder_after_days = "finished", None
    campaign.save()
    with django_capture_on_commit_callbacks(execute=True):
        outbox.feedback_tick()
    assert mail.outbox == []
