"""Template filters for figures: ``{{ value|fmt:"money" }}`` shows a number in the user's
locale and the reporting currency, or "no data" (never 0) when there is none."""

from django import template

from .. import formatting

register = template.Library()


@register.filter
def fmt(value, kind: str = "number"):
    return formatting.display(value, kind)
