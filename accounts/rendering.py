"""HTML for the portfolio's rows, built in Python like the Django admin's change list
(admin_list.items_for_result): the template engine costs about a millisecond a row, this a
few microseconds. Every value goes through format_html, so it is escaped exactly as in a
template."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import Account, LifecycleStage, Segment, Tier

MUTED_DASH = mark_safe('<span class="muted">—</span>')


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
    labels = {
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
    }
    segments, tiers, stages = dict(Segment.choices), dict(Tier.choices), dict(LifecycleStage.choices)
    grades = {"green": _("Green"), "yellow": _("Yellow"), "red": _("Red")}
    no_data = format_html('<span class="muted">{}</span>', _("no data"))
    never = format_html('<span class="muted">{}</span>', _("never"))
    rows = []
    for account in accounts:
        health = getattr(account, "health", None)
        score = getattr(health, "score", None)
        grade = getattr(health, "grade", "") or ""
        change = getattr(health, "change_7d", None)
        cells = [
            format_html(
                '<td data-label="{}"><a href="/accounts/{}/"><strong>{}</strong></a><br>'
                '<small class="muted">{}</small></td>',
                labels["account"],
                account.pk,
                account.name,
                account.domain,
            )
        ]
        if shows_owner:
            cells.append(format_html('<td data-label="{}">{}</td>', labels["owner"], account.owner or "—"))
        cells.append(
            format_html('<td data-label="{}">{}</td>', labels["segment"], segments.get(account.segment, ""))
        )
        cells.append(
            format_html(
                '<td data-label="{}"><span class="tier tier-{}">{}</span></td>',
                labels["tier"],
                account.tier,
                tiers.get(account.tier, account.tier),
            )
        )
        cells.append(
            format_html(
                '<td data-label="{}"><span class="stage stage-{}">{}</span></td>',
                labels["stage"],
                account.lifecycle_stage,
                stages.get(account.lifecycle_stage, account.lifecycle_stage),
            )
        )
        cells.append(
            format_html(
                '<td data-label="{}" class="num score-cell">{}</td>',
                labels["score"],
                score if score is not None else MUTED_DASH,
            )
        )
        cells.append(
            format_html(
                '<td data-label="{}">{}</td>',
                labels["grade"],
                format_html('<span class="grade grade-{}">{}</span>', grade, grades.get(grade, grade))
                if grade
                else no_data,
            )
        )
        if change is None:
            trend = MUTED_DASH
        else:
            trend = format_html(
                '<span class="change{}">{}{}</span>',
                " up" if change > 0 else " down" if change < 0 else "",
                "+" if change > 0 else "",
                change,
            )
        cells.append(format_html('<td data-label="{}" class="num">{}</td>', labels["trend"], trend))
        cells.append(
            format_html(
                '<td data-label="{}" class="num"><span>{} <small class="muted">{}</small></span></td>',
                labels["mrr"],
                formats.number_format(account.mrr, decimal_pos=0, use_l10n=True, force_grouping=True),
                currency,
            )
        )
        if account.renewal_date:
            renewal = format_html(
                '<time datetime="{}">{}</time>',
                account.renewal_date.isoformat(),
                formats.date_format(account.renewal_date, "M j, Y"),
            )
        else:
            renewal = "—"
        cells.append(format_html('<td data-label="{}">{}</td>', labels["renewal"], renewal))
        if account.last_touch_at:
            touch = format_html(
                '<time datetime="{}">{}</time>',
                account.last_touch_at.isoformat(),
                touched_ago(account.last_touch_at, today),
            )
        else:
            touch = never
        cells.append(format_html('<td data-label="{}">{}</td>', labels["touch"], touch))
        rows.append(cells)
    return format_html_join("\n", "<tr>{}</tr>", ((mark_safe("".join(cells)),) for cells in rows))  # noqa: S308
