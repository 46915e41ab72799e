"""The portfolio's column headings and filter selects are built in Python
(accounts.rendering.sort_headers_html, filter_selects_html) for speed; they must give what the
template gave, escaping and errors included, whitespace aside."""

from __future__ import annotations

import re

from django.http import QueryDict
from django.template import Context, Template
from django.test import RequestFactory

from accounts.forms import PortfolioFilterForm
from accounts.rendering import filter_selects_html, sort_headers_html
from accounts.views import _sort_headers

HEADERS = Template(
    """{% for h in headers %}<th scope="col"{% if h.numeric %} class="num"{% endif %} aria-sort="{{ h.aria_sort }}"><a href="{{ h.href }}" hx-get="{{ h.href }}">{{ h.label }}{% if h.aria_sort == "ascending" %} <span aria-hidden="true">▲</span>{% elif h.aria_sort == "descending" %} <span aria-hidden="true">▼</span>{% endif %}</a></th>{% endfor %}"""  # noqa: E501
)
SELECTS = Template(
    """{% for select in selects %}
  <div class="field{% if select.errors %} has-error{% endif %}">
    <label for="{{ select.id }}">{{ select.label }}</label>
    <select name="{{ select.name }}" id="{{ select.id }}"{% if select.errors %} aria-invalid="true" aria-describedby="{{ select.id }}_error"{% endif %}>{{ select.options }}</select>
    {% for error in select.errors %}<small class="error" id="{{ select.id }}_error" role="alert">{{ error }}</small>{% endfor %}
  </div>
  {% endfor %}"""  # noqa: E501
)


def normalised(html: str) -> str:
    return re.sub(r"\s+", " ", str(html)).strip()


def test_headings_as_the_template_wrote_them():
    params = QueryDict("q=a%26b<c&segment=smb", mutable=True)
    for sort, owner in [("name", True), ("-mrr", False), ("score", True)]:
        headers = _sort_headers(params, sort, owner)
        ours, theirs = sort_headers_html(headers), HEADERS.render(Context({"headers": headers}))
        assert normalised(ours) == normalised(theirs)
    assert "&amp;" in ours and "<c" not in ours and "▲" in ours


def test_selects_as_the_template_wrote_them(carol):
    for query in ["", "segment=enterprise&renewal=60", "segment=nope&grade=<x>&owner=999999"]:
        form = PortfolioFilterForm(RequestFactory().get("/?" + query).GET or None, user=carol)
        selects = form.select_fields()
        ours, theirs = filter_selects_html(selects), SELECTS.render(Context({"selects": selects}))
        assert normalised(ours) == normalised(theirs), query
    assert 'aria-invalid="true"' in ours and "has-error" in ours and "<x>" not in ours
