"""Survey answers on the account timeline (registered with accounts.selectors.timeline_source)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.models import Account
from accounts.selectors import Cursor, TimelineEntry, _before, timeline_rows, timeline_source

from .models import Response


def _answer_rows(account_id: int, cursor: Cursor | None, limit: int) -> QuerySet[Response]:
    return (
        Response.objects.filter(account_id=account_id)
        .filter(_before(cursor, "survey", "answered_at", "id"))
        .select_related("contact", "campaign")
        .order_by("-answered_at", "-id")[:limit]
    )


@timeline_source("survey")
def survey_answers(account: Account, cursor: Cursor | None, limit: int) -> Iterable[TimelineEntry]:
    rows = timeline_rows(_answer_rows, account=account, cursor=cursor, limit=limit)
    for response in rows:
        if response.score is None:
            title = _("Survey answered · %(contact)s") % {"contact": response.contact.name}
        else:
            title = _("%(kind)s %(score)s (%(band)s) · %(contact)s") % {
                "kind": response.kind.upper(),
                "score": response.score,
                "band": response.get_band_display(),
                "contact": response.contact.name,
            }
        body = "\n".join(text for text in (response.follow_up, response.comment) if text)
        yield TimelineEntry(
            kind="survey",
            occurred_at=response.answered_at,
            key=response.pk,
            title=title,
            body=body,
            icon=f"survey-{response.band or 'answered'}",
            extra={"campaign": response.campaign.name, "band": response.band},
        )
