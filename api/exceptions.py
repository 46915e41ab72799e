"""Every error is JSON: ``{"detail": "...", "code": "...", "errors": {field: [messages]}}``.

``errors`` is present for validation errors (400) only. Django's ValidationError (raised by
services), PermissionError (a service's access rule) and Http404 are translated here, and
database errors caused by input are a 400 or 409, so no input can produce a 500.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from cs_app.errors import RETRY_AFTER_SECONDS, database_unavailable, unavailable_body

log = logging.getLogger(__name__)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request is too large."
    default_code = "too_large"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


def django_errors(exc: DjangoValidationError) -> dict | list:
    if hasattr(exc, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [str(m) for m in messages]
            for field, messages in exc.message_dict.items()
        }
    return {"non_field_errors": [str(m) for m in exc.messages]}


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(django_errors(exc))
    elif isinstance(exc, PermissionError):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, IntegrityError):
        log.info("API request hit a constraint: %s", exc)
        exc = Conflict(_("This conflicts with an existing record (a unique value is already taken)."))
    elif isinstance(exc, DataError):
        log.info("API request sent a value the database refused: %s", exc)
        exc = exceptions.ValidationError({"non_field_errors": [_("A value is out of range or malformed.")]})
    elif isinstance(exc, Http404 | PermissionDenied):
        pass  # DRF translates these
    elif database_unavailable(exc):
        # The database is restarting or unreachable: try again, not a bug (cs_app.errors).
        log.warning("API request while the database is unavailable: %s", exc)
        set_rollback()
        response = Response(unavailable_body(), status=status.HTTP_503_SERVICE_UNAVAILABLE)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    response = drf_exception_handler(exc, context)
    if response is None:
        # A bug, not the caller's fault: logged with its traceback, answered in JSON like the rest.
        log.exception("Unhandled error in %s", context.get("view").__class__.__name__, exc_info=exc)
        set_rollback()
        return Response(
            {"detail": _("Something went wrong on our side; it has been logged."), "code": "server_error"},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    set_rollback()
    detail = response.data
    if isinstance(exc, exceptions.ValidationError):
        errors = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        body = {"detail": _("Check the fields marked in errors."), "code": "invalid", "errors": errors}
    else:
        message = detail.get("detail", detail) if isinstance(detail, dict) else detail
        code = getattr(message, "code", None) or getattr(exc, "default_code", "error")
        body = {"detail": str(message), "code": str(code)}
    response.data = body
    return response


@csrf_exempt
def json_not_found(request, *args, **kwargs) -> JsonResponse:
    """Unknown /api/ address: a JSON 404 like every other API error."""
    return JsonResponse({"detail": _("No API endpoint at this address."), "code": "not_found"}, status=404)
