"""HTML for the portfolio's rows, built in Python like the Django admin's change list
(admin_list.items_for_result): the template engine costs about a millisecond a row, this a
few microseconds. Every value is escaped exactly as in a template."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable

from django.template.defaultfilters import floatformat, linebreaksbr
from django.utils import formats, timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import Account, LifecycleStage, Segment, Tier

MUTED_DASH = mark_safe('<span class="muted">—</span>')


def escape(value) -> str:
    """As django.utils.html.escape (which is html.escape), without its lazy-string wrapper."""
    return html.escape(str(value))


def touched_ago(when: dt.datetime, today: dt.date) -> str:
    days = (today - timezone.localtime(when).date()).days
    if days <= 0:
        return _("today")
    if days == 1:
        return _("yesterday")
    if days < 60:
        return ngettext("%(n)d day ago", "%(n)d days ago", days) % {"n": days}
    months = days // 30
    return ngettext("%(n)d month ago", "%(n)d months ago", months) % {"n": months}


def portfolio_rows_html(
    accounts: Iterable[Account], *, shows_owner: bool, currency: str, today: dt.date | None = None
) -> SafeString:
    today = today or timezone.localdate()
    # Everything that is the same on every row is escaped once; each row's own values are
    # escaped as they go in (html.escape, as Django's escape filter does).
    label = {
        key: escape(text)
        for key, text in {
            "account": _("Account"),
            "owner": _("Owner"),
            "segment": _("Segment"),
            "tier": _("Tier"),
            "stage": _("Stage"),
            "score": _("Score"),
            "grade": _("Grade"),
            "trend": _("7-day trend"),
            "mrr": _("MRR"),
            "renewal": _("Renewal"),
            "touch": _("Last touch"),
        }.items()
    }
    segments = {value: escape(text) for value, text in Segment.choices}
    tiers = {value: escape(text) for value, text in Tier.choices}
    stages = {value: escape(text) for value, text in LifecycleStage.choices}
    grades = {
        grade: f'<span class="grade grade-{grade}">{escape(text)}</span>'
        for grade, text in (("green", _("Green")), ("yellow", _("Yellow")), ("red", _("Red")))
    }
    no_data = f'<span class="muted">{escape(_("no data"))}</span>'
    never = f'<span class="muted">{escape(_("never"))}</span>'
    dash = str(MUTED_DASH)
    money = f' <small class="muted">{escape(currency)}</small>'
    rows = []
    for account in accounts:
        health = getattr(account, "health", None)
        score = getattr(health, "score", None)
        grade = getattr(health, "grade", "") or ""
        change = getattr(health, "change_7d", None)
        cells = [
            f'<td data-label="{label["account"]}"><a href="/accounts/{account.pk}/"><strong>'
            f"{escape(account.name)}</strong></a><br>"
            f'<small class="muted">{escape(account.domain)}</small></td>'
        ]
        if shows_owner:
            cells.append(f'<td data-label="{label["owner"]}">{escape(account.owner or "—")}</td>')
        tier, stage = escape(account.tier), escape(account.lifecycle_stage)
        cells.append(f'<td data-label="{label["segment"]}">{segments.get(account.segment, "")}</td>')
        cells.append(
            f'<td data-label="{label["tier"]}"><span class="tier tier-{tier}">'
            f"{tiers.get(account.tier, tier)}</span></td>"
        )
        cells.append(
            f'<td data-label="{label["stage"]}"><span class="stage stage-{stage}">'
            f"{stages.get(account.lifecycle_stage, stage)}</span></td>"
        )
        cells.append(
            f'<td data-label="{label["score"]}" class="num score-cell">'
            f"{dash if score is None else escape(score)}</td>"
        )
        if grade:
            chip = grades.get(grade) or f'<span class="grade grade-{escape(grade)}">{escape(grade)}</span>'
        else:
            chip = no_data
        cells.append(f'<td data-label="{label["grade"]}">{chip}</td>')
        if change is None:
            trend = dash
        else:
            direction = " up" if change > 0 else " down" if change < 0 else ""
            trend = f'<span class="change{direction}">{"+" if change > 0 else ""}{escape(change)}</span>'
        cells.append(f'<td data-label="{label["trend"]}" class="num">{trend}</td>')
        mrr = formats.number_format(account.mrr, decimal_pos=0, use_l10n=True, force_grouping=True)
        cells.append(f'<td data-label="{label["mrr"]}" class="num"><span>{escape(mrr)}{money}</span></td>')
        if account.renewal_date:
            renewal = (
                f'<time datetime="{account.renewal_date.isoformat()}">'
                f"{escape(formats.date_format(account.renewal_date, 'M j, Y'))}</time>"
            )
        else:
            renewal = "—"
        cells.append(f'<td data-label="{label["renewal"]}">{renewal}</td>')
        if account.last_touch_at:
            touch = (
                f'<time datetime="{account.last_touch_at.isoformat()}">'
                f"{escape(touched_ago(account.last_touch_at, today))}</time>"
            )
        else:
            touch = never
        cells.append(f'<td data-label="{label["touch"]}">{touch}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return mark_safe("\n".join(rows))  # noqa: S308 (every value above is escaped)


def timeline_entries_html(entries: Iterable) -> SafeString:
    """An account timeline's entries (accounts.selectors.TimelineEntry) as the <li> items the
    account 360 shows, built here rather than by the template engine: the same HTML as the
    template gave, dates in the current language and time zone, every text escaped."""
    week_of = escape(_("week of"))
    parts = []
    for entry in entries:
        when = timezone.localtime(entry.occurred_at)
        if entry.kind == "usage":
            shown = f"{week_of} {escape(formats.date_format(when, 'M j, Y'))}"
        else:
            shown = escape(formats.date_format(when, "M j, Y, H:i"))
        body = ""
        if entry.body:
            body = f'\n            <p class="tl-text">{linebreaksbr(entry.body, autoescape=True)}</p>'
        actor = ""
        if entry.actor:
            by = _("by %(who)s") % {"who": escape(entry.actor)}
            actor = f'\n            <p class="muted small">{by}</p>'
        parts.append(
            f'\n        <li class="tl-item tl-{escape(entry.kind)}">\n'
            f'          <span class="tl-icon icon-{escape(entry.icon)}" aria-hidden="true"></span>\n'
            f'          <div class="tl-body">\n'
            f'            <p class="tl-title"><strong>{escape(entry.title)}</strong> '
            f'<time datetime="{escape(formats.date_format(when, "c"))}" class="muted">{shown}</time></p>'
            f"{body}{actor}\n"
            f"          </div>\n"
            f"        </li>"
        )
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


def mrr_chart_html(bars: list[dict], *, currency: str) -> dict[str, SafeString]:
    """The account 360's MRR chart, built here rather than by the template engine (twelve bars,
    each with its month and amounts formatted three times): its bars (SVG rects with a title),
    the first and last month under them and the rows of its table. The same HTML and numbers
    as the template's ``date:"M Y"`` and ``floatformat:"0g"``."""
    rects, rows = [], []
    money = escape(currency)
    for bar in bars:
        month = escape(formats.date_format(bar["month"].month, "M Y"))
        mrr = escape(floatformat(bar["month"].mrr, "0g"))
        change = escape(floatformat(bar["month"].change, "0g")) if bar["month"].change else "—"
        current = " current" if bar["last"] else ""
        rects.append(
            f'<rect x="{bar["x"]}" y="{bar["y"]}" width="16" height="{bar["height"]}" class="bar{current}">'
            f"<title>{month}: {mrr} {money}</title></rect>"
        )
        rows.append(f'<tr><td>{month}</td><td class="num">{mrr}</td><td class="num">{change}</td></tr>')
    first = escape(formats.date_format(bars[0]["month"].month, "M Y")) if bars else ""
    last = escape(formats.date_format(bars[-1]["month"].month, "M Y")) if bars else ""
    parts = {"rects": "".join(rects), "rows": "".join(rows), "first": first, "last": last}
    return {key: mark_safe(text) for key, text in parts.items()}  # noqa: S308 - escaped above


def sort_headers_html(headers: list[dict]) -> SafeString:
    """The portfolio table's column headings (accounts.views._sort_headers), each a link that
    sorts by it, with its aria-sort state and arrow: as the template wrote them."""
    arrows = {
        "ascending": ' <span aria-hidden="true">▲</span>',
        "descending": ' <span aria-hidden="true">▼</span>',
    }
    cells = []
    for header in headers:
        numeric = ' class="num"' if header["numeric"] else ""
        href = escape(header["href"])
        state = escape(header["aria_sort"])
        cells.append(
            f'<th scope="col"{numeric} aria-sort="{state}"><a href="{href}" hx-get="{href}">'
            f"{escape(header['label'])}{arrows.get(header['aria_sort'], '')}</a></th>"
        )
    return mark_safe("".join(cells))  # noqa: S308 - every interpolated text is escaped above


def filter_selects_html(selects: list[dict]) -> SafeString:
    """The portfolio's filter selects (accounts.forms.PortfolioFilterForm.select_fields, whose
    options are already HTML), each with its label and errors: as the template wrote them."""
    parts = []
    for select in selects:
        errors = select["errors"]
        ident = escape(select["id"])
        invalid = f' aria-invalid="true" aria-describedby="{ident}_error"' if errors else ""
        messages = "".join(
            f'<small class="error" id="{ident}_error" role="alert">{escape(error)}</small>'
            for error in errors
        )
        parts.append(
            f'\n  <div class="field{" has-error" if errors else ""}">\n'
            f'    <label for="{ident}">{escape(select["label"])}</label>\n'
            f'    <select name="{escape(select["name"])}" id="{ident}"{invalid}>'
            f"{select['options']}</select>\n"
            f"    {messages}\n"
            f"  </div>\n  "
        )
    return mark_safe("".join(parts))  # noqa: S308 - every text is escaped; the options are SafeString
