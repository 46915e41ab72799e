"""A milestone done raises the "milestone completed" webhook and the signals later issues listen
to (loyalty points, the NPS after onboarding) — after the commit, and only then."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from api.models import Webhook, WebhookDelivery
from onboarding import services, signals

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(db):
    return Webhook.objects.create(name="CRM", url="http://127.0.0.1:9/hook", events=["milestone.completed"])


@pytest.fixture
def heard():
    events = []

    def on_milestone(sender, milestone, account, first_time, **kwargs):
        events.append(("milestone", milestone.name, account.pk, first_time))

    def on_plan(sender, plan, account, completed_at, **kwargs):
        events.append(("plan", plan.pk, account.pk, completed_at is not None))

    signals.milestone_completed.connect(on_milestone, dispatch_uid="test-milestone")
    signals.onboarding_completed.connect(on_plan, dispatch_uid="test-plan")
    yield events
    signals.milestone_completed.disconnect(dispatch_uid="test-milestone")
    signals.onboarding_completed.disconnect(dispatch_uid="test-plan")


def _done(milestone, **kwargs):
    return services.milestone_status_set(
        milestone=milestone, status="done", done_on=timezone.localdate(), **kwargs
    )


def test_webhook_delivery_recorded_with_the_milestone_and_sent_after_commit(
    plan, hook, alice, django_capture_on_commit_callbacks
):
    milestone = plan.milestones.get(name="First report live")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _done(milestone, by=alice)
    (delivery,) = WebhookDelivery.objects.all()
    assert delivery.event == "milestone.completed"
    payload = delivery.payload
    assert payload["milestone"]["id"] == milestone.pk
    assert payload["milestone"]["name"] == "First report live"
    assert payload["milestone"]["delivers_value"] is True
    assert payload["milestone"]["first_time"] is True
    assert payload["account"] == {"id": plan.account_id, "name": "Alpha Industries", "external_id": None}
    assert payload["plan"]["progress"] == 30
    assert payload["done_by"] == alice.email
    assert delivery.status == "pending" and delivery.attempts == 0  # the task is queued on commit
    assert callbacks


def test_no_webhook_and_no_signal_when_the_change_rolls_back(
    plan, hook, heard, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        _done(plan.milestones.first())
        transaction.set_rollback(True)
    assert not WebhookDelivery.objects.exists()
    assert heard == []


def test_signals_after_commit_with_first_time_and_plan_completion(
    plan, heard, eager_celery, django_capture_on_commit_callbacks
):
    milestones = list(plan.milestones.order_by("position"))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _done(milestones[0])
    assert heard == []  # not before the commit
    for callback in callbacks:
        callback()
    assert heard == [("milestone", "Kick-off call", plan.account_id, True)]

    with django_capture_on_commit_callbacks(execute=True):
        services.milestone_status_set(milestone=milestones[0], status="in_progress")
        _done(milestones[0])
    assert heard[-1] == (
        "milestone",
        "Kick-off call",
        plan.account_id,
        False,
    )  # done again: not the first time

    with django_capture_on_commit_callbacks(execute=True):
        for milestone in milestones[1:]:
            _done(milestone)
    assert heard[-1] == ("plan", plan.pk, plan.account_id, True)
    assert [e for e in heard if e[0] == "plan"] == [("plan", plan.pk, plan.account_id, True)]


def test_status_changes_other_than_done_raise_nothing(plan, hook, heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.milestone_status_set(milestone=plan.milestones.first(), status="in_progress")
        services.milestone_status_set(
            milestone=plan.milestones.last(), status="blocked", blocked_reason="Waiting"
        )
    assert not WebhookDelivery.objects.exists()
    assert heard == []


def test_a_failing_listener_does_not_turn_a_saved_tick_into_an_error(
    client, alice, plan, caplog, django_capture_on_commit_callbacks
):
    def broken(sender, **kwargs):
        raise RuntimeError("loyalty is down")

    signals.milestone_completed.connect(broken, dispatch_uid="test-broken")
    try:
        client.force_login(alice)
        milestone = plan.milestones.get(name="Kick-off call")
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/onboarding/milestones/{milestone.pk}/status/",
                {"status": "done", "tick": "1"},
                headers={"HX-Request": "true"},
            )
        assert response.status_code == 200
        milestone.refresh_from_db()
        assert milestone.status == "done"
        assert "loyalty is down" in caplog.text
    finally:
        signals.milestone_completed.disconnect(dispatch_uid="test-broken")
