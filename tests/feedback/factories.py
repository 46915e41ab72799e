"""Builders for survey tests: campaigns through the services, invitations in a chosen state."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from feedback.models import (
    Campaign,
    CampaignRound,
    CampaignStatus,
    Invitation,
    InvitationStatus,
    Response,
    RoundStatus,
    Survey,
    band_for,
)
from feedback.services_outbox import new_token

STANDARD = {
    "nps": "Net Promoter Score (NPS)",
    "csat": "Customer satisfaction (CSAT)",
    "ces": "Customer effort (CES)",
}


def survey(kind: str = "nps") -> Survey:
    """The standard survey of a kind (the data migration's; made again after a flushed test)."""
    found, _created = Survey.objects.get_or_create(name=STANDARD[kind], defaults={"kind": kind})
    return found


def campaign(
    *, by, kind: str = "nps", status: str = CampaignStatus.ACTIVE, name: str = "Campaign", **fields
) -> Campaign:
    fields.setdefault("send_at", timezone.now())
    return Campaign.objects.create(name=name, survey=survey(kind), created_by=by, status=status, **fields)


def round_of(campaign_obj: Campaign, number: int = 1, status: str = RoundStatus.SENDING) -> CampaignRound:
    rnd, _created = CampaignRound.objects.get_or_create(
        campaign=campaign_obj,
        number=number,
        defaults={"scheduled_at": timezone.now(), "status": status, "started_at": timezone.now()},
    )
    return rnd


def invitation(
    *,
    contact,
    campaign_obj: Campaign,
    number: int = 1,
    status: str = InvitationStatus.SENT,
    sent_at: dt.datetime | None = None,
    **fields,
) -> Invitation:
    rnd = round_of(campaign_obj, number)
    sent = status == InvitationStatus.SENT
    return Invitation.objects.create(
        campaign=campaign_obj,
        round=rnd,
        contact=contact,
        account=contact.account,
        email=contact.email.lower(),
        language=contact.language,
        token=new_token(),
        status=status,
        sent_at=(sent_at or timezone.now()) if sent else None,
        message_id=f"<test{contact.pk}.{number}@example>" if sent else "",
        **fields,
    )


def response(
    *, invitation_obj: Invitation, score: int | None, answered_at: dt.datetime | None = None, **fields
) -> Response:
    """An answer stored directly (for metric tests that need answers at chosen times)."""
    kind = invitation_obj.campaign.survey.kind
    return Response.objects.create(
        invitation=invitation_obj,
        campaign=invitation_obj.campaign,
        round=invitation_obj.round,
        survey=invitation_obj.campaign.survey,
        account=invitation_obj.account,
        contact=invitation_obj.contact,
        kind=kind,
        score=score,
        band=band_for(kind, score),
        answered_at=answered_at or timezone.now(),
        updated_at=answered_at or timezone.now(),
        **fields,
    )
