"""A small fixed-window rate limit for the public survey pages, in the shared cache."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache
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
    count = _count(cache_key, window + 5)
    return count <= getattr(settings, "FEEDBACK_RATE_LIMITS", {}).get(scope, LIMITS[scope])


def _count(cache_key: str, timeout: int) -> int:
    """Add one to the window's counter and return it: one round trip on Redis (SET NX with the
    expiry, then INCR, in a pipeline), the cache API's add and incr on any other backend."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(backend, RedisCache):
        key = backend.make_and_validate_key(cache_key)
        pipe = backend._cache.get_client(key, write=True).pipeline(transaction=False)
        pipe.set(key, 0, ex=timeout, nx=True)
        pipe.incr(key)
        return int(pipe.execute()[1])
    try:
        return cache.incr(cache_key)
    except ValueError:  # the window's first request
        if cache.add(cache_key, 1, timeout):
            return 1
        try:
            return cache.incr(cache_key)
        except ValueError:  # expired meanwhile
            cache.set(cache_key, 1, timeout)
            return 1
