"""Alerts on the account timeline (registered with accounts.selectors.timeline_source)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import Account
from accounts.selectors import Cursor, TimelineEntry, _before, timeline_rows, timeline_source

from .models import Alert, AlertStatus

OPEN_ALERTS_ATTR = "_health_open_alerts"  # the first page's open alerts, for the health card


def _alert_rows(account_id: int, cursor: Cursor | None, limit: int) -> QuerySet[Alert]:
    qs = Alert.objects.filter(account_id=account_id).select_related("rule", "resolved_by")
    if cursor is None:
        # The first page also brings the open alerts the account page lists beside the timeline:
        # one query for both (the newest entries, and every alert not resolved).
        newest = (
            Alert.objects.filter(account_id=account_id).order_by("-opened_at", "-id").values("pk")[:limit]
        )
        return qs.filter(Q(pk__in=newest) | ~Q(status=AlertStatus.RESOLVED)).order_by("-opened_at", "-id")
    return qs.filter(_before(cursor, "alert", "opened_at", "id")).order_by("-opened_at", "-id")[:limit]


@timeline_source("alert")
def alerts(account: Account, cursor: Cursor | None, limit: int) -> Iterable[TimelineEntry]:
    found = timeline_rows(_alert_rows, account=account, cursor=cursor, limit=limit)
    if cursor is None:
        setattr(account, OPEN_ALERTS_ATTR, [a for a in found if a.status != AlertStatus.RESOLVED])
    rows = found[:limit]
    for alert in rows:
        if alert.status == AlertStatus.RESOLVED:
            state = _("resolved: %(outcome)s") % {"outcome": alert.get_outcome_display()}
        elif alert.status == AlertStatus.SNOOZED:
            state = _("snoozed until %(day)s") % {"day": alert.snoozed_until.isoformat()}
        else:
            state = _("open")
        yield TimelineEntry(
            kind="alert",
            occurred_at=alert.opened_at,
            key=alert.pk,
            title=_("Alert: %(rule)s (%(state)s)") % {"rule": alert.rule.name, "state": state},
            body=alert.details + (f"\n{alert.outcome_note}" if alert.outcome_note else ""),
            icon="alert-opportunity" if alert.rule.is_opportunity else f"alert-{alert.severity}",
            actor=str(alert.resolved_by) if alert.resolved_by else "",
        )
