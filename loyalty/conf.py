"""Programme settings, read from Django settings with defaults (override in cs_app/settings.py)."""

from __future__ import annotations

import os

from django.conf import settings


def _get(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def expire_months() -> int:
    """Points expire this many months after they were earned (0: never)."""
    return _get("LOYALTY_POINTS_EXPIRE_MONTHS", 12)


def warning_days() -> int:
    return _get("LOYALTY_EXPIRY_WARNING_DAYS", 14)


def tier_grace_days() -> int:
    """A tier moves down only after the account has qualified for less for this many days."""
    return _get("LOYALTY_TIER_GRACE_DAYS", 30)


def referral_daily_limit() -> int:
    """More referrals than this from one contact (or link) or one address in a day are flagged."""
    return _get("LOYALTY_REFERRAL_DAILY_LIMIT", 5)


def base_url() -> str:
    configured = getattr(settings, "CS_BASE_URL", "") or os.environ.get("CS_BASE_URL", "")
    return (configured or "http://127.0.0.1:8000").rstrip("/")
