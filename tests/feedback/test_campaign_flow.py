"""A campaign from draft to answers: launch writes the outbox, the senders send each invitation
once with its Message-ID, and the page shows the progress."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from feedback import services
from feedback.models import CampaignStatus, Invitation, InvitationStatus, RoundStatus
from tests.factories import AccountFactory, ContactFactory

from . import factories as f


@pytest.fixture
def audience(alice):
    accounts = [AccountFactory(owner=alice, segment="enterprise") for _ in range(3)]
    contacts = [ContactFactory(account=account) for account in accounts for _ in range(2)]
    return accounts, contacts


def test_launch_writes_outbox_and_sends_each_once(alice, audience, django_capture_on_commit_callbacks):
    _accounts, contacts = audience
    campaign = services.campaign_create(by=alice, name="Q3 NPS", survey=f.survey("nps"))
    assert campaign.status == CampaignStatus.DRAFT
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_launch(campaign=campaign, by=alice)
    invitations = Invitation.objects.filter(campaign=campaign)
    assert invitations.count() == len(contacts)
    assert set(invitations.values_list("status", flat=True)) == {InvitationStatus.SENT}
    assert len(mail.outbox) == len(contacts)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(c.email for c in contacts)
    ids = {m.extra_headers["Message-ID"] for m in mail.outbox}
    assert ids == set(invitations.values_list("message_id", flat=True))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FINISHED
    assert campaign.rounds.get().status == RoundStatus.SENT


def test_campaign_page_shows_progress_and_stops_polling_when_done(
    client, alice, audience, django_capture_on_commit_callbacks
):
    campaign = services.campaign_create(by=alice, name="Q3 NPS", survey=f.survey("nps"))
    client.force_login(alice)
    page = client.get(campaign.get_absolute_url())
    assert page.status_code == 200
    assert b"Audience if sent now" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("feedback:campaign_launch", args=[campaign.pk]))
    assert response.status_code == 302
    partial = client.get(reverse("feedback:campaign_progress", args=[campaign.pk]), HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    html = partial.content.decode()
    assert 'value="6"' in html and 'max="6"' in html
    assert "hx-trigger" not in html  # done: the polling stops
