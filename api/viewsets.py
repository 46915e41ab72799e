"""The base every API view builds on: body limits, safe input, and Idempotency-Key replays.

Idempotency: a POST with ``Idempotency-Key: <up to 255 printable ASCII characters>`` runs in
one transaction that first claims the key for the caller (the token, or the user of a
session). A 2xx answer is stored with the request's fingerprint (method, path, body) and
replayed, byte for byte and with ``Idempotent-Replayed: true``, to any later POST with the
same key and the same request for 24 hours. The same key with a different request is a 409.
A request with the key still in flight makes the second one wait for the first (the claim is
a unique row) and then replay its answer. A non-2xx answer is not stored and writes nothing,
so the client may fix the request and retry with the same key.
"""

from __future__ import annotations

import hashlib
import io
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions, viewsets
from rest_framework.metadata import SimpleMetadata
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from .exceptions import Conflict, PayloadTooLarge
from .models import ApiToken, IdempotencyRecord
from .services import IDEMPOTENCY_TTL

IDEMPOTENCY_HEADER = "Idempotency-Key"
_KEY_RE = re.compile(r"^[\x20-\x7e]{1,255}$")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class _Replay(Exception):
    def __init__(self, response: HttpResponse):
        self.response = response


def raw_body(request, limit: int) -> bytes:
    """The request body, read once, within ``limit`` bytes (else 413).

    Reads the stream directly so Django's form-oriented DATA_UPLOAD_MAX_MEMORY_SIZE does not
    turn a large API body into an HTML 400; DRF's parsers then read the cached bytes.
    """
    django_request = getattr(request, "_request", request)
    if hasattr(django_request, "_body"):
        return django_request._body
    try:
        length = int(django_request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise exceptions.ParseError(_("Content-Length is not a number.")) from None
    if length > limit:
        raise PayloadTooLarge(
            _("The body is %(size)s bytes; this endpoint accepts at most %(limit)s.")
            % {"size": f"{length:,}", "limit": f"{limit:,}"}
        )
    if django_request._read_started:
        return b""
    body = django_request.read(limit + 1)
    if len(body) > limit:
        raise PayloadTooLarge(_("The body is larger than %(limit)s bytes.") % {"limit": f"{limit:,}"})
    django_request._body = body
    django_request._stream = io.BytesIO(body)
    return body


class ApiMetadata(SimpleMetadata):
    """OPTIONS answers what the resource renders and parses; the schema documents the rest."""

    def determine_metadata(self, request, view):
        return {
            "name": view.get_view_name(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
            "schema": "/api/schema/",
        }


class ApiViewMixin:
    """Mixed into every API view (viewsets and plain views alike)."""

    metadata_class = ApiMetadata
    max_body_bytes: int | None = None  # default: settings.API_MAX_BODY_BYTES

    def body_limit(self) -> int:
        return self.max_body_bytes or settings.API_MAX_BODY_BYTES

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST" and IDEMPOTENCY_HEADER in request.headers:
            with transaction.atomic():
                return super().dispatch(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        self._idempotency_record = None
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()
        ):
            raise exceptions.ParseError(_("The address may not contain NUL characters."))
        if request.method in _BODY_METHODS:
            raw_body(request, self.body_limit())
        super().initial(request, *args, **kwargs)
        if request.method == "POST" and request.headers.get(IDEMPOTENCY_HEADER) is not None:
            self._idempotency_claim(request)

    # -------------------------------------------------------------- idempotency

    def _idempotency_claim(self, request) -> None:
        key = request.headers[IDEMPOTENCY_HEADER]
        if not _KEY_RE.match(key):
            raise exceptions.ValidationError(
                {IDEMPOTENCY_HEADER: [_("Use 1 to 255 printable ASCII characters, e.g. a UUID.")]}
            )
        owner = (
            f"token:{request.auth.pk}" if isinstance(request.auth, ApiToken) else f"user:{request.user.pk}"
        )
        digest = hashlib.sha256()
        digest.update(f"{request.method} {request.get_full_path()}\n".encode("utf-8", "surrogatepass"))
        digest.update(raw_body(request, self.body_limit()))
        fingerprint = digest.hexdigest()

        IdempotencyRecord.objects.filter(
            owner=owner, key=key, created_at__lt=timezone.now() - IDEMPOTENCY_TTL
        ).delete()
        try:
            with transaction.atomic():
                self._idempotency_record = IdempotencyRecord.objects.create(
                    owner=owner, key=key, fingerprint=fingerprint, status_code=0
                )
            return
        except IntegrityError:
            pass  # claimed before (committed): replay it or refuse
        record = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
        if record is None or record.status_code == 0:
            raise Conflict(_("A request with this Idempotency-Key is still being processed; retry shortly."))
        if record.fingerprint != fingerprint:
            raise Conflict(
                _(
                    "This Idempotency-Key was already used for a different request "
                    "(another method, address or body). Use a new key for a new request."
                )
            )
        response = HttpResponse(record.body, status=record.status_code, content_type="application/json")
        response["Idempotent-Replayed"] = "true"
        if record.location:
            response["Location"] = record.location
        raise _Replay(response)

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if getattr(getattr(request, "accepted_renderer", None), "format", None) == "api":
            # DRF's browsable pages (staff, session) set style attributes; scripts stay 'self' only.
            response._csp_update = {"style-src": ["'unsafe-inline'"]}
        record = getattr(self, "_idempotency_record", None)
        if record is not None:
            self._idempotency_record = None
            if 200 <= response.status_code < 300 and isinstance(response, Response):
                body = JSONRenderer().render(response.data)
                IdempotencyRecord.objects.filter(pk=record.pk).update(
                    status_code=response.status_code,
                    body=body.decode(),
                    location=response.get("Location", "")[:500],
                )
            else:
                transaction.set_rollback(True)  # a refused request writes nothing and frees the key
        return response


class ApiGenericViewSet(ApiViewMixin, viewsets.GenericViewSet):
    pass


class ApiView(ApiViewMixin, APIView):
    pass
