"""The navigation's task counts: one query, and only on pages that show them."""

from django.utils.functional import SimpleLazyObject

from . import selectors


def task_counts(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"task_counts": SimpleLazyObject(lambda: selectors.task_counts(user=user))}
