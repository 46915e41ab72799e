"""The request an audited service runs in (its user and IP), without passing it down."""

from __future__ import annotations

from contextvars import ContextVar

_current_ip: ContextVar[str | None] = ContextVar("audit_ip", default=None)
_current_request: ContextVar[object | None] = ContextVar("audit_request", default=None)


def client_ip(request) -> str | None:
    """The address the request came from. Behind the reverse proxy REMOTE_ADDR is the proxy;
    the proxy is expected to set REMOTE_ADDR correctly (e.g. gunicorn --forwarded-allow-ips)."""
    return request.META.get("REMOTE_ADDR") or None


def current_ip() -> str | None:
    return _current_ip.get()


def current_user():
    """The user of the request being served (resolved lazily: session or API token), or None."""
    request = _current_request.get()
    if request is None:
        return None
    user = getattr(request, "user", None)
    return user if getattr(user, "is_authenticated", False) else None


class AuditContextMiddleware:
    """Remembers the client's address for the length of the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        ip_token = _current_ip.set(client_ip(request))
        request_token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(request_token)
            _current_ip.reset(ip_token)
