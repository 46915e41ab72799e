"""Redis (the broker) down while a change emits a webhook: the change is saved and answered
normally, the delivery row stays pending, and beat's sweep sends it once the broker is back."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError

from api import services
from api.events import WebhookEvent
from api.models import DeliveryStatus, Webhook, WebhookDelivery
from api.tasks import webhook_deliver_task
from cs_app.celery import app as celery_app
from tests.api.webhook_receiver import Receiver


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def hook(db, receiver):
    return Webhook.objects.create(name="Ops", url=receiver.url, events=[WebhookEvent.ALERT_RAISED])


def _broker_down():
    return mock.patch.object(
        webhook_deliver_task, "delay", side_effect=OperationalError("Error 111 connecting to 127.0.0.1:6379.")
    )


def test_emitting_while_the_broker_is_down_keeps_the_delivery_and_the_sweep_sends_it(
    hook, receiver, django_capture_on_commit_callbacks
):
    with _broker_down() as delay, django_capture_on_commit_callbacks(execute=True):
        (delivery,) = services.webhooks_emit(event="alert.raised", payload={"rule": "usage drop"})
    assert delay.call_count == 1  # tried once, gave up quietly
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and receiver.requests == []

    assert services.webhook_deliveries_sweep() == 0  # too young: its task may still be queued
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        later = timezone.now() + dt.timedelta(minutes=6)
        assert services.webhook_deliveries_sweep(now=later) == 1
    finally:
        celery_app.conf.task_always_eager = previous
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert len(receiver.requests) == 1


def test_the_sweep_takes_only_lost_and_stalled_deliveries(hook):
    now = timezone.now()

    def make(status, created_ago, attempted_ago=None):
        return WebhookDelivery.objects.create(
            webhook=hook,
            event="alert.raised",
            payload={},
            status=status,
            created_at=now - dt.timedelta(minutes=created_ago),
            last_attempt_at=None if attempted_ago is None else now - dt.timedelta(minutes=attempted_ago),
        )

    lost = make(DeliveryStatus.PENDING, 6)
    stalled = make(DeliveryStatus.RETRYING, 60, attempted_ago=40)
    make(DeliveryStatus.PENDING, 2)  # its task is probably still in the queue
    make(DeliveryStatus.RETRYING, 60, attempted_ago=10)  # waiting for its backoff
    make(DeliveryStatus.SUCCEEDED, 60, attempted_ago=59)
    make(DeliveryStatus.FAILED, 60, attempted_ago=40)
    with mock.patch.object(webhook_deliver_task, "delay") as delay:
        assert services.webhook_deliveries_sweep(now=now) == 2
    assert [c.kwargs["delivery_id"] for c in delay.call_args_list] == [lost.pk, stalled.pk]


def test_the_sweep_runs_every_five_minutes():
    entry = settings.CELERY_BEAT_SCHEDULE["api-webhook-sweep"]
    assert entry["task"] == "api.tasks.webhook_deliveries_sweep_task" and entry["schedule"] == 300
