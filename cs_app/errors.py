"""Answers for requests that fail through no fault of the caller.

When the database is unreachable (restarting, failing over, out of connections) every request
that needs it raises ``OperationalError`` or ``InterfaceError``. Those become a **503** with a
``Retry-After`` header: a short page for people (``templates/503.html``, rendered without the
request's context processors, so it needs no database itself), JSON in the API's error shape
for ``/api/``. Never a traceback. Django closes the broken connection at the end of the request,
so the next request connects afresh and succeeds as soon as the database is back.

Any other unhandled error keeps Django's 500 page.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views import defaults

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10
DATABASE_DOWN = (OperationalError, InterfaceError)


def database_unavailable(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or an exception it was raised from) says the database is unreachable."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, DATABASE_DOWN):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def unavailable_body() -> dict:
    return {
        "detail": _("The service is briefly unavailable; try again in a few seconds."),
        "code": "service_unavailable",
    }


def unavailable_response(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(unavailable_body(), status=503)
    else:
        try:
            page = render_to_string("503.html", {"retry_after": RETRY_AFTER_SECONDS})
        except Exception:  # the page must never fail: fall back to plain text
            log.exception("the 503 page could not be rendered")
            page = "Service briefly unavailable. Try again in a few seconds."
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    """``handler500``: a database outage is a 503 (try again), anything else Django's 500."""
    if database_unavailable(sys.exc_info()[1]):
        return unavailable_response(request)
    return defaults.server_error(request, template_name=template_name)
