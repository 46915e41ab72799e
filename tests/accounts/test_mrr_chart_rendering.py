"""The account 360's MRR chart is built in Python (accounts.rendering.mrr_chart_html) for speed;
it must give what the template gave: the same bars, months and amounts (the template's
``date:"M Y"`` and ``floatformat:"0g"``), whitespace aside."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.template import Context, Template

from accounts.rendering import mrr_chart_html
from accounts.selectors import MonthMrr

REFERENCE = Template(
    """{% for bar in bars %}<rect x="{{ bar.x }}" y="{{ bar.y }}" width="16" height="{{ bar.height }}" class="bar{% if bar.last %} current{% endif %}"><title>{{ bar.month.month|date:"M Y" }}: {{ bar.month.mrr|floatformat:"0g" }} {{ currency }}</title></rect>{% endfor %}
|<span>{{ bars.0.month.month|date:"M Y" }}</span><span>{% with last=bars|last %}{{ last.month.month|date:"M Y" }}{% endwith %}</span>
|{% for bar in bars %}<tr><td>{{ bar.month.month|date:"M Y" }}</td><td class="num">{{ bar.month.mrr|floatformat:"0g" }}</td><td class="num">{% if bar.month.change %}{{ bar.month.change|floatformat:"0g" }}{% else %}—{% endif %}</td></tr>{% endfor %}"""  # noqa: E501
)

AMOUNTS = ["0", "0.5", "1.5", "2.5", "999.49", "1234.5", "-1500.5", "1234567.89", "12"]


def bars() -> list[dict]:
    rows, previous = [], Decimal(0)
    for index, amount in enumerate(AMOUNTS):
        mrr = Decimal(amount)
        rows.append(
            {
                "month": MonthMrr(month=dt.date(2025, index + 1, 1), mrr=mrr, change=mrr - previous),
                "x": index * 20 + 2,
                "y": 102 - index * 10.5,
                "height": index * 10.5,
                "last": index == len(AMOUNTS) - 1,
            }
        )
        previous = mrr
    return rows


def normalised(html: str) -> str:
    return re.sub(r"\s+", " ", str(html)).strip()


def test_the_same_html_as_the_template():
    data = bars()
    ours = mrr_chart_html(data, currency="E<R")
    theirs = REFERENCE.render(Context({"bars": data, "currency": "E<R"})).split("|")
    assert normalised(ours["rects"]) == normalised(theirs[0])
    assert normalised(f"<span>{ours['first']}</span><span>{ours['last']}</span>") == normalised(theirs[1])
    assert normalised(ours["rows"]) == normalised(theirs[2])
    assert "1,234,568" in ours["rows"] and "E&lt;R" in ours["rects"] and "—" in ours["rows"]


def test_no_months():
    assert mrr_chart_html([], currency="EUR") == {"rects": "", "rows": "", "first": "", "last": ""}
