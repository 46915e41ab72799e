"""Access: a CSM sees the campaigns they created and the answers of their own accounts; another
CSM's campaign or account is a 404 by page, partial and action; managers see everything; a user
with no role gets 403; anonymous users go to the login. The public pages need no login."""

from __future__ import annotations

import pytest
from django.urls import reverse

from feedback import services
from feedback.models import CampaignStatus, FollowUp
from tests.factories import ContactFactory

from . import factories as f


@pytest.fixture
def bobs(bob, bob_account):
    campaign = f.campaign(by=bob, name="Bob's secret campaign")
    invitation = f.invitation(
        contact=ContactFactory(account=bob_account, name="Bob Contact"), campaign_obj=campaign
    )
    response = services.response_submit(invitation=invitation, score=2, comment="bob-only verbatim")
    return campaign, response


CAMPAIGN_PAGES = ["campaign_detail", "campaign_edit", "campaign_progress", "campaign_invitations"]
CAMPAIGN_ACTIONS = [
    "campaign_launch",
    "campaign_pause",
    "campaign_resume",
    "campaign_cancel",
    "campaign_delete",
]


@pytest.mark.parametrize("name", CAMPAIGN_PAGES)
def test_another_csms_campaign_is_404_by_page_and_partial(client, alice, bobs, name):
    client.force_login(alice)
    url = reverse(f"feedback:{name}", args=[bobs[0].pk])
    assert client.get(url).status_code == 404
    assert client.get(url, HTTP_HX_REQUEST="true").status_code == 404


@pytest.mark.parametrize("name", CAMPAIGN_ACTIONS)
def test_another_csms_campaign_cannot_be_acted_on(client, alice, bobs, name):
    campaign = bobs[0]
    client.force_login(alice)
    assert client.post(reverse(f"feedback:{name}", args=[campaign.pk])).status_code == 404
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE


def test_another_csms_account_answers_are_404_and_absent_from_lists(client, alice, bobs, bob_account):
    _campaign, response = bobs
    client.force_login(alice)
    assert client.get(reverse("feedback:account_answers", args=[bob_account.pk])).status_code == 404
    for name in ("campaign_list", "comments", "follow_up_list", "analysis"):
        html = client.get(reverse(f"feedback:{name}")).content.decode()
        assert "bob-only verbatim" not in html and "Bob&#x27;s secret campaign" not in html, name
    follow_up = FollowUp.objects.get(response=response)
    assert (
        client.post(reverse("feedback:follow_up_close", args=[follow_up.pk]), {"outcome": "plan"}).status_code
        == 404
    )
    follow_up.refresh_from_db()
    assert follow_up.closed_at is None


def test_a_manager_sees_every_campaign_and_answer(client, carol, bobs, bob_account):
    campaign, _response = bobs
    client.force_login(carol)
    assert client.get(campaign.get_absolute_url()).status_code == 200
    assert "bob-only verbatim" in client.get(reverse("feedback:comments")).content.decode()
    assert client.get(reverse("feedback:account_answers", args=[bob_account.pk])).status_code == 200


def test_a_csm_sees_answers_of_own_accounts_even_from_a_managers_campaign(
    client, alice, carol, alice_account
):
    campaign = f.campaign(by=carol, name="Company-wide NPS")
    invitation = f.invitation(contact=ContactFactory(account=alice_account), campaign_obj=campaign)
    services.response_submit(invitation=invitation, score=9, comment="alice-account words")
    client.force_login(alice)
    assert "alice-account words" in client.get(reverse("feedback:comments")).content.decode()
    assert client.get(campaign.get_absolute_url()).status_code == 404  # the campaign itself is carol's


@pytest.mark.parametrize(
    "name",
    ["campaign_list", "campaign_create", "analysis", "comments", "follow_up_list", "survey_list", "outbox"],
)
def test_no_role_is_403_and_anonymous_goes_to_login(client, charlie, name):
    url = reverse(f"feedback:{name}")
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    client.force_login(charlie)
    assert client.get(url).status_code == 403


def test_the_suppression_list_is_for_managers(client, alice, carol):
    client.force_login(alice)
    assert client.get(reverse("feedback:suppression_list")).status_code == 403
    assert client.post(reverse("feedback:suppression_list"), {"email": "x@y.example"}).status_code == 403
    client.force_login(carol)
    assert client.get(reverse("feedback:suppression_list")).status_code == 200


def test_a_csm_cannot_target_another_csms_accounts(client, alice, bob_account):
    client.force_login(alice)
    page = client.post(
        reverse("feedback:campaign_create"),
        {
            "name": "Sneaky",
            "survey": f.survey("nps").pk,
            "throttle_days": "30",
            "accounts_list": "bravo.example",
        },
    )
    assert page.status_code == 422
    assert "Not in your portfolio: bravo.example" in page.content.decode()


def test_a_csms_campaign_reaches_only_their_accounts(alice, bob_account, alice_account):
    ContactFactory(account=alice_account)
    ContactFactory(account=bob_account)
    from feedback import selectors

    campaign = services.campaign_create(by=alice, name="All mine", survey=f.survey("nps"))
    assert selectors.audience_preview(campaign=campaign).contacts == 1


def test_public_pages_need_no_login_and_staff_login_changes_nothing(client, alice, alice_account):
    invitation = f.invitation(
        contact=ContactFactory(account=alice_account), campaign_obj=f.campaign(by=alice)
    )
    url = reverse("feedback_public:answer", args=[invitation.token])
    assert client.get(url).status_code == 200
    client.force_login(alice)
    assert b"My portfolio" not in client.get(url).content  # no staff navigation on customer pages


def test_api_follows_the_same_rules(alice, bob, bobs, client):
    from rest_framework.test import APIClient

    from api.services import token_create

    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION=f"Bearer {token_create(name='t', user=alice, scope='write', created_by=None).raw}"
    )
    campaign, response = bobs
    assert api.get(f"/api/v1/survey-campaigns/{campaign.pk}/").status_code == 404
    assert api.post(f"/api/v1/survey-campaigns/{campaign.pk}/pause/", {}, format="json").status_code == 404
    assert api.get(f"/api/v1/survey-responses/{response.pk}/").status_code == 404
    assert api.get("/api/v1/survey-responses/").json()["count"] == 0
    assert api.get("/api/v1/survey-invitations/").json()["count"] == 0
