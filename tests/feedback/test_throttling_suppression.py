"""Survey fatigue and the suppression list: a contact surveyed in the last N days (any campaign)
is skipped, as are contacts who do not accept surveys, suppressed addresses and a second
contact with the same address; the campaign shows how many were skipped and why. The
suppression list is checked again when each message is sent."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from feedback import selectors, services
from feedback import services_outbox as outbox
from feedback.models import Invitation, Suppression
from tests.factories import AccountFactory, ContactFactory

from . import factories as f


@pytest.fixture
def people(alice):
    one, two = AccountFactory(owner=alice), AccountFactory(owner=alice)
    earlier = f.campaign(by=alice, kind="csat", name="Earlier CSAT")
    p = {
        "fresh": ContactFactory(account=one, email="fresh@one.example"),
        "opted_out": ContactFactory(account=one, email="no@one.example", accepts_surveys=False),
        "suppressed": ContactFactory(account=one, email="gone@one.example"),
        "recent": ContactFactory(account=one, email="recent@one.example"),
        "long_ago": ContactFactory(account=two, email="old@two.example"),
        "twin": ContactFactory(account=two, email="FRESH@one.example"),  # the same person, another account
    }
    services.suppression_add(email="Gone@One.example", reason="bounced")
    f.invitation(contact=p["recent"], campaign_obj=earlier, sent_at=timezone.now() - dt.timedelta(days=10))
    f.invitation(contact=p["long_ago"], campaign_obj=earlier, sent_at=timezone.now() - dt.timedelta(days=40))
    return p


def _launch(alice, **options):
    campaign = services.campaign_create(by=alice, name="NPS", survey=f.survey("nps"), **options)
    return campaign


def test_preview_counts_who_would_be_skipped_and_why(alice, people):
    preview = selectors.audience_preview(campaign=_launch(alice))
    assert (preview.contacts, preview.would_send) == (6, 2)
    assert (preview.opted_out, preview.suppressed, preview.throttled, preview.duplicates) == (1, 1, 1, 1)


def test_launch_skips_with_reasons_and_sends_to_the_rest(
    client, alice, people, django_capture_on_commit_callbacks
):
    campaign = _launch(alice)
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_launch(campaign=campaign, by=alice)
    rows = dict(Invitation.objects.filter(campaign=campaign).values_list("contact_id", "skip_reason"))
    assert rows == {
        people["fresh"].pk: "",
        people["opted_out"].pk: "opted_out",
        people["suppressed"].pk: "suppressed",
        people["recent"].pk: "throttled",
        people["long_ago"].pk: "",
        people["twin"].pk: "duplicate",
    }
    assert sorted(m.to[0] for m in mail.outbox) == ["fresh@one.example", "old@two.example"]
    progress = selectors.campaign_progress(campaign=campaign)
    assert (progress.sent, progress.skipped) == (2, 4)
    assert progress.skipped_by_reason == {"opted_out": 1, "suppressed": 1, "throttled": 1, "duplicate": 1}
    client.force_login(alice)
    html = client.get(campaign.get_absolute_url()).content.decode()
    assert "Skipped, and why" in html
    for reason in ("throttled", "suppressed", "opted_out", "duplicate"):
        assert f'data-skip="{reason}">1<' in html
    listed = client.get(f"/feedback/campaigns/{campaign.pk}/invitations/?status=skipped&reason=throttled")
    assert "recent@one.example" in listed.content.decode()
    assert "fresh@one.example" not in listed.content.decode()


def test_throttling_spans_campaigns_launched_together(alice, people, django_capture_on_commit_callbacks):
    first, second = _launch(alice), _launch(alice)
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_launch(campaign=first, by=alice)
        services.campaign_launch(campaign=second, by=alice)
    # by address: the twin (same person, other account) is throttled too
    assert Invitation.objects.filter(campaign=second, skip_reason="throttled").count() == 4
    assert len(mail.outbox) == 2  # fresh and long_ago once each, by the first campaign


def test_throttle_window_is_the_campaigns_and_zero_turns_it_off(alice, people):
    assert selectors.audience_preview(campaign=_launch(alice, throttle_days=5)).throttled == 0
    assert selectors.audience_preview(campaign=_launch(alice, throttle_days=45)).throttled == 2
    assert selectors.audience_preview(campaign=_launch(alice, throttle_days=0)).throttled == 0


def test_suppression_is_checked_again_at_send_time(alice, people):
    campaign = _launch(alice)
    campaign.status, campaign.send_at = "active", timezone.now()
    campaign.save()
    rnd = f.round_of(campaign, 1, status="scheduled")
    with mock.patch("feedback.tasks.enqueue"):
        outbox.round_start(round_id=rnd.pk)
    services.unsubscribe(invitation=Invitation.objects.get(round=rnd, contact=people["fresh"]))
    people["long_ago"].accepts_surveys = False
    people["long_ago"].save()
    report = outbox.invitations_send_chunk(round_id=rnd.pk)
    assert (report.sent, report.skipped) == (0, 2)
    assert mail.outbox == []
    reasons = dict(
        Invitation.objects.filter(round=rnd, status="skipped").values_list("contact_id", "skip_reason")
    )
    assert reasons[people["fresh"].pk] == "suppressed" and reasons[people["long_ago"].pk] == "opted_out"


def test_suppression_is_one_row_per_address_whatever_the_case(db):
    services.suppression_add(email="A@Example.com", reason="unsubscribed")
    services.suppression_add(email="a@example.COM ", reason="bounced")
    assert list(Suppression.objects.values_list("email", "reason")) == [("a@example.com", "unsubscribed")]
    assert services.suppressed("A@EXAMPLE.com")


def test_a_bad_address_cannot_be_suppressed(db):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        services.suppression_add(email="not an email", reason="manual")
    assert "email" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.suppression_add(email="ok@example.com", reason="because")
