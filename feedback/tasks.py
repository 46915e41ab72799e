"""Thin Celery tasks for surveys: each calls a service, acknowledges late, and is safe to run again.

Follow-on tasks go to the queue the current task came from (so a worker serving a dedicated
queue keeps its whole campaign), else to ``settings.FEEDBACK_QUEUE`` or Celery's default.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from kombu.exceptions import OperationalError as KombuOperationalError

from . import services_outbox as outbox
from .mailer import TransientSendError

log = logging.getLogger(__name__)

_queue: contextvars.ContextVar[str | None] = contextvars.ContextVar("feedback_queue", default=None)


def enqueue(task, **kwargs: Any) -> bool:
    """Send ``task`` to the broker; False (logged, not raised) when the broker cannot be reached.

    Nothing is lost then: the work is rows in the database (a due round, queued invitations)
    and beat's ``feedback_tick`` starts due rounds and restarts stalled senders once the broker
    is back. So a page that launched a campaign while Redis was down still answers normally.
    """
    queue = _queue.get() or getattr(settings, "FEEDBACK_QUEUE", None)
    try:
        if queue:
            task.apply_async(kwargs=kwargs, queue=queue)
        else:
            task.apply_async(kwargs=kwargs)
    except (KombuOperationalError, ConnectionError, OSError) as exc:
        log.warning("broker unavailable, %s not enqueued (the tick picks it up): %s", task.name, exc)
        return False
    return True


def _from_queue(request) -> contextvars.Token:
    info = getattr(request, "delivery_info", None) or {}
    return _queue.set(info.get("routing_key") or None)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def round_start_task(self, round_id: int) -> int:
    """Write a round's invitations (the outbox); the senders start when that commits."""
    token = _from_queue(self.request)
    try:
        return outbox.round_start(round_id=round_id).queued
    finally:
        _queue.reset(token)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def round_dispatch_task(self, round_id: int, lane: str = outbox.INVITE, senders: int | None = None) -> int:
    """Start parallel chains of chunk senders for a round."""
    token = _from_queue(self.request)
    try:
        count = senders or outbox.PARALLEL_SENDERS
        for _ in range(count):
            enqueue(invitations_send_chunk_task, round_id=round_id, lane=lane)
        return count
    finally:
        _queue.reset(token)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(TransientSendError,),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
    ignore_result=True,
)
def invitations_send_chunk_task(self, round_id: int, lane: str = outbox.INVITE) -> int:
    """Claim and send one chunk; while chunks come back full, continue with the next one."""
    token = _from_queue(self.request)
    try:
        report = outbox.invitations_send_chunk(round_id=round_id, lane=lane)
        if report.more:
            enqueue(invitations_send_chunk_task, round_id=round_id, lane=lane)
        return report.sent
    finally:
        _queue.reset(token)


@shared_task(bind=True, acks_late=True, ignore_result=True)
def invitations_recover_task(self, lease_seconds: int | None = None) -> int:
    """Take back claims of senders that died (older than the lease) and restart their rounds."""
    token = _from_queue(self.request)
    try:
        lease = dt.timedelta(seconds=lease_seconds) if lease_seconds is not None else outbox.CLAIM_LEASE
        return sum(outbox.invitations_recover(lease=lease).values())
    finally:
        _queue.reset(token)


@shared_task(bind=True, acks_late=True, ignore_result=True)
def feedback_tick_task(self) -> dict:
    """Every minute (beat): due rounds, due reminders, stale claims, stalled senders, finished rounds."""
    token = _from_queue(self.request)
    try:
        report = outbox.feedback_tick()
        return report.__dict__
    finally:
        _queue.reset(token)
