"""Per-token throttling (per user for session clients, per address for anonymous callers).

Counts live in the ``throttle`` cache: local memory by default, Redis in production
(``API_THROTTLE_CACHE_URL``) so every web process shares the same counts.
"""

from __future__ import annotations

from django.core.cache import caches
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    @property
    def cache(self):  # resolved per call, so tests can swap caches
        return caches["throttle"]

    def get_rate(self):
        rates = api_settings.DEFAULT_THROTTLE_RATES or {}
        return rates.get(getattr(self, "throttle_scope", None) or self.scope)

    def allow_request(self, request, view):
        self.throttle_scope = getattr(view, "throttle_scope", None) or self.scope
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return f"api-throttle:{self.throttle_scope}:{ident}"
