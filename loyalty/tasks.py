"""Thin Celery tasks for the loyalty programme; each is safe to run again."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(acks_late=True, ignore_result=True)
def loyalty_nightly_task() -> dict:
    """Nightly: expire due points (oldest first), warn of points expiring within 14 days, and
    move tiers (up at once, down after the grace period)."""
    expired = services.points_expire()
    warned = services.points_expiry_warn()
    tiers = services.tiers_evaluate()
    return {"expired": expired, "warned": warned, "raised": tiers.raised, "lowered": tiers.lowered}
