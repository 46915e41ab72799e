"""A small fixed-window rate limit for the public survey pages, in the shared cache."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

LIMITS = {  # requests per minute (settings.FEEDBACK_RATE_LIMITS overrides each)
    "read": 120,  # per address: opening survey pages
    "write": 30,  # per address: submitting answers or unsubscribing
    "token": 10,  # per survey link: submitting
}


def allow(request: HttpRequest, scope: str, key: str = "", window: int = 60) -> bool:
    """Count this request; False once the scope's limit per window is exceeded."""
    who = key or request.META.get("REMOTE_ADDR", "") or "unknown"
    slot = int(time.time() // window)
    cache_key = f"feedback:rl:{scope}:{who}:{slot}"
    cache.add(cache_key, 0, window + 5)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, window + 5)
        count = 1
    return count <= getattr(settings, "FEEDBACK_RATE_LIMITS", {}).get(scope, LIMITS[scope])
