"""The campaign pages a CSM works with: create with an audience preview, launch (now or later),
pause and resume, cancel (with confirmation), delete a draft; the list with search and filters;
the survey list and its previews in every language; the development outbox in the local run."""

from __future__ import annotations

import datetime as dt

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from feedback import services
from feedback.models import Campaign, CampaignRound, Invitation
from tests.factories import AccountFactory, ContactFactory

from . import factories as f


def test_create_preview_launch_from_the_pages(client, alice, django_capture_on_commit_callbacks):
    account = AccountFactory(owner=alice, segment="enterprise", domain="acme.example")
    ContactFactory(account=account, role="champion")
    ContactFactory(account=account, role="user")
    AccountFactory(owner=alice, segment="smb")
    client.force_login(alice)
    assert client.get(reverse("feedback:campaign_create")).status_code == 200
    created = client.post(
        reverse("feedback:campaign_create"),
        {
            "name": "Champions NPS",
            "survey": f.survey("nps").pk,
            "segment": "enterprise",
            "contact_role": "champion",
            "accounts_list": "ACME.example\n",
            "throttle_days": "30",
            "reminder_after_days": "4",
        },
    )
    campaign = Campaign.objects.get()
    assert created.status_code == 302 and created["Location"] == campaign.get_absolute_url()
    page = client.get(campaign.get_absolute_url()).content.decode()
    assert 'data-preview="send">1<' in page
    assert 'data-confirm="Launch this campaign?' in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("feedback:campaign_launch", args=[campaign.pk]))
    assert len(mail.outbox) == 1


def test_a_later_send_waits_for_beat(client, alice, django_capture_on_commit_callbacks):
    ContactFactory(account=AccountFactory(owner=alice))
    client.force_login(alice)
    later = timezone.localtime() + dt.timedelta(days=2)
    client.post(
        reverse("feedback:campaign_create"),
        {
            "name": "Friday",
            "survey": f.survey("csat").pk,
            "send_at": later.strftime("%Y-%m-%dT%H:%M"),
            "throttle_days": "30",
        },
    )
    campaign = Campaign.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("feedback:campaign_launch", args=[campaign.pk]))
    assert mail.outbox == [] and not Invitation.objects.exists()
    rnd = CampaignRound.objects.get()
    assert rnd.status == "scheduled" and abs((rnd.scheduled_at - later).total_seconds()) < 60


def test_edit_and_delete_a_draft(client, alice):
    campaign = services.campaign_create(by=alice, name="Draft", survey=f.survey("nps"))
    client.force_login(alice)
    page = client.get(reverse("feedback:campaign_edit", args=[campaign.pk]))
    assert 'value="Draft"' in page.content.decode()
    client.post(
        reverse("feedback:campaign_edit", args=[campaign.pk]),
        {"name": "Renamed", "survey": f.survey("ces").pk, "throttle_days": "10"},
    )
    campaign.refresh_from_db()
    assert (campaign.name, campaign.survey.kind, campaign.throttle_days) == ("Renamed", "ces", 10)
    detail = client.get(campaign.get_absolute_url()).content.decode()
    assert 'data-confirm="Delete this draft?"' in detail
    client.post(reverse("feedback:campaign_delete", args=[campaign.pk]))
    assert not Campaign.objects.exists()


def test_pause_resume_cancel_from_the_page(client, alice, django_capture_on_commit_callbacks):
    account = AccountFactory(owner=alice)
    campaign = f.campaign(by=alice)
    rnd = f.round_of(campaign)
    for _ in range(3):
        f.invitation(contact=ContactFactory(account=account), campaign_obj=campaign, status="queued")
    client.force_login(alice)
    client.post(reverse("feedback:campaign_pause", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status == "paused"
    assert "Resume" in client.get(campaign.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("feedback:campaign_resume", args=[campaign.pk]))
    assert len(mail.outbox) == 3
    rnd.refresh_from_db()
    assert rnd.status == "sent"


def test_cancel_stops_what_is_queued(client, alice):
    account = AccountFactory(owner=alice)
    campaign = f.campaign(by=alice)
    f.invitation(contact=ContactFactory(account=account), campaign_obj=campaign, status="queued")
    client.force_login(alice)
    page = client.get(campaign.get_absolute_url()).content.decode()
    assert 'data-confirm="Cancel this campaign for good?' in page
    client.post(reverse("feedback:campaign_cancel", args=[campaign.pk]))
    assert Invitation.objects.get().status == "cancelled"


def test_the_campaign_list_searches_and_filters(client, alice):
    f.campaign(by=alice, kind="nps", name="Spring NPS")
    f.campaign(by=alice, kind="csat", name="Support CSAT", status="paused")
    client.force_login(alice)
    html = client.get(reverse("feedback:campaign_list"), {"q": "spring"}).content.decode()
    assert "Spring NPS" in html and "Support CSAT" not in html
    html = client.get(
        reverse("feedback:campaign_list"), {"status": "paused"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Support CSAT" in html and "Spring NPS" not in html and "<html" not in html
    html = client.get(reverse("feedback:campaign_list"), {"kind": "ces"}).content.decode()
    assert "No campaigns match these filters." in html


def test_empty_states(client, alice):
    client.force_login(alice)
    assert "No survey campaigns yet." in client.get(reverse("feedback:campaign_list")).content.decode()
    assert "No comments here yet." in client.get(reverse("feedback:comments")).content.decode()
    assert "No open follow-ups." in client.get(reverse("feedback:follow_up_list")).content.decode()


def test_survey_previews_in_every_language(client, alice):
    client.force_login(alice)
    survey = f.survey("ces")
    listing = client.get(reverse("feedback:survey_list")).content.decode()
    assert "The company made it easy for me to handle my issue." in listing
    preview = client.get(
        reverse("feedback:survey_preview", args=[survey.pk]), {"lang": "tr"}
    ).content.decode()
    assert "Şirket, sorunumu çözmemi kolaylaştırdı." in preview and "Önizleme" in preview
    assert 'type="submit"' not in preview  # nothing can be sent from a preview


def test_the_outbox_shows_sent_mail_in_the_local_run_only(client, alice, settings):
    account = AccountFactory(owner=alice)
    invitation = f.invitation(
        contact=ContactFactory(account=account, name="Dana"), campaign_obj=f.campaign(by=alice)
    )
    client.force_login(alice)
    settings.DEBUG = False
    assert client.get(reverse("feedback:outbox")).status_code == 404
    assert client.get(reverse("feedback:outbox_message", args=[invitation.pk])).status_code == 404
    settings.DEBUG = True
    assert invitation.email in client.get(reverse("feedback:outbox")).content.decode()
    message = client.get(reverse("feedback:outbox_message", args=[invitation.pk])).content.decode()
    assert f"/s/{invitation.token}/?score=10" in message and "List-Unsubscribe" in message
    html = client.get(reverse("feedback:outbox_message_html", args=[invitation.pk]))
    assert html["Content-Type"].startswith("text/html") and b"?score=0" in html.content
    assert "'unsafe-inline'" in html["Content-Security-Policy"]
