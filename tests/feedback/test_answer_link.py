"""Answering by the email's link: public, no login. A GET pre-selects the clicked score and
records nothing final; the respondent confirms with one click; within a day a new submit revises
the answer; another contact's token cannot touch it; double submits store one response."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback.models import Response
from tests.factories import AccountFactory, ContactFactory

from . import factories as f


@pytest.fixture
def nps_invitation(alice):
    account = AccountFactory(owner=alice, name="Secret Account Name Ltd")
    contact = ContactFactory(account=account, name="Dana Decider")
    campaign = f.campaign(by=alice, kind="nps", name="Internal campaign name")
    return f.invitation(contact=contact, campaign_obj=campaign)


def url(invitation, **params) -> str:
    base = reverse("feedback_public:answer", args=[invitation.token])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def test_the_link_needs_no_login_and_preselects_the_clicked_score(client, nps_invitation):
    page = client.get(url(nps_invitation, score=7))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="score-7" value="7" data-band="passive" checked' in html
    assert html.count(" checked") == 1
    assert "How likely is it that you would recommend us" in html
    assert "What would make it a 10?" in html  # the passive band's follow-up for the clicked 7


def test_a_get_records_nothing_final(client, nps_invitation):
    for score in range(11):  # a mail scanner opening every link
        assert client.get(url(nps_invitation, score=score)).status_code == 200
    assert not Response.objects.exists()
    nps_invitation.refresh_from_db()
    assert nps_invitation.opened_at is not None  # only that the link was opened


def test_one_click_on_send_records_the_score(client, nps_invitation, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(nps_invitation), {"score": "9", "lang": "en"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("feedback_public:thanks", args=[nps_invitation.token]))
    stored = Response.objects.get(invitation=nps_invitation)
    assert (stored.score, stored.band, stored.kind, stored.revisions) == (9, "promoter", "nps", 0)
    assert (stored.account_id, stored.contact_id) == (nps_invitation.account_id, nps_invitation.contact_id)
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200 and b"Your score: 9" in thanks.content


def test_a_revision_within_a_day_updates_the_same_response(client, nps_invitation):
    client.post(url(nps_invitation), {"score": "9", "follow_up": "Great support"})
    client.post(
        url(nps_invitation), {"score": "6", "follow_up": "Actually, the export broke", "comment": "Fix it"}
    )
    assert Response.objects.count() == 1
    stored = Response.objects.get()
    assert (stored.score, stored.band, stored.revisions) == (6, "detractor", 1)
    assert stored.follow_up == "Actually, the export broke" and stored.comment == "Fix it"
    page = client.get(url(nps_invitation))
    assert b"You have already answered" in page.content
    assert b'id="score-6" value="6" data-band="detractor" checked' in page.content


def test_after_a_day_the_answer_is_kept_as_given(client, nps_invitation):
    client.post(url(nps_invitation), {"score": "8"})
    Response.objects.update(answered_at=timezone.now() - dt.timedelta(days=1, minutes=1))
    page = client.get(url(nps_invitation, score=2))
    assert page.status_code == 200 and b"already answered this survey" in page.content
    again = client.post(url(nps_invitation), {"score": "2"})
    assert again.status_code == 200 and b"already answered this survey" in again.content
    assert Response.objects.get().score == 8


def test_another_contacts_token_cannot_touch_the_first_answer(client, alice, nps_invitation):
    other_contact = ContactFactory(account=nps_invitation.account)
    other = f.invitation(contact=other_contact, campaign_obj=nps_invitation.campaign)
    client.post(url(nps_invitation), {"score": "10"})
    client.post(url(other), {"score": "0", "comment": "not me"})
    first = Response.objects.get(invitation=nps_invitation)
    assert (first.score, first.comment, first.revisions) == (10, "", 0)
    second = Response.objects.get(invitation=other)
    assert (second.score, second.contact_id) == (0, other_contact.pk)
    # a token's pages show only its own answer
    assert b'value="10"' in client.get(url(nps_invitation)).content
    assert b'id="score-0" value="0" data-band="detractor" checked' in client.get(url(other)).content


def test_double_submit_stores_one_response(client, nps_invitation):
    for _ in range(3):
        client.post(url(nps_invitation), {"score": "9"})
    assert Response.objects.filter(invitation=nps_invitation).count() == 1


def test_the_page_shows_nothing_about_the_account(client, nps_invitation):
    html = client.get(url(nps_invitation, score=9)).content.decode()
    for secret in (
        "Secret Account Name Ltd",
        "Internal campaign name",
        "Dana",
        nps_invitation.email,
        "alice",
    ):
        assert secret not in html
    assert client.get(url(nps_invitation))["X-Robots-Tag"] == "noindex, nofollow"


@pytest.mark.parametrize("token", ["not-a-real-token-xxxxxxxxxxxxxx", "x" * 300, "%00"])
def test_unknown_links_get_a_friendly_page(client, db, token):
    page = client.get(f"/s/{token}/")
    assert page.status_code == 404
    assert b"This link does not work" in page.content
    assert b"Traceback" not in page.content


def test_expired_and_cancelled_links_get_a_friendly_page(client, nps_invitation):
    nps_invitation.sent_at = timezone.now() - dt.timedelta(days=61)
    nps_invitation.save()
    page = client.get(url(nps_invitation, score=5))
    assert page.status_code == 410 and b"This survey has closed" in page.content
    assert client.post(url(nps_invitation), {"score": "5"}).status_code == 410
    nps_invitation.sent_at = timezone.now()
    nps_invitation.save()
    nps_invitation.campaign.status = "cancelled"
    nps_invitation.campaign.save()
    assert client.get(url(nps_invitation)).status_code == 410
    assert not Response.objects.exists()


def test_a_queued_invitation_cannot_be_answered(client, alice):
    contact = ContactFactory(account=AccountFactory(owner=alice))
    invitation = f.invitation(contact=contact, campaign_obj=f.campaign(by=alice), status="queued")
    assert client.get(url(invitation)).status_code == 404
    assert client.post(url(invitation), {"score": "5"}).status_code == 404


@pytest.mark.parametrize("score", ["11", "-1", "abc", "", "5.5", "9999999999999999999"])
def test_a_bad_score_gets_a_message_next_to_the_scale(client, nps_invitation, score):
    page = client.post(url(nps_invitation), {"score": score})
    assert page.status_code == 422
    assert b"Choose a score from 0 to 10." in page.content
    assert b'id="score-error" role="alert"' in page.content
    assert not Response.objects.exists()


def test_an_overlong_comment_is_refused_with_a_message(client, nps_invitation):
    page = client.post(url(nps_invitation), {"score": "5", "comment": "x" * 2001})
    assert page.status_code == 422
    assert b"at most 2000 characters" in page.content or b"2000" in page.content
    assert not Response.objects.exists()


def test_the_answer_form_is_csrf_protected(nps_invitation):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(url(nps_invitation), {"score": "9"}).status_code == 403
    page = strict.get(url(nps_invitation))
    token = page.cookies["csrftoken"].value
    assert strict.post(url(nps_invitation), {"score": "9", "csrfmiddlewaretoken": token}).status_code == 302


def test_submitting_is_rate_limited_per_link(client, nps_invitation):
    statuses = [client.post(url(nps_invitation), {"score": "9"}).status_code for _ in range(12)]
    assert statuses[:10] == [302] * 10
    assert statuses[10:] == [429, 429]
    limited = client.post(url(nps_invitation), {"score": "9"})
    assert limited["Retry-After"] == "60" and b"One moment, please" in limited.content


def test_custom_survey_questions_are_validated_and_stored(client, alice):
    from feedback.models import Choice, Question, Survey

    survey = Survey.objects.create(name="Onboarding check", kind="custom", asks_score=True)
    single = Question.objects.create(
        survey=survey, position=1, kind="single", prompt="Which plan?", required=True
    )
    pro = Choice.objects.create(question=single, position=1, label="Pro")
    Choice.objects.create(question=single, position=2, label="Basic")
    multi = Question.objects.create(survey=survey, position=2, kind="multiple", prompt="What do you use?")
    reports = Choice.objects.create(question=multi, position=1, label="Reports")
    api = Choice.objects.create(question=multi, position=2, label="API")
    rating = Question.objects.create(survey=survey, position=3, kind="rating", prompt="Docs quality?")
    short = Question.objects.create(survey=survey, position=4, kind="short_text", prompt="Your role?")
    campaign = f.campaign(by=alice, kind="nps")
    campaign.survey = survey
    campaign.save()
    invitation = f.invitation(
        contact=ContactFactory(account=AccountFactory(owner=alice)), campaign_obj=campaign
    )
    page = client.get(url(invitation))
    html = page.content.decode()
    assert html.index("Which plan?") < html.index("What do you use?") < html.index("Docs quality?")
    bad = client.post(url(invitation), {"score": "4", f"q_{multi.pk}": [str(pro.pk)], f"q_{rating.pk}": "9"})
    assert bad.status_code == 422
    assert b"Please answer this question." in bad.content  # the required single choice
    assert not Response.objects.exists()
    good = client.post(
        url(invitation),
        {
            "score": "4",
            f"q_{single.pk}": str(pro.pk),
            f"q_{multi.pk}": [str(reports.pk), str(api.pk)],
            f"q_{rating.pk}": "5",
            f"q_{short.pk}": "CTO",
        },
    )
    assert good.status_code == 302
    stored = Response.objects.get()
    answers = {a.question_id: a for a in stored.answers.prefetch_related("choices")}
    assert [c.pk for c in answers[single.pk].choices.all()] == [pro.pk]
    assert sorted(c.pk for c in answers[multi.pk].choices.all()) == sorted([reports.pk, api.pk])
    assert answers[rating.pk].rating == 5 and answers[short.pk].text == "CTO"
