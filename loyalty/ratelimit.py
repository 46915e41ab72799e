"""A fixed-window rate limit for the public loyalty pages, in the shared cache."""

from __future__ import annotations

import time

from django.core.cache import cache
from django.http import HttpRequest

LIMITS = {"read": 120, "write": 20}  # requests per minute per address


def allow(request: HttpRequest, scope: str, window: int = 60) -> bool:
    who = request.META.get("REMOTE_ADDR", "") or "unknown"
    key = f"loyalty:rl:{scope}:{who}:{int(time.time() // window)}"
    cache.add(key, 0, window + 5)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, window + 5)
        count = 1
    return count <= LIMITS[scope]
