"""cs_app.form_renderer.FastWidgets builds input, textarea and select widgets in Python; they must
be exactly what Django's template renderer gives, for every kind of value and attribute."""

from __future__ import annotations

import datetime as dt

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe

from cs_app.form_renderer import FastWidgets

HOSTILE = "\"><script>alert(1)</script>&amp;'"


class Everything(forms.Form):
    text = forms.CharField(max_length=20, help_text="Help")
    email = forms.EmailField(required=False, widget=forms.EmailInput(attrs={"placeholder": HOSTILE}))
    number = forms.IntegerField(min_value=0, max_value=9)
    decimal = forms.DecimalField(required=False)
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    when = forms.DateTimeField(required=False)
    secret = forms.CharField(widget=forms.PasswordInput(render_value=True))
    hidden = forms.CharField(widget=forms.HiddenInput)
    agree = forms.BooleanField(required=False)
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2, "data-x": HOSTILE, "hidden": True, "off": False})
    )
    choice = forms.ChoiceField(choices=[("", "Choose…"), ("a", "A & B"), (HOSTILE, mark_safe("<b>safe</b>"))])
    grouped = forms.ChoiceField(choices=[("Fruit", [("apple", "Apple"), ("pear", "Pear")]), ("x", "Other")])
    many = forms.MultipleChoiceField(required=False, choices=[(1, "One"), (2, "Two"), (3, "Three")])
    typed = forms.TypedChoiceField(choices=[(1, "Low"), (2, "High")], coerce=int, initial=2)


INITIAL = {
    "text": HOSTILE,
    "email": "a@example.com",
    "number": 3,
    "decimal": "1.50",
    "day": dt.date(2026, 12, 4),
    "when": dt.datetime(2026, 12, 4, 10, 30),
    "secret": "p<ss>",
    "hidden": mark_safe("<i>x</i>"),
    "agree": True,
    "notes": "line\n<two>",
    "choice": HOSTILE,
    "grouped": "pear",
    "many": [1, 3],
}


def rendered(form_class, renderer, **kwargs) -> dict[str, str]:
    form = form_class(renderer=renderer, **kwargs)
    return {name: str(form[name]) for name in form.fields}


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"initial": INITIAL}, {"data": {**INITIAL, "number": "12", "text": "x" * 30, "many": ["1", "3"]}}],
    ids=["empty", "initial", "bound-with-errors"],
)
def test_the_same_html_as_djangos_templates(kwargs):
    ours = rendered(Everything, FastWidgets(), **kwargs)
    theirs = rendered(Everything, DjangoTemplates(), **kwargs)
    for name in theirs:
        assert ours[name] == theirs[name], name
    if "data" in kwargs:
        assert 'aria-invalid="true"' in ours["number"]


def test_hostile_values_are_escaped():
    html = rendered(Everything, FastWidgets(), initial=INITIAL)
    assert "<script>" not in "".join(html.values())
    assert "&lt;b&gt;" not in html["choice"] and "<b>safe</b>" in html["choice"]  # a safe label stays


def test_the_project_uses_it(settings):
    from django.forms.renderers import get_default_renderer

    assert settings.FORM_RENDERER == "cs_app.form_renderer.FastWidgets"
    assert isinstance(get_default_renderer(), FastWidgets)


def test_these_widgets_skip_the_template_engine(monkeypatch):
    def refuse(self, template_name, context, request=None):
        raise AssertionError(f"template engine used for {template_name}")

    monkeypatch.setattr(DjangoTemplates, "render", refuse)
    html = rendered(Everything, FastWidgets(), initial=INITIAL)
    assert all(html.values())
