"""Thin Celery tasks for onboarding: each calls a service and is safe to run again."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from . import services


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def milestone_celebrate_task(*, milestone_id: int) -> int:
    """Email the congratulation for a milestone done; a retry sends only what is still pending."""
    return services.milestone_celebrate(milestone_id=milestone_id)


@shared_task(acks_late=True, ignore_result=True)
def celebrations_sweep_task() -> int:
    """Every few minutes (beat): celebrations whose enqueue after commit was lost."""
    return services.celebrations_sweep()
