"""The request an audited service runs in (its user and IP), without passing it down."""

from __future__ import annotations

from contextvars import ContextVar

_current_ip: ContextVar[str | None] = ContextVar("audit_ip", default=None)


def client_ip(request) -> str | None:
    """The address the request came from. Behind the reverse proxy REMOTE_ADDR is the proxy;
    the proxy is expected to set REMOTE_ADDR correctly (e.g. gunicorn --forwarded-allow-ips)."""
    return request.META.get("REMOTE_ADDR") or None


def current_ip() -> str | None:
    return _current_ip.get()


class AuditContextMiddleware:
    """Remembers the client's address for the length of the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            _current_ip.reset(token)
