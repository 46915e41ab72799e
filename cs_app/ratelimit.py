"""A fixed-window rate limit per client address, in the shared cache (every web process sees
the same counts when CACHE_URL points at Redis). For pages anyone with a link can open."""

from __future__ import annotations

import time

from django.core.cache import cache
from django.http import HttpRequest


def allow(request: HttpRequest, scope: str, limit: int, window: int = 60) -> bool:
    """Count this request; False once ``limit`` requests from this address in this window."""
    who = request.META.get("REMOTE_ADDR", "") or "unknown"
    key = f"rl:{scope}:{who}:{int(time.time() // window)}"
    cache.add(key, 0, window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window + 5)
        count = 1
    return count <= limit
