"""Thin Celery tasks for accounts: each calls a service and is safe to run again."""

from __future__ import annotations

import datetime as dt

from celery import shared_task

from . import services


@shared_task(acks_late=True, ignore_result=True)
def accounts_refresh_mrr_task(day: str | None = None) -> int:
    """Bring every account's cached MRR in line with its movements up to ``day`` (ISO date,
    default today). Idempotent: one set-based UPDATE; running it twice changes nothing more."""
    parsed = dt.date.fromisoformat(day) if day else None
    return services.accounts_refresh_mrr(day=parsed)
