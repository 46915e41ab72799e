"""Token authentication: ``Authorization: Bearer <token>`` (``Token <token>`` also accepted)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from .services import token_authenticate


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("bearer", "token")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request)
        if not header:
            return None
        try:
            parts = header.decode("latin-1").split()
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes any byte
            raise exceptions.AuthenticationFailed(_("Invalid token header.")) from None
        if not parts or parts[0].lower() not in self.keywords:
            return None  # another scheme (e.g. Basic): not ours
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Invalid token header: send 'Authorization: Bearer <token>'.")
            )
        token = token_authenticate(raw=parts[1])
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("The person this token acts for is no longer active."))
        return (token.user, token)

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
