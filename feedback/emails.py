"""The survey email: rendered in the contact's language, with a plain-text and an HTML part, the
scale as one-click links, and one-click unsubscribe (RFC 8058)."""

from __future__ import annotations

import os
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from . import texts
from .models import Invitation, Survey


def base_url() -> str:
    """Where the public pages live, for links in emails (CS_BASE_URL; the local run by default)."""
    configured = getattr(settings, "CS_BASE_URL", "") or os.environ.get("CS_BASE_URL", "")
    return (configured or "http://127.0.0.1:8000").rstrip("/")


def answer_url(token: str, score: int | None = None) -> str:
    url = base_url() + reverse("feedback_public:answer", args=[token])
    return url if score is None else f"{url}?score={score}"


def unsubscribe_url(token: str) -> str:
    return base_url() + reverse("feedback_public:unsubscribe", args=[token])


def scale_points(survey: Survey) -> list[dict]:
    """The score links of the email and the buttons of the page: value and label of each point."""
    if not survey.asks_score:
        return []
    low, high = survey.scale
    labels = texts.POINT_LABELS.get(survey.kind, {})
    return [{"value": n, "label": str(labels.get(n, n)), "named": n in labels} for n in range(low, high + 1)]


def new_message_id(invitation_id: int) -> str:
    return make_msgid(idstring=f"survey{invitation_id}", domain=str(DNS_NAME))


def build_message(
    invitation: Invitation, survey: Survey, *, reminder: bool = False
) -> EmailMultiAlternatives:
    """The email for one invitation (``invitation.contact`` loaded), in the invitation's language."""
    language = invitation.language if invitation.language in dict(settings.LANGUAGES) else "en"
    with translation.override(language):
        context = {
            "survey": survey,
            "question": survey.question_text(language),
            "points": [{**p, "url": answer_url(invitation.token, p["value"])} for p in scale_points(survey)],
            "low_label": survey.low_label(),
            "high_label": survey.high_label(),
            "answer_url": answer_url(invitation.token),
            "unsubscribe_url": unsubscribe_url(invitation.token),
            "name": invitation.contact.name.split(" ")[0] if invitation.contact.name else "",
            "reminder": reminder,
            "kind": survey.kind,
            "language": language,
        }
        subject = str((texts.REMINDER_SUBJECT if reminder else texts.SUBJECT)[survey.kind])
        text = render_to_string("feedback/email/invitation.txt", context)
        html = render_to_string("feedback/email/invitation.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[invitation.email],
        headers={
            "Message-ID": new_message_id(invitation.pk),
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            "Content-Language": language,
        },
    )
    message.attach_alternative(html, "text/html")
    return message
