"""OpenAPI: the token security scheme, and the error answers every operation documents."""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, for a person.")
    code = serializers.CharField(help_text="A stable machine-readable code, e.g. invalid, not_found.")


class ValidationErrorSerializer(ErrorSerializer):
    errors = serializers.DictField(
        required=False,
        child=serializers.JSONField(),
        help_text="Messages by field: a list of strings, or nested by field or row index.",
    )


class TokenAuthScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token: `Authorization: Bearer csp_…`. Managers create them at "
            "/api/tokens/ (or admins in the admin).",
        }


_ERRORS = {
    "400": ("Invalid input: see errors by field.", ValidationErrorSerializer),
    "401": ("No valid token (or session).", ErrorSerializer),
    "403": ("Not allowed: no role, or a read-only token.", ErrorSerializer),
    "404": ("Not found, not in this token's portfolio, or no such page or cursor.", ErrorSerializer),
    "409": ("Idempotency-Key reused for a different request, or still in flight.", ErrorSerializer),
    "413": ("The body or the batch is too large.", ErrorSerializer),
    "429": ("Throttled: retry after the Retry-After header's seconds.", ErrorSerializer),
}


def _model_field(field):
    """The model field behind a read-only field of a ModelSerializer (direct sources only)."""
    if not field.read_only or not field.source or "." in field.source or field.source == "*":
        return None
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None:
        return None
    try:
        model_field = model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return None
    return model_field if model_field.concrete else None  # not a reverse relation


def _document_read_only_like_the_model(field) -> None:
    """DRF drops ``allow_blank`` from read-only model fields, and a declared read-only field
    (e.g. a creator's email) often omits ``allow_null``: answers would then carry "" or null where
    the schema says they cannot. Document what the model allows."""
    model_field = _model_field(field)
    if model_field is None:
        return
    if getattr(model_field, "null", False) and not field.allow_null:
        field.allow_null = True
    if (
        isinstance(field, serializers.ChoiceField)
        and isinstance(model_field, models.CharField)
        and model_field.blank
        and not field.allow_blank
    ):
        field.allow_blank = True


class ApiAutoSchema(AutoSchema):
    """Adds the error answers that apply to each operation, so clients can rely on them."""

    def _error_codes(self) -> list[str]:
        codes = ["400", "401", "403", "429"]
        if "{" in self.path or self.method == "GET":  # a missing row, or a page/cursor past the end
            codes.append("404")
        if self.method in ("POST", "PUT", "PATCH"):
            codes.append("413")
        if self.method == "POST":
            codes.append("409")
        return codes

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        _document_read_only_like_the_model(field)
        return super()._map_serializer_field(field, direction, bypass_extensions)

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.method == "POST" and self.path.startswith("/api/v1/"):
            parameters.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    required=False,
                    description="Optional: a retry with the same key (within 24 hours) returns the first "
                    "2xx answer instead of writing twice; the same key with a different request is a 409.",
                )
            )
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if not self.path.startswith("/api/v1/"):
            return responses
        for code in self._error_codes():
            if code not in responses:
                description, serializer = _ERRORS[code]
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(response=serializer, description=description), code, direction=direction
                )
        return responses
