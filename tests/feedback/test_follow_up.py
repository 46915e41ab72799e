"""Closing the loop: every unhappy answer (NPS 0-6, CSAT 1-2, CES 1-3) opens one task for the
account's owner with the comment, a follow-up record and the "detractor response" webhook; the
CSM records the outcome, which completes the task; the loop-closed rate and time are reported."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from api.models import Webhook, WebhookDelivery
from feedback import selectors, services
from feedback.models import FollowUp
from health.models import Priority, Task, TaskStatus
from tests.factories import AccountFactory, ContactFactory

from . import factories as f


@pytest.fixture
def answer(alice):
    account = AccountFactory(owner=alice, name="Alpha Co")

    def submit(kind: str, score: int, comment: str = "", follow_up: str = ""):
        contact = ContactFactory(account=account, name="Dana Decider")
        invitation = f.invitation(contact=contact, campaign_obj=f.campaign(by=alice, kind=kind))
        return services.response_submit(
            invitation=invitation, score=score, comment=comment, follow_up=follow_up
        )

    return submit


@pytest.mark.parametrize(
    ("kind", "score", "unhappy"),
    [
        ("nps", 0, True),
        ("nps", 6, True),
        ("nps", 7, False),
        ("nps", 10, False),
        ("csat", 1, True),
        ("csat", 2, True),
        ("csat", 3, False),
        ("csat", 5, False),
        ("ces", 1, True),
        ("ces", 3, True),
        ("ces", 4, False),
        ("ces", 7, False),
    ],
)
def test_unhappy_answers_open_a_task_for_the_owner(alice, answer, kind, score, unhappy):
    response = answer(kind, score, comment="The export keeps failing")
    tasks = Task.objects.filter(account=response.account)
    assert tasks.count() == (1 if unhappy else 0)
    assert FollowUp.objects.filter(response=response).exists() is unhappy
    if unhappy:
        task = tasks.get()
        assert task.owner == alice and task.priority == Priority.HIGH and task.status == TaskStatus.OPEN
        assert task.title == f"Follow up: {kind.upper()} {score} from Dana Decider"
        assert "The export keeps failing" in task.notes
        assert task.due_date == timezone.localdate() + dt.timedelta(days=2)


def test_the_task_is_in_the_csms_inbox(client, alice, answer):
    answer("nps", 3, comment="Too slow")
    client.force_login(alice)
    inbox = client.get(reverse("health:inbox")).content.decode()
    assert "Follow up: NPS 3 from Dana Decider" in inbox


def test_one_follow_up_per_response_even_when_revised(alice, answer):
    response = answer("nps", 4)
    services.response_submit(invitation=response.invitation, score=2, comment="worse")
    services.response_submit(invitation=response.invitation, score=5)
    assert Task.objects.count() == 1 and FollowUp.objects.count() == 1
    assert "“worse”" not in Task.objects.get().notes  # notes follow the latest answer (no comment now)


def test_a_revision_that_turns_unhappy_opens_the_follow_up(alice, answer):
    response = answer("nps", 9)
    assert not Task.objects.exists()
    services.response_submit(invitation=response.invitation, score=1, comment="changed my mind")
    assert Task.objects.get().notes.startswith("“changed my mind”")


def test_the_detractor_webhook_is_emitted_once(alice, answer):
    Webhook.objects.create(
        name="CRM", url="https://crm.example/hook", events=["response.detractor"], is_active=True
    )
    response = answer("nps", 2, comment="bad")
    services.response_submit(invitation=response.invitation, score=1, comment="really bad")
    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "response.detractor"
    assert delivery.payload["score"] == 2 and delivery.payload["account"]["name"] == "Alpha Co"
    assert delivery.payload["contact"]["email"] == response.contact.email
    answer("nps", 9)
    assert WebhookDelivery.objects.count() == 1


def test_the_csm_records_the_outcome_and_the_task_is_done(client, alice, answer):
    response = answer("csat", 1, comment="Nobody called back")
    follow_up = FollowUp.objects.get(response=response)
    client.force_login(alice)
    page = client.get(reverse("feedback:follow_up_list"))
    assert "Nobody called back" in page.content.decode()
    result = client.post(
        reverse("feedback:follow_up_close", args=[follow_up.pk]),
        {"outcome": "resolved", "note": "Called, fixed the export"},
        HTTP_HX_REQUEST="true",
    )
    assert result.status_code == 200 and "Issue resolved" in result.content.decode()
    follow_up.refresh_from_db()
    assert (follow_up.outcome, follow_up.closed_by, follow_up.note) == (
        "resolved",
        alice,
        "Called, fixed the export",
    )
    assert Task.objects.get(pk=follow_up.task_id).status == TaskStatus.DONE
    again = client.post(reverse("feedback:follow_up_close", args=[follow_up.pk]), {"outcome": "other"})
    assert again.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.outcome == "resolved"


def test_closing_without_an_outcome_shows_the_error_in_place(client, alice, answer):
    follow_up = FollowUp.objects.get(response=answer("nps", 0))
    client.force_login(alice)
    result = client.post(
        reverse("feedback:follow_up_close", args=[follow_up.pk]),
        {"outcome": "nonsense"},
        HTTP_HX_REQUEST="true",
    )
    assert result.status_code == 200
    assert 'role="alert"' in result.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.closed_at is None


def test_loop_closed_rate_and_time_to_follow_up(alice, answer):
    first, second, _third = answer("nps", 1), answer("nps", 2), answer("ces", 2)
    for response, hours in ((first, 6), (second, 30)):
        follow_up = FollowUp.objects.get(response=response)
        services.follow_up_close(follow_up=follow_up, outcome="plan", by=alice)
        FollowUp.objects.filter(pk=follow_up.pk).update(
            closed_at=response.answered_at + dt.timedelta(hours=hours)
        )
    stats = selectors.loop_stats(user=alice)
    assert (stats.opened, stats.closed) == (3, 2)
    assert stats.closed_rate == pytest.approx(200 / 3)
    assert stats.avg_hours_to_close == pytest.approx(18.0)


def test_no_follow_ups_means_no_data_not_zero(alice):
    stats = selectors.loop_stats(user=alice)
    assert (stats.opened, stats.closed_rate, stats.avg_hours_to_close) == (0, None, None)
