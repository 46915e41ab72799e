"""Who may call the API: a person with a role (directly or through a token), and a token's scope."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import permissions

from .models import ApiToken


class HasAppAccess(permissions.BasePermission):
    """Authenticated (401 otherwise) as someone with a role (403 otherwise)."""

    message = _("Your account has no role in the platform; ask an admin for one.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return bool(user.has_app_access)


class TokenScopeAllows(permissions.BasePermission):
    """A read-only token may only read (GET, HEAD, OPTIONS)."""

    message = _("This token is read-only; ask a manager for a read-and-write token.")

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if request.method in permissions.SAFE_METHODS or not isinstance(token, ApiToken):
            return True
        return token.can_write


class IsManager(permissions.BasePermission):
    message = _("Only managers and admins may do this.")

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.sees_all_accounts)
