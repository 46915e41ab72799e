"""Small helpers for the survey pages."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def outbox_enabled() -> bool:
    """The development outbox page exists in the local run (DEBUG) only."""
    return bool(settings.DEBUG)


@register.filter
def pct(value) -> str:
    """A percentage with no decimals, or an em dash when there is no data."""
    if value is None:
        return "—"
    return f"{value:.0f}%"


@register.filter
def hours(value) -> str:
    if value is None:
        return "—"
    if value < 48:
        return f"{value:.0f} h"
    return f"{value / 24:.1f} d"


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
