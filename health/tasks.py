"""Thin Celery tasks for health: each calls a service and is safe to run again."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(acks_late=True, ignore_result=True)
def health_scores_recompute_task() -> dict:
    """Nightly: score every account for today, raise alerts, apply playbooks. Re-running the
    same day replaces the day's snapshots and opens no duplicate alerts."""
    report = services.health_scores_recompute()
    return {"accounts": report.accounts, "alerts": report.alerts_opened, "tasks": report.tasks_created}


@shared_task(acks_late=True, ignore_result=True)
def account_health_recompute_task(account_ids: list[int]) -> int:
    """Debounced: recompute today's scores of accounts that received new data."""
    return services.account_health_recompute(account_ids=account_ids).scored


@shared_task(acks_late=True, ignore_result=True)
def task_digests_send_task() -> int:
    """Daily: one digest email per CSM with work to do; never two on one day."""
    return services.task_digests_send()
