"""The public answer page's text boxes are built with f-strings (feedback.forms.PlainTextarea) for
speed; they must give exactly the HTML of Django's template-rendered Textarea, escaping included."""

from __future__ import annotations

import pytest
from django import forms

from feedback.forms import PlainTextarea

VALUES = [
    None,
    "",
    "plain",
    "quotes \" and ' and <b>tags</b> & ampersands",
    "line one\nline two",
    "  padded  ",
]


class Both(forms.Form):
    plain = forms.CharField(required=False, max_length=2000, widget=PlainTextarea(attrs={"rows": 3}))
    django = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


@pytest.mark.parametrize("value", VALUES)
def test_the_same_html_as_djangos_textarea(value):
    form = Both(initial={"plain": value, "django": value})
    ours = str(form["plain"]).replace('"plain"', '"X"').replace("id_plain", "id_X")
    theirs = str(form["django"]).replace('"django"', '"X"').replace("id_django", "id_X")
    assert ours == theirs


def test_the_same_html_with_errors_and_odd_attributes():
    class Odd(forms.Form):
        plain = forms.CharField(
            max_length=5,
            widget=PlainTextarea(attrs={"rows": 2, "data-x": '"><script>', "hidden": True, "off": False}),
        )
        django = forms.CharField(
            max_length=5,
            widget=forms.Textarea(attrs={"rows": 2, "data-x": '"><script>', "hidden": True, "off": False}),
        )

    form = Odd(data={"plain": "<too long>", "django": "<too long>"})
    assert not form.is_valid()
    ours = str(form["plain"]).replace('"plain"', '"X"').replace("id_plain", "id_X")
    theirs = str(form["django"]).replace('"django"', '"X"').replace("id_django", "id_X")
    assert 'aria-invalid="true"' in ours
    assert "&lt;too long&gt;" in ours and "<script>" not in ours
    assert ours == theirs
