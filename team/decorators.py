"""Access decorators for staff pages."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def role_required(view: Callable) -> Callable:
    """Logged in (else to the login page) and holding a role (else 403)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.has_app_access:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapped)
