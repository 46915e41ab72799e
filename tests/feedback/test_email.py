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


@pytest.mark.django_db
def test_a_chunk_renders_each_language_once_and_every_email_is_its_own(alice):
    """The renderer fills each invitation's token and the contact's (escaped) name into bodies
    rendered once per language: no placeholder leaks, no token or name crosses over."""
    from feedback.emails import MessageRenderer

    account = AccountFactory(owner=alice)
    campaign = f.campaign(by=alice, kind="nps")
    people = [
        ContactFactory(account=account, name="<Zoë> & Co", language="en"),
        ContactFactory(account=account, name="Ayşe Yılmaz", language="tr"),
        ContactFactory(account=account, name="", language="en"),
        ContactFactory(account=account, name="Bob O'Neil", language="en"),
    ]
    invitations = [f.invitation(contact=person, campaign_obj=campaign) for person in people]
    renderer = MessageRenderer(campaign.survey)
    messages = [renderer.message(invitation) for invitation in invitations]
    assert len(renderer._bodies) == 3  # (en, named), (tr, named), (en, no name)
    for invitation, message in zip(invitations, messages, strict=True):
        text, html = message.body, message.alternatives[0][0]
        assert MessageRenderer.TOKEN not in text + html and MessageRenderer.NAME not in text + html
        # 11 score links and the unsubscribe link in each part
        assert text.count(invitation.token) == 12 and html.count(invitation.token) == 12
        others = {i.token for i in invitations} - {invitation.token}
        assert not any(token in text + html for token in others)
        assert f"/{invitation.token}/unsubscribe/>" in message.extra_headers["List-Unsubscribe"]
        alone = build_message(invitation, campaign.survey)
        assert (alone.body, alone.alternatives[0][0]) == (text, html)
    assert "Hi <Zoë>," in messages[0].body and "Hi &lt;Zoë&gt;," in messages[0].alternatives[0][0]
    assert "Ayşe" in messages[1].body and "Yılmaz" not in messages[1].body
    assert "Hello," in messages[2].body
    assert "Bob" in messages[3].body


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["Ayşe <Yılmaz>", "Bob & Co", "王小明", ""])
def test_the_prepared_wire_form_is_the_message_serialised(alice, name):
    """What the mailer sends (bytes filled into a serialisation made once per language) says
    exactly what serialising each message would: same headers, same decoded parts."""
    from email import message_from_bytes
    from email.header import decode_header, make_header

    from feedback.emails import MessageRenderer

    account = AccountFactory(owner=alice)
    campaign = f.campaign(by=alice, kind="nps")
    renderer = MessageRenderer(campaign.survey)
    for language in ("en", "tr", "zh-hant"):
        contact = ContactFactory(account=account, name=name, language=language)
        message = renderer.message(f.invitation(contact=contact, campaign_obj=campaign))
        prepared = message_from_bytes(message.wire_bytes())
        standard = message_from_bytes(message.message().as_bytes(linesep="\r\n"))
        for header in ("Subject", "From", "To", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post"):
            assert str(make_header(decode_header(prepared[header]))) == str(
                make_header(decode_header(standard[header]))
            ), header
        parts = [
            (p.get_content_type(), p.get_payload(decode=True))
            for p in prepared.walk()
            if not p.is_multipart()
        ]
        expected = [
            (p.get_content_type(), p.get_payload(decode=True))
            for p in standard.walk()
            if not p.is_multipart()
        ]
        assert parts == expected
        assert prepared["Date"]
    assert any(key[0] == "tr" for key in renderer._wires) and renderer._wires[("tr", bool(name))] is not None
