"""Tier history on the account timeline (registered with accounts.selectors.timeline_source).

Points have their own ledger page; one source keeps the account 360 within its query budget."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.models import Account, Tier
from accounts.selectors import Cursor, TimelineEntry, _before, timeline_rows, timeline_source

from .models import TierChange


def _change_rows(account_id: int, cursor: Cursor | None, limit: int) -> QuerySet[TierChange]:
    rows = TierChange.objects.filter(account_id=account_id).filter(
        _before(cursor, "tier", "changed_at", "id")
    )
    return rows.order_by("-changed_at", "-id")[:limit]


@timeline_source("tier")
def tier_changes(account: Account, cursor: Cursor | None, limit: int) -> Iterable[TimelineEntry]:
    labels = dict(Tier.choices)
    for change in timeline_rows(_change_rows, account=account, cursor=cursor, limit=limit):
        yield TimelineEntry(
            kind="tier",
            occurred_at=change.changed_at,
            key=change.pk,
            title=_("Tier: %(old)s → %(new)s")
            % {"old": labels[change.from_tier], "new": labels[change.to_tier]},
            body=change.reason,
            icon="tier",
        )
