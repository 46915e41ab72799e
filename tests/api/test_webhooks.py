"""Outbound webhooks: signed POSTs to a real HTTP receiver on 127.0.0.1, retries with backoff,
each delivery recorded; emitted only after the transaction commits."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from api import services
from api.events import WebhookEvent
from api.models import DeliveryStatus, Webhook, WebhookDelivery
from api.tasks import webhook_backoff, webhook_deliver_task
from cs_app.celery import app as celery_app

from .webhook_receiver import Receiver


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def hook(db, receiver):
    return Webhook.objects.create(
        name="Ops", url=receiver.url, events=[WebhookEvent.TEST, WebhookEvent.ALERT_RAISED]
    )


@pytest.fixture
def eager_celery():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def test_delivery_is_signed_and_recorded(hook, receiver):
    (delivery,) = services.webhooks_emit(event="webhook.test", payload={"hello": "world"})
    webhook_deliver_task.apply(kwargs={"delivery_id": delivery.pk})

    (request,) = receiver.requests
    body = request["body"]
    document = json.loads(body)
    assert document["event"] == "webhook.test"
    assert document["data"] == {"hello": "world"}
    assert document["id"] == str(delivery.uuid)
    assert request["headers"]["X-CS-Event"] == "webhook.test"
    signature = request["headers"]["X-CS-Signature"]
    assert services.webhook_signature_verify(secret=hook.secret, header=signature, body=body)
    assert not services.webhook_signature_verify(secret="wrong", header=signature, body=body)
    assert not services.webhook_signature_verify(secret=hook.secret, header=signature, body=body + b" ")

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert (delivery.attempts, delivery.response_status) == (1, 200)
    assert delivery.delivered_at is not None


def test_failures_are_retried_until_delivered(hook, receiver):
    receiver.statuses = [500, 503]
    (delivery,) = services.webhooks_emit(event="alert.raised", payload={"account": 1})
    webhook_deliver_task.apply(kwargs={"delivery_id": delivery.pk})
    delivery.refresh_from_db()
    assert len(receiver.requests) == 3
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 3
    # Every attempt carries the same delivery id, so receivers can drop duplicates.
    assert len({r["headers"]["X-CS-Delivery"] for r in receiver.requests}) == 1


def test_gives_up_after_the_last_retry(hook, receiver, monkeypatch):
    monkeypatch.setattr(webhook_deliver_task, "max_retries", 2)
    receiver.statuses = [500] * 10
    (delivery,) = services.webhooks_emit(event="webhook.test", payload={})
    webhook_deliver_task.apply(kwargs={"delivery_id": delivery.pk})
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 3
    assert delivery.response_status == 500
    assert delivery.error == "HTTP 500"


def test_unreachable_receiver_is_recorded_and_retried(db):
    hook = Webhook.objects.create(name="Down", url="http://127.0.0.1:9/nothing", events=["webhook.test"])
    (delivery,) = services.webhooks_emit(event="webhook.test", payload={})
    with pytest.raises(services.WebhookDeliveryFailed):
        services.webhook_deliver(delivery_id=delivery.pk, timeout=2)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.attempts == 1
    assert delivery.error
    assert hook.deliveries.count() == 1


def test_a_delivered_event_is_not_sent_twice(hook, receiver):
    (delivery,) = services.webhooks_emit(event="webhook.test", payload={})
    services.webhook_deliver(delivery_id=delivery.pk)
    services.webhook_deliver(delivery_id=delivery.pk)
    assert len(receiver.requests) == 1


def test_emit_enqueues_after_commit_only(hook, receiver, eager_celery, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.webhooks_emit(event="alert.raised", payload={"rule": "usage drop"})
        assert receiver.requests == []  # nothing leaves before the commit
    assert len(callbacks) == 1
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().status == DeliveryStatus.SUCCEEDED


def test_rolled_back_change_sends_nothing(hook, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                services.webhooks_emit(event="alert.raised", payload={})
                raise RuntimeError("the change failed")
        except RuntimeError:
            pass
    assert callbacks == []
    assert WebhookDelivery.objects.count() == 0
    assert receiver.requests == []


def test_only_active_subscribers_get_an_event(hook, db):
    Webhook.objects.create(name="Other", url="http://127.0.0.1:9/", events=["referral.converted"])
    Webhook.objects.create(name="Off", url="http://127.0.0.1:9/", events=["alert.raised"], is_active=False)
    deliveries = services.webhooks_emit(event="alert.raised", payload={})
    assert [d.webhook.name for d in deliveries] == ["Ops"]
    assert services.webhooks_emit(event="milestone.completed", payload={}) == []
    with pytest.raises(ValueError, match="Unknown webhook event"):
        services.webhooks_emit(event="nope", payload={})


def test_backoff_grows_and_is_capped():
    assert 8 <= webhook_backoff(0) <= 12
    assert 16 <= webhook_backoff(1) <= 24
    assert webhook_backoff(20) <= 900 * 1.2


def test_admin_adds_a_webhook_and_sends_a_test(
    client, dave, receiver, eager_celery, django_capture_on_commit_callbacks
):
    client.force_login(dave)
    response = client.post(
        "/admin/api/webhook/add/",
        {
            "name": "Slack relay",
            "url": receiver.url,
            "events": ["alert.raised"],
            "secret": "s3cret",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    hook = Webhook.objects.get(name="Slack relay")
    assert hook.events == ["alert.raised"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/api/webhook/", {"action": "send_test", "_selected_action": [hook.pk]}, follow=True
        )
    (request,) = receiver.requests
    assert services.webhook_signature_verify(
        secret="s3cret", header=request["headers"]["X-CS-Signature"], body=request["body"]
    )
    assert client.get("/admin/api/webhookdelivery/").status_code == 200


def test_admin_refuses_a_webhook_without_events(client, dave):
    client.force_login(dave)
    response = client.post(
        "/admin/api/webhook/add/", {"name": "x", "url": "https://example.com/h", "secret": "s"}
    )
    assert response.status_code == 200
    assert Webhook.objects.count() == 0


def test_the_documented_receiver_code_verifies_our_signature(hook, receiver):
    """docs/api.md's verification sample, run as written, against a real delivery."""
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    sample = re.search(r"```python\n(.*?)```", doc, re.S).group(1)
    namespace: dict = {}
    exec(compile(sample, "docs/api.md", "exec"), namespace)  # noqa: S102  (our own documentation)
    (delivery,) = services.webhooks_emit(event="webhook.test", payload={"x": 1})
    services.webhook_deliver(delivery_id=delivery.pk)
    (request,) = receiver.requests
    header = request["headers"]["X-CS-Signature"]
    assert namespace["verify"](hook.secret, header, request["body"])
    assert not namespace["verify"](hook.secret, header, request["body"] + b"x")
