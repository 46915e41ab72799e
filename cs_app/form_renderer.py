"""The project's form renderer (``FORM_RENDERER``): Django's own, with its plainest widget
templates written as Python.

Django renders every widget through a template (``<input>``, ``<textarea>``, ``<select>`` and one
template per ``<option>``): a tenth of a millisecond and more per field, several milliseconds on
pages with forms in them (the account 360's side cards, the task inbox). The functions below
give the very markup of those templates (``tests/test_form_renderer.py`` compares them on every
kind of value and attribute); any other template, and any project override of these ones, goes
through the template engine as before.
"""

from __future__ import annotations

from collections.abc import Callable

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

WIDGETS = "django/forms/widgets/"


def _text(value) -> str:
    """``{{ value|stringformat:'s' }}`` with autoescaping: escaped unless already safe."""
    return conditional_escape(value) if hasattr(value, "__html__") else conditional_escape(f"{value}")


def _attrs(attrs: dict) -> str:
    return "".join(
        f" {conditional_escape(name)}" if value is True else f" {conditional_escape(name)}={_quoted(value)}"
        for name, value in attrs.items()
        if value is not False
    )


def _quoted(value) -> str:
    return f'"{_text(value)}"'


def _input(widget: dict) -> str:
    value = "" if widget["value"] is None else f" value={_quoted(widget['value'])}"
    return (
        f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"'
        f"{value}{_attrs(widget['attrs'])}>"
    )


def _textarea(widget: dict) -> str:
    value = conditional_escape(widget["value"]) if widget["value"] else ""
    return (
        f'<textarea name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>'
    )


def _option(option: dict) -> str:
    return (
        f"<option value={_quoted(option['value'])}{_attrs(option['attrs'])}>"
        f"{conditional_escape(option['label'])}</option>"
    )


def _select(widget: dict) -> str:
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in group_choices:
            if option["template_name"] != WIDGETS + "select_option.html":
                return ""  # a custom option template: let the template engine do the whole select
            parts.append(f"\n  {_option(option)}\n")  # the option template ends with a newline
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


INPUTS = ("text", "email", "number", "date", "datetime", "time", "password", "url", "search", "tel")
BUILDERS: dict[str, Callable[[dict], str]] = {
    **{f"{WIDGETS}{name}.html": _input for name in (*INPUTS, "hidden", "checkbox", "color", "input")},
    f"{WIDGETS}textarea.html": _textarea,
    f"{WIDGETS}select.html": _select,
}


class FastWidgets(DjangoTemplates):
    """Django's template renderer, with input, textarea and select widgets built in Python."""

    def render(self, template_name, context, request=None):
        build = BUILDERS.get(template_name)
        if build is not None and "widget" in context:
            html = build(context["widget"])
            if html:
                return mark_safe(html)  # noqa: S308 - every value and attribute is escaped above
        return super().render(template_name, context, request=request)
