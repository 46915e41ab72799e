"""Milestones reached, on the account timeline (registered with accounts.selectors.timeline_source)."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from accounts.models import Account
from accounts.selectors import Cursor, TimelineEntry, timeline_source

from .selectors import STASH, account_plan_rows


@timeline_source("milestone")
def milestones_reached(account: Account, cursor: Cursor | None, limit: int) -> Iterable[TimelineEntry]:
    """One query: the plan with all its milestones (at most a hundred), so the account 360's
    onboarding card, rendered next, reuses it (the first page leaves it on the account object)."""
    plan, milestones = account_plan_rows(account=account)
    if cursor is None:
        setattr(account, STASH, (plan, milestones))
    done = sorted(
        (m for m in milestones if m.done_at is not None), key=lambda m: (m.done_at, m.pk), reverse=True
    )
    entries = []
    for milestone in done:
        key = (milestone.done_at, "milestone", milestone.pk)
        if cursor is not None and key >= cursor:
            continue
        notes = []
        if milestone.delivers_value:
            notes.append(_("Delivers value."))
        if milestone.done_on and milestone.done_on > milestone.due_date:
            notes.append(
                _("%(days)s days after its due date.")
                % {"days": (milestone.done_on - milestone.due_date).days}
            )
        entries.append(
            TimelineEntry(
                kind="milestone",
                occurred_at=milestone.done_at,
                key=milestone.pk,
                title=_("Milestone reached: %(name)s") % {"name": milestone.name},
                body=" ".join(str(note) for note in notes),
                icon="milestone-value" if milestone.delivers_value else "milestone",
                actor=milestone.actor,
                extra={"delivers_value": milestone.delivers_value},
            )
        )
        if len(entries) >= limit:
            break
    return entries
