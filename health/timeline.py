"""Alerts on the account timeline (registered with accounts.selectors.timeline_source)."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from accounts.models import Account
from accounts.selectors import Cursor, TimelineEntry, _before, timeline_source

from .models import Alert, AlertStatus


@timeline_source("alert")
def alerts(account: Account, cursor: Cursor | None, limit: int) -> Iterable[TimelineEntry]:
    rows = (
        Alert.objects.filter(account=account)
        .filter(_before(cursor, "alert", "opened_at", "id"))
        .select_related("rule", "resolved_by")
        .order_by("-opened_at", "-id")[:limit]
    )
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
