"""Bad input everywhere: a clear message next to the field (pages, 422 for plain posts), a 400 with
field errors (API), never a 500 and never a half-written record."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback import services
from feedback.models import Campaign, Survey
from tests.factories import AccountFactory, ContactFactory

from . import factories as f


def _form(**overrides):
    data = {"name": "Q3 NPS", "survey": f.survey("nps").pk, "throttle_days": "30"}
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"survey": "999999"}, "survey", "Select a valid choice."),
        ({"send_at": "2001-01-01T10:00"}, "send_at", "The send time is in the past"),
        ({"send_at": "not a date"}, "send_at", "Enter a valid date/time."),
        ({"reminder_after_days": "0"}, "reminder_after_days", "greater than or equal to 1"),
        ({"reminder_after_days": "99"}, "reminder_after_days", "less than or equal to 60"),
        ({"recurrence_months": "5"}, "recurrence_months", "Select a valid choice."),
        ({"throttle_days": "-1"}, "throttle_days", "greater than or equal to 0"),
        ({"throttle_days": "x"}, "throttle_days", "Enter a whole number."),
        ({"segment": "galactic"}, "segment", "Select a valid choice."),
        ({"trigger": "support", "recurrence_months": "3"}, "recurrence_months", "does not repeat"),
        ({"trigger_delay_days": "3"}, "trigger_delay_days", "Only triggered campaigns wait"),
        ({"accounts_list": "nowhere.example"}, "accounts_list", "Not in your portfolio: nowhere.example"),
    ],
)
def test_campaign_form_errors_are_next_to_the_field(client, alice, overrides, field, message):
    client.force_login(alice)
    page = client.post(reverse("feedback:campaign_create"), _form(**overrides))
    assert page.status_code == 422
    html = page.content.decode()
    assert f'id="id_{field}_error"' in html and message in html
    assert not Campaign.objects.exists()


def test_a_switched_off_survey_cannot_be_chosen(client, alice):
    survey = f.survey("ces")
    Survey.objects.filter(pk=survey.pk).update(is_active=False)
    client.force_login(alice)
    page = client.post(reverse("feedback:campaign_create"), _form(survey=survey.pk))
    assert page.status_code == 422 and not Campaign.objects.exists()


def test_launching_an_empty_audience_says_why(client, alice):
    campaign = services.campaign_create(by=alice, name="Nobody", survey=f.survey("nps"))
    client.force_login(alice)
    page = client.post(reverse("feedback:campaign_launch", args=[campaign.pk]), follow=True)
    assert "The audience is empty" in page.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == "draft" and not campaign.rounds.exists()


def test_launch_twice_and_pause_a_draft_are_refused_with_a_message(
    client, alice, django_capture_on_commit_callbacks
):
    ContactFactory(account=AccountFactory(owner=alice))
    campaign = services.campaign_create(
        by=alice, name="Later", survey=f.survey("nps"), send_at=timezone.now() + dt.timedelta(days=1)
    )
    client.force_login(alice)
    assert (
        "Only an active campaign can be paused."
        in client.post(reverse("feedback:campaign_pause", args=[campaign.pk]), follow=True).content.decode()
    )
    client.post(reverse("feedback:campaign_launch", args=[campaign.pk]))
    again = client.post(reverse("feedback:campaign_launch", args=[campaign.pk]), follow=True)
    assert "This campaign was already launched." in again.content.decode()
    assert campaign.rounds.count() == 1
    assert client.get(reverse("feedback:campaign_edit", args=[campaign.pk]), follow=True).status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-02-30"},
        {"start": "2026-05-01", "end": "2026-04-01"},
        {"cohort": "2025Q3"},
        {"kind": "custom"},
        {"campaign": "abc"},
        {"owner": "99999999"},
        {"start": "1900-01-01"},
    ],
)
def test_bad_analysis_filters_show_errors_not_500(client, alice, params):
    client.force_login(alice)
    page = client.get(reverse("feedback:analysis"), params)
    assert page.status_code == 200
    assert 'class="error"' in page.content.decode()


@pytest.mark.parametrize("params", [{"page": "999"}, {"page": "x"}, {"status": "bogus"}, {"q": "x" * 500}])
def test_bad_list_parameters_never_fail(client, alice, params):
    client.force_login(alice)
    for name in ("campaign_list", "comments", "follow_up_list"):
        assert client.get(reverse(f"feedback:{name}"), params).status_code == 200


def test_api_bad_input_is_a_400_with_field_errors(alice):
    from rest_framework.test import APIClient

    from api.services import token_create

    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION=f"Bearer {token_create(name='t', user=alice, scope='write', created_by=None).raw}"
    )
    cases = [
        ({"name": "", "survey": f.survey("nps").pk}, "name"),
        ({"name": "x", "survey": 99999}, "survey"),
        ({"name": "x", "survey": f.survey("nps").pk, "throttle_days": 999}, "throttle_days"),
        ({"name": "x", "survey": f.survey("nps").pk, "recurrence_months": 4}, "recurrence_months"),
        ({"name": "x", "survey": f.survey("nps").pk, "accounts": [123456789]}, "accounts"),
        ({"name": "x", "survey": f.survey("nps").pk, "send_at": "2001-01-01T00:00:00Z"}, "send_at"),
        ({"name": "x", "survey": f.survey("nps").pk, "trigger": "weather"}, "trigger"),
    ]
    for body, field in cases:
        result = api.post("/api/v1/survey-campaigns/", body, format="json")
        assert result.status_code == 400, (body, result.content)
        assert field in result.json()["errors"], (body, result.json())
    assert not Campaign.objects.exists()
    empty = api.post(
        "/api/v1/survey-campaigns/", {"name": "Nobody", "survey": f.survey("nps").pk}, format="json"
    )
    assert empty.status_code == 201
    launch = api.post(f"/api/v1/survey-campaigns/{empty.json()['id']}/launch/", {}, format="json")
    assert launch.status_code == 400 and "audience is empty" in str(launch.json())
