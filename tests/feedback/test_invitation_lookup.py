"""The public pages find an invitation with SQL written once per process
(feedback.invitation_lookup) instead of the ORM compiling it for every request: the same
instances, field for field, as select_related gives, in one query, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cs_app.public_tokens import token_digest
from feedback.invitation_lookup import invitation_by_digest
from feedback.models import Campaign, Invitation, Response, Survey
from tests.factories import AccountFactory, ContactFactory

from . import factories as f


def orm(digest: str) -> Invitation:
    return Invitation.objects.select_related("campaign__survey", "response").get(token_digest=digest)


def same_fields(ours, theirs) -> None:
    assert type(ours) is type(theirs)
    for field in type(theirs)._meta.concrete_fields:
        mine, expected = getattr(ours, field.attname), getattr(theirs, field.attname)
        assert mine == expected, field.attname
        assert type(mine) is type(expected), field.attname


@pytest.fixture
def invitation(alice):
    campaign = f.campaign(by=alice, kind="nps", throttle_days=30)
    contact = ContactFactory(account=AccountFactory(owner=alice), language="tr")
    return f.invitation(contact=contact, campaign_obj=campaign, opened_at=None)


def test_without_an_answer_every_field_as_the_orm_gives_it(invitation):
    digest = token_digest(invitation.token)
    with CaptureQueriesContext(connection) as queries:
        found = invitation_by_digest(digest)
        campaign, survey = found.campaign, found.campaign.survey
        with pytest.raises(Response.DoesNotExist):
            found.response  # noqa: B018 - known to be absent, without a query
    assert len(queries) == 1
    expected = orm(digest)
    same_fields(found, expected)
    same_fields(campaign, expected.campaign)
    same_fields(survey, expected.campaign.survey)
    assert isinstance(campaign, Campaign) and isinstance(survey, Survey)
    assert found.opened_at is None and found.sent_at.tzinfo is not None


def test_with_an_answer_every_field_as_the_orm_gives_it(invitation):
    f.response(
        invitation_obj=invitation,
        score=3,
        follow_up="Too slow",
        comment="Ünïcode ✓ and \"quotes\" and 'apostrophes'",
        answered_at=dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC),
    )
    digest = token_digest(invitation.token)
    with CaptureQueriesContext(connection) as queries:
        found = invitation_by_digest(digest)
        response = found.response
        assert response.invitation is found
    assert len(queries) == 1
    expected = orm(digest)
    same_fields(found, expected)
    same_fields(response, expected.response)
    assert response.answered_at == dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    assert response.revisions == expected.response.revisions  # a JSON field: decoded as the ORM does


def test_unknown_digest_is_none(invitation):
    assert invitation_by_digest(token_digest(invitation.token + "x")) is None
    assert invitation_by_digest("") is None


def test_a_found_invitation_saves_like_any_other(invitation):
    found = invitation_by_digest(token_digest(invitation.token))
    found.opened_at = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    found.save(update_fields=["opened_at"])
    invitation.refresh_from_db()
    assert invitation.opened_at == dt.datetime(2026, 1, 2, tzinfo=dt.UTC)


def test_the_answer_page_uses_it_and_still_answers(client, invitation):
    url = reverse("feedback_public:answer", args=[invitation.token])
    assert client.get(url + "?score=9").status_code == 200
    response = client.post(url, {"score": "9", "lang": "en", "comment": "Fine"})
    assert response.status_code == 302
    assert Response.objects.get(invitation=invitation).score == 9
    page = client.get(url)
    assert "Fine" in page.content.decode()
