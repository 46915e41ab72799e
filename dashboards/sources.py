"""Where the dashboards read data owned by parts of the product that may not be installed yet.

Survey answers (NPS, CSAT, CES) come from the feedback app and time-to-value and onboarding
progress from the onboarding app. Each is looked up lazily, when a figure is computed: while
the part is missing (not installed, not migrated, or without the function named here) the
figure is "no data", never 0, and it appears by itself once the part lands.

The contract, for the apps that provide these:

* feedback: a ``Response`` model with ``account`` (FK to accounts.Account), ``kind`` ("nps",
  "csat", "ces"), ``score`` (int, null for unscored) and ``answered_at`` (aware datetime).
  The dashboards aggregate it set-based themselves (grouped by segment, tier, plan, owner and
  cohort), so no feedback code is needed beyond the model.
* onboarding: ``onboarding.selectors.time_to_value_median(*, by, accounts)`` → groups with
  ``key`` and ``median_days`` (days from contract start to the first value milestone, None
  without data), and ``onboarding.selectors.board_counts(*, user)`` → {"behind": n, ...}.
  Only the keyword arguments a function declares are passed.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model, QuerySet
from django.urls import NoReverseMatch, reverse

log = logging.getLogger(__name__)

ANSWER_FIELDS = ("account", "kind", "score", "answered_at")


def survey_answer_model() -> type[Model] | None:
    """The feedback app's answer model, or None while the feedback app is not there."""
    if not apps.is_installed("feedback"):
        return None
    try:
        model = apps.get_model("feedback", "Response")
        for name in ANSWER_FIELDS:
            model._meta.get_field(name)
    except (LookupError, FieldDoesNotExist):
        return None
    return model


def survey_answers() -> QuerySet | None:
    model = survey_answer_model()
    return None if model is None else model._default_manager.all()


def optional_function(module: str, name: str) -> Callable[..., Any] | None:
    """``module.name`` if its app is installed and the module has it; None otherwise."""
    if not apps.is_installed(module.split(".")[0]):
        return None
    try:
        found = importlib.import_module(module)
    except ImportError:
        return None
    func = getattr(found, name, None)
    return func if callable(func) else None


def call_with_accepted(func: Callable[..., Any], **kwargs: Any) -> Any:
    """Call ``func`` with only the keyword arguments it declares (all of them if it takes **kw)."""
    params = inspect.signature(func).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        kwargs = {key: value for key, value in kwargs.items() if key in params}
    return func(**kwargs)


def _median_of(result: Any) -> float | None:
    """A number, or the first group's ``median_days`` of a list of groups."""
    if result is None:
        return None
    if isinstance(result, int | float):
        return float(result)
    if isinstance(result, list | tuple):
        if not result:
            return None
        median = getattr(result[0], "median_days", None)
        return None if median is None else float(median)
    return None


def time_to_value_median(*, accounts: QuerySet) -> float | None:
    """Median days from contract start to the first value milestone over ``accounts``."""
    func = optional_function("onboarding.selectors", "time_to_value_median")
    if func is None:
        return None
    return _median_of(call_with_accepted(func, by="all", accounts=accounts))


def time_to_value_by(*, by: str, accounts: QuerySet) -> dict[str, float | None] | None:
    """{group key as text: median days} for a breakdown, or None without onboarding data."""
    func = optional_function("onboarding.selectors", "time_to_value_median")
    if func is None:
        return None
    groups = call_with_accepted(func, by=by, accounts=accounts)
    if not isinstance(groups, list | tuple):
        return None
    return {str(getattr(g, "key", "")): getattr(g, "median_days", None) for g in groups}


def onboarding_behind_schedule(*, user) -> int | None:
    """How many of the user's onboarding plans are behind schedule."""
    func = optional_function("onboarding.selectors", "board_counts")
    if func is None:
        return None
    counts = call_with_accepted(func, user=user)
    value = counts.get("behind") if isinstance(counts, dict) else None
    return None if value is None else int(value)


def optional_url(name: str, *args: Any) -> str | None:
    """The address of another part's page, or None while it does not exist."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None
