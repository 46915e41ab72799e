"""The account 360's timeline entries are built in Python (accounts.rendering.timeline_entries_html)
for speed; they must give the HTML the template gave: the same elements, texts, escaping and
dates (in the current time zone), whitespace aside."""

from __future__ import annotations

import datetime as dt
import re

from django.template import Context, Template
from django.utils import timezone

from accounts.rendering import timeline_entries_html
from accounts.selectors import TimelineEntry

# The template's loop before the change, kept here as the reference.
REFERENCE = Template(
    """{% load i18n %}{% for entry in entries %}
        <li class="tl-item tl-{{ entry.kind }}">
          <span class="tl-icon icon-{{ entry.icon }}" aria-hidden="true"></span>
          <div class="tl-body">
            <p class="tl-title"><strong>{{ entry.title }}</strong> <time datetime="{{ entry.occurred_at|date:'c' }}" class="muted">{% if entry.kind == "usage" %}{% trans "week of" %} {{ entry.occurred_at|date:"M j, Y" }}{% else %}{{ entry.occurred_at|date:"M j, Y, H:i" }}{% endif %}</time></p>
            {% if entry.body %}<p class="tl-text">{{ entry.body|linebreaksbr }}</p>{% endif %}
            {% if entry.actor %}<p class="muted small">{% blocktrans with who=entry.actor %}by {{ who }}{% endblocktrans %}</p>{% endif %}
          </div>
        </li>{% endfor %}"""  # noqa: E501
)

ENTRIES = [
    TimelineEntry(
        kind="touchpoint",
        occurred_at=dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC),
        key=1,
        title='Call · Zoë <b>&</b> "Bob"',
        body="Line one\nline <two> & 'three'\r\n\nfour",
        icon="call",
        actor="Alice O'Neil <alice@example.com>",
    ),
    TimelineEntry(
        kind="usage",
        occurred_at=dt.datetime(2026, 2, 23, tzinfo=dt.UTC),
        key=2,
        title="Usage: 5 events",
        icon="usage",
    ),
    TimelineEntry(
        kind="alert",
        occurred_at=dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC),
        key=3,
        title="Red",
        body="",
        icon="",
    ),
]


def normalised(html: str) -> str:
    return re.sub(r"\s+", " ", str(html)).replace("> <", "><").strip()


def test_the_same_html_as_the_template(settings):
    for zone in ("UTC", "Europe/Istanbul", "America/Los_Angeles"):
        with timezone.override(zone):
            ours = timeline_entries_html(ENTRIES)
            theirs = REFERENCE.render(Context({"entries": ENTRIES}))
        assert normalised(ours) == normalised(theirs), zone
    assert "&lt;two&gt; &amp; &#x27;three&#x27;<br>" in ours
    assert "<b>" not in ours
    assert normalised(theirs).count("<li ") == 3


def test_no_entries_no_html():
    assert timeline_entries_html([]) == ""
