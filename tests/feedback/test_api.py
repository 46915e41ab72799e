"""The API: surveys, campaigns (create, launch, progress, pause, resume, cancel), invitations
(without their tokens) and responses, with the pages' visibility rules."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from api.services import token_create
from feedback import services
from tests.factories import AccountFactory, ContactFactory

from . import factories as f


@pytest.fixture
def api(alice):
    client = APIClient()
    raw = token_create(name="t", user=alice, scope="write", created_by=None).raw
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_surveys_are_listed_with_their_questions(api):
    body = api.get("/api/v1/surveys/?kind=nps").json()
    assert body["count"] == 1
    survey = body["results"][0]
    assert survey["scale"] == [0, 10] and survey["question_en"].startswith("How likely")


def test_create_launch_and_follow_progress(api, alice, django_capture_on_commit_callbacks):
    account = AccountFactory(owner=alice)
    for _ in range(3):
        ContactFactory(account=account)
    created = api.post(
        "/api/v1/survey-campaigns/",
        {"name": "API NPS", "survey": f.survey("nps").pk, "accounts": [account.pk], "reminder_after_days": 5},
        format="json",
    )
    assert created.status_code == 201, created.content
    campaign = created.json()
    assert (campaign["status"], campaign["account_ids"], campaign["created_by"]) == (
        "draft",
        [account.pk],
        alice.email,
    )
    with django_capture_on_commit_callbacks(execute=True):
        launched = api.post(f"/api/v1/survey-campaigns/{campaign['id']}/launch/", {}, format="json")
    assert launched.status_code == 200 and launched.json()["status"] in ("active", "finished")
    progress = api.get(f"/api/v1/survey-campaigns/{campaign['id']}/progress/").json()
    assert (progress["total"], progress["sent"], progress["percent"], progress["done"]) == (3, 3, 100, True)
    invitations = api.get(f"/api/v1/survey-invitations/?campaign={campaign['id']}").json()
    assert invitations["count"] == 3
    assert "token" not in invitations["results"][0]
    assert invitations["results"][0]["message_id"]


def test_responses_with_filters(api, alice):
    account = AccountFactory(owner=alice)
    campaign = f.campaign(by=alice, kind="csat")
    for score in (1, 5):
        invitation = f.invitation(contact=ContactFactory(account=account), campaign_obj=campaign)
        services.response_submit(invitation=invitation, score=score, comment=f"score {score}")
    body = api.get("/api/v1/survey-responses/?band=detractor").json()
    assert body["count"] == 1
    result = body["results"][0]
    assert (result["kind"], result["score"], result["comment"]) == ("csat", 1, "score 1")
    assert result["follow_up_task"] is not None
    assert api.get("/api/v1/survey-responses/?search=score").json()["count"] == 2
    assert api.get("/api/v1/survey-responses/?answered_after=not-a-date").status_code == 400


def test_pause_resume_cancel(api, alice):
    campaign = f.campaign(by=alice)
    assert (
        api.post(f"/api/v1/survey-campaigns/{campaign.pk}/pause/", {}, format="json").json()["status"]
        == "paused"
    )
    assert (
        api.post(f"/api/v1/survey-campaigns/{campaign.pk}/resume/", {}, format="json").json()["status"]
        == "active"
    )
    assert (
        api.post(f"/api/v1/survey-campaigns/{campaign.pk}/cancel/", {}, format="json").json()["status"]
        == "cancelled"
    )
    again = api.post(f"/api/v1/survey-campaigns/{campaign.pk}/cancel/", {}, format="json")
    assert again.status_code == 400


def test_a_read_only_token_cannot_launch(alice):
    client = APIClient()
    raw = token_create(name="ro", user=alice, scope="read", created_by=None).raw
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    campaign = f.campaign(by=alice, status="draft")
    assert (
        client.post(f"/api/v1/survey-campaigns/{campaign.pk}/launch/", {}, format="json").status_code == 403
    )
    assert client.get(f"/api/v1/survey-campaigns/{campaign.pk}/").status_code == 200


def test_a_draft_can_be_changed_and_a_launched_one_cannot(api, alice):
    created = api.post(
        "/api/v1/survey-campaigns/", {"name": "Draft", "survey": f.survey("nps").pk}, format="json"
    ).json()
    changed = api.patch(f"/api/v1/survey-campaigns/{created['id']}/", {"throttle_days": 60}, format="json")
    assert (
        changed.status_code == 200
        and changed.json()["throttle_days"] == 60
        and changed.json()["name"] == "Draft"
    )
    campaign = f.campaign(by=alice)
    refused = api.patch(f"/api/v1/survey-campaigns/{campaign.pk}/", {"name": "New"}, format="json")
    assert refused.status_code == 400
