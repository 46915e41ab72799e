"""The survey email: a plain-text and an HTML part, the scale as one-click links (eleven for NPS,
five for CSAT, seven for CES), a Message-ID and the unsubscribe headers."""

from __future__ import annotations

import re

import pytest

from feedback.emails import build_message
from tests.factories import AccountFactory, ContactFactory

from . import factories as f


@pytest.mark.parametrize(
    ("kind", "points"), [("nps", range(0, 11)), ("csat", range(1, 6)), ("ces", range(1, 8))]
)
def test_the_scale_is_one_click_links_in_both_parts(alice, kind, points):
    contact = ContactFactory(account=AccountFactory(owner=alice), name="Dana Decider")
    invitation = f.invitation(contact=contact, campaign_obj=f.campaign(by=alice, kind=kind))
    message = build_message(invitation, invitation.campaign.survey)
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    base = f"http://127.0.0.1:8000/s/{invitation.token}/?score="
    assert re.findall(re.escape(base) + r"(\d+)", message.body) == [str(p) for p in points]
    assert re.findall(re.escape(base) + r"(\d+)", html) == [str(p) for p in points]
    assert "Hi Dana," in message.body
    assert (
        message.extra_headers["Message-ID"].startswith("<")
        and f"survey{invitation.pk}" in message.extra_headers["Message-ID"]
    )
    assert message.to == [invitation.email]


def test_the_base_url_comes_from_the_setting(settings, alice):
    settings.CS_BASE_URL = "https://cs.example.com/"
    contact = ContactFactory(account=AccountFactory(owner=alice))
    invitation = f.invitation(contact=contact, campaign_obj=f.campaign(by=alice))
    message = build_message(invitation, invitation.campaign.survey)
    assert f"https://cs.example.com/s/{invitation.token}/?score=10" in message.body
    assert (
        message.extra_headers["List-Unsubscribe"]
        == f"<https://cs.example.com/s/{invitation.token}/unsubscribe/>"
    )
