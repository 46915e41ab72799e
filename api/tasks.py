"""Thin Celery tasks of the API app."""

from __future__ import annotations

import random

from celery import shared_task

from . import services

WEBHOOK_MAX_RETRIES = 8  # 9 attempts over about 40 minutes


def webhook_backoff(retries: int) -> int:
    """Seconds before retry number ``retries + 1``: 10 s, 20 s, 40 s … capped at 15 minutes, ±20 %."""
    base = min(10 * 2**retries, 900)
    return max(1, round(base * random.uniform(0.8, 1.2)))


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=WEBHOOK_MAX_RETRIES)
def webhook_deliver_task(self, *, delivery_id: int) -> str:
    """Send one webhook delivery; on a non-2xx answer or a network error, retry with backoff."""
    final = self.request.retries >= self.max_retries
    try:
        delivery = services.webhook_deliver(delivery_id=delivery_id, final=final)
    except services.WebhookDeliveryFailed as exc:
        raise self.retry(exc=exc, countdown=webhook_backoff(self.request.retries)) from exc
    return delivery.status


@shared_task(acks_late=True, ignore_result=True)
def idempotency_purge_task() -> int:
    return services.idempotency_purge()


@shared_task(acks_late=True, ignore_result=True)
def webhook_deliveries_sweep_task() -> int:
    """Every 5 minutes (beat): deliveries whose task was lost are enqueued again."""
    return services.webhook_deliveries_sweep()
