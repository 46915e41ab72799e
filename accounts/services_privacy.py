"""Data rights of a customer contact: export everything stored about them, and erase them.

Erasure anonymises rather than deletes: the contact row stays (as "Erased contact" with an
address that can never receive mail) so that every count and figure built on it stays the
same: survey answers keep their scores (NPS, CSAT, CES and response counts do not move), points
stay on the account's ledger, referrals and asks keep their status. What is removed is what
identifies or was written by the person: their name and email wherever they were copied
(invitations, suppressions, celebration emails, referrals that name them), their comments and
free-text answers, their words in advocacy notes, their address in usage-event properties and
touchpoint summaries. Their survey links, rewards pages and onboarding share links stop working.

Only managers and admins export or erase (a CSM asks one): both are audited, and the audit
entry names the contact by id only, never by name or email.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import audit_record

from .models import Contact, Touchpoint, UsageEvent

ERASED_NAME = "Erased contact"
ERASED_DOMAIN = "erased.invalid"  # .invalid never resolves (RFC 2606): no mail can go there
REDACTED = "[erased]"


def erased_email(contact_id: int) -> str:
    return f"erased-{contact_id}@{ERASED_DOMAIN}"


def contact_is_erased(contact: Contact) -> bool:
    return contact.email.lower().endswith("@" + ERASED_DOMAIN)


def _require_manager(by) -> None:
    if not getattr(by, "sees_all_accounts", False):
        raise PermissionDenied(_("Only managers and admins export or erase a contact's personal data."))


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _usage_mentioning(contact: Contact):
    """Usage events tied to the contact, or of their account whose properties contain their email."""
    email = contact.email.lower()
    return UsageEvent.objects.annotate(_props=Cast("properties", TextField())).filter(
        Q(contact=contact) | Q(account_id=contact.account_id, _props__icontains=email)
    )


def _touchpoints_naming(contact: Contact):
    naming = Q(contact=contact) | Q(summary__icontains=contact.email)
    if len(contact.name.strip()) >= 3:
        naming |= Q(summary__icontains=contact.name.strip())
    return Touchpoint.objects.filter(naming, account_id=contact.account_id)


def _invitations_of(contact: Contact):
    from feedback.models import Invitation

    return Invitation.objects.filter(
        Q(contact=contact) | Q(account_id=contact.account_id, email__iexact=contact.email)
    )


def _celebrations_of(contact: Contact):
    from onboarding.models import Celebration

    return Celebration.objects.filter(
        Q(contact=contact) | Q(milestone__plan__account_id=contact.account_id, email__iexact=contact.email)
    )


# ---------------------------------------------------------------------------- export


def contact_data_export(*, contact: Contact, by) -> dict[str, Any]:
    """Everything stored about the contact, as JSON-ready data (for an access or portability
    request). Reads only; audited."""
    from feedback.models import Answer, FollowUp, Response, Suppression
    from loyalty.models import AdvocacyAsk, LedgerEntry, MemberLink, Redemption, Referral
    from onboarding.models import ShareLink

    _require_manager(by)
    email = contact.email.lower()
    invitations = _invitations_of(contact).select_related("campaign")
    responses = Response.objects.filter(contact=contact).select_related("survey").order_by("answered_at")
    answers = Answer.objects.filter(response__in=responses).select_related("question").order_by("id")
    answers_by_response: dict[int, list] = {}
    for answer in answers:
        answers_by_response.setdefault(answer.response_id, []).append(
            {"question": str(answer.question), "rating": answer.rating, "text": answer.text}
        )
    data = {
        "generated_at": timezone.now().isoformat(),
        "contact": {
            "id": contact.pk,
            "account": {"id": contact.account_id, "name": contact.account.name},
            "name": contact.name,
            "email": contact.email,
            "role": contact.role,
            "language": contact.language,
            "accepts_surveys": contact.accepts_surveys,
            "created_at": _iso(contact.created_at),
            "erased": contact_is_erased(contact),
        },
        "survey_invitations": [
            {
                "id": i.pk,
                "campaign": i.campaign.name,
                "email": i.email,
                "language": i.language,
                "status": i.status,
                "sent_at": _iso(i.sent_at),
                "opened_at": _iso(i.opened_at),
                "reminded_at": _iso(i.reminded_at),
            }
            for i in invitations.order_by("created_at", "id")
        ],
        "survey_responses": [
            {
                "id": r.pk,
                "survey": r.survey.name,
                "kind": r.kind,
                "score": r.score,
                "comment": r.comment,
                "follow_up": r.follow_up,
                "language": r.language,
                "answered_at": _iso(r.answered_at),
                "answers": answers_by_response.get(r.pk, []),
            }
            for r in responses
        ],
        "follow_ups": [
            {
                "id": f.pk,
                "response": f.response_id,
                "outcome": f.outcome,
                "note": f.note,
                "closed_at": _iso(f.closed_at),
            }
            for f in FollowUp.objects.filter(response__contact=contact).order_by("id")
        ],
        "suppressions": [
            {"email": s.email, "reason": s.reason, "detail": s.detail, "created_at": _iso(s.created_at)}
            for s in Suppression.objects.filter(email__iexact=email)
        ],
        "touchpoints": [
            {"id": t.pk, "kind": t.kind, "occurred_at": _iso(t.occurred_at), "summary": t.summary}
            for t in _touchpoints_naming(contact).order_by("occurred_at", "id")
        ],
        "usage_events": [
            {"id": e.pk, "name": e.name, "occurred_at": _iso(e.occurred_at), "properties": e.properties}
            for e in _usage_mentioning(contact).order_by("occurred_at", "id")
        ],
        "loyalty": {
            "ledger_entries": [
                {
                    "id": e.pk,
                    "kind": e.kind,
                    "points": e.points,
                    "reason": e.reason,
                    "created_at": _iso(e.created_at),
                }
                for e in LedgerEntry.objects.filter(contact=contact).order_by("id")
            ],
            "redemptions": [
                {
                    "id": r.pk,
                    "reward": r.reward.name,
                    "points": r.points,
                    "status": r.status,
                    "requested_at": _iso(r.requested_at),
                    "fulfilment_notes": r.fulfilment_notes,
                }
                for r in Redemption.objects.filter(contact=contact).select_related("reward").order_by("id")
            ],
            "links": [
                {"kind": m.kind, "active": m.is_active, "created_at": _iso(m.created_at)}
                for m in MemberLink.objects.filter(contact=contact).order_by("id")
            ],
            "referrals_made": [
                {
                    "id": r.pk,
                    "company": r.company_name,
                    "status": r.status,
                    "note": r.note,
                    "submitted_at": _iso(r.submitted_at),
                    "submitted_ip": r.submitted_ip,
                }
                for r in Referral.objects.filter(referrer_contact=contact).order_by("id")
            ],
            "referred_as": [
                {
                    "id": r.pk,
                    "company": r.company_name,
                    "name": r.contact_name,
                    "email": r.contact_email,
                    "status": r.status,
                    "submitted_at": _iso(r.submitted_at),
                }
                for r in Referral.objects.filter(contact_email__iexact=email).order_by("id")
            ],
            "advocacy_asks": [
                {"id": a.pk, "kind": a.kind, "status": a.status, "notes": a.notes, "link": a.link}
                for a in AdvocacyAsk.objects.filter(contact=contact).order_by("id")
            ],
        },
        "onboarding": {
            "share_links": [
                {
                    "id": s.pk,
                    "created_at": _iso(s.created_at),
                    "revoked_at": _iso(s.revoked_at),
                    "views": s.views,
                }
                for s in ShareLink.objects.filter(contact=contact).order_by("id")
            ],
            "celebration_emails": [
                {
                    "milestone": c.milestone_id,
                    "email": c.email,
                    "status": c.status,
                    "sent_at": _iso(c.sent_at),
                }
                for c in _celebrations_of(contact).order_by("id")
            ],
        },
    }
    audit_record(
        actor=by,
        action=AuditAction.CONTACT_EXPORT,
        target_type="accounts.contact",
        target_id=contact.pk,
        target_label=f"contact #{contact.pk}",
        details={"account_id": contact.account_id},
    )
    return data


# ---------------------------------------------------------------------------- erasure


@dataclass
class ErasureReport:
    contact_id: int
    changed: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"contact": self.contact_id, "changed": self.changed}


def _redact(text: str, needles: list[str]) -> str:
    for needle in needles:
        if needle:
            text = re.sub(re.escape(needle), REDACTED, text, flags=re.IGNORECASE)
    return text


def _scrub(value: Any, email: str) -> Any:
    if isinstance(value, str):
        return _redact(value, [email])
    if isinstance(value, list):
        return [_scrub(v, email) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, email) for k, v in value.items()}
    return value


@transaction.atomic
def contact_erase(*, contact: Contact, by, reason: str = "") -> ErasureReport:
    """Remove the contact's personal data everywhere, keeping every row that a count or figure
    is built on. Safe to run twice (the second run finds nothing left to change)."""
    from cs_app.public_tokens import token_digest
    from feedback.models import Answer, FollowUp, Invitation, Response, Suppression
    from feedback.services_outbox import new_token
    from loyalty.models import AdvocacyAsk, MemberLink, Redemption, Referral
    from onboarding.models import ShareLink

    _require_manager(by)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    email, name = contact.email.lower(), contact.name.strip()
    placeholder = erased_email(contact.pk)
    report = ErasureReport(contact_id=contact.pk)
    changed = report.changed
    now = timezone.now()

    # Copies of the address, and the links that open the person's pages.
    invitations = _invitations_of(contact)
    changed["survey_invitations"] = 0
    for invitation in invitations.exclude(email=placeholder).only("pk"):  # each its own new token
        token = new_token()
        Invitation.objects.filter(pk=invitation.pk).update(
            email=placeholder, token=token, token_digest=token_digest(token), last_error=""
        )
        changed["survey_invitations"] += 1
    suppressions = Suppression.objects.filter(email__iexact=email).exclude(email=placeholder)
    if Suppression.objects.filter(email__iexact=placeholder).exists():  # an earlier erasure kept one
        changed["suppressions"] = suppressions.delete()[0]
    else:  # kept, anonymised: the count of unsubscribes stays
        changed["suppressions"] = suppressions.update(email=placeholder, detail="")
    changed["celebration_emails"] = (
        _celebrations_of(contact).exclude(email=placeholder).update(email=placeholder)
    )
    changed["share_links_revoked"] = ShareLink.objects.filter(
        contact=contact, revoked_at__isnull=True
    ).update(revoked_at=now, revoked_by=by)
    changed["loyalty_links_closed"] = MemberLink.objects.filter(contact=contact, is_active=True).update(
        is_active=False
    )

    # What they wrote. Scores, statuses and points stay: the figures do not move.
    responses = Response.objects.filter(contact=contact)
    changed["survey_responses"] = responses.exclude(comment="", follow_up="").update(comment="", follow_up="")
    changed["survey_answers"] = Answer.objects.filter(response__in=responses).exclude(text="").update(text="")
    changed["referrals_made"] = (
        Referral.objects.filter(referrer_contact=contact)
        .exclude(note="", submitted_ip__isnull=True)
        .update(note="", submitted_ip=None)
    )
    changed["referred_as"] = (
        Referral.objects.filter(contact_email__iexact=email)
        .exclude(contact_email=placeholder)
        .update(contact_email=placeholder, contact_name="", note="")
    )
    changed["advocacy_asks"] = (
        AdvocacyAsk.objects.filter(contact=contact).exclude(notes="", link="").update(notes="", link="")
    )
    changed["redemptions"] = (
        Redemption.objects.filter(contact=contact).exclude(fulfilment_notes="").update(fulfilment_notes="")
    )

    # Mentions in the account's records.
    needles = [email] + ([name] if len(name) >= 3 else [])
    changed["touchpoints"] = 0
    for touchpoint in _touchpoints_naming(contact).only("pk", "summary"):
        redacted = _redact(touchpoint.summary, needles)
        if redacted != touchpoint.summary:
            Touchpoint.objects.filter(pk=touchpoint.pk).update(summary=redacted)
            changed["touchpoints"] += 1
    changed["follow_up_notes"] = 0
    for follow_up in FollowUp.objects.filter(response__contact=contact).exclude(note="").only("pk", "note"):
        redacted = _redact(follow_up.note, needles)
        if redacted != follow_up.note:
            FollowUp.objects.filter(pk=follow_up.pk).update(note=redacted)
            changed["follow_up_notes"] += 1
    changed["usage_events"] = 0
    for event in _usage_mentioning(contact).only("pk", "properties").iterator(chunk_size=2000):
        scrubbed = _scrub(event.properties, email)
        if scrubbed != event.properties:
            UsageEvent.objects.filter(pk=event.pk).update(properties=scrubbed)
            changed["usage_events"] += 1

    # The contact itself: kept (everything above still points at it), identifying nothing.
    changed["contact"] = (
        Contact.objects.filter(pk=contact.pk)
        .exclude(email=placeholder)
        .update(name=ERASED_NAME, email=placeholder, accepts_surveys=False)
    )
    contact.name, contact.email, contact.accepts_surveys = ERASED_NAME, placeholder, False

    audit_record(
        actor=by,
        action=AuditAction.CONTACT_ERASE,
        target_type="accounts.contact",
        target_id=contact.pk,
        target_label=f"contact #{contact.pk}",
        details={
            "account_id": contact.account_id,
            "changed": changed,
            "reason": (reason or "").strip()[:500],
        },
    )
    return report
