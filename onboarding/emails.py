"""The celebration email: a short congratulation to a contact when a milestone is reached,
rendered in the contact's language (English, Turkish or Traditional Chinese), plain text and HTML,
with a link to the shared plan when the plan has an active link."""

from __future__ import annotations

import os
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import Celebration, Milestone, MilestoneStatus, ShareLink


def base_url() -> str:
    """Where the public pages live, for links in emails (CS_BASE_URL; the local run by default)."""
    configured = getattr(settings, "CS_BASE_URL", "") or os.environ.get("CS_BASE_URL", "")
    return (configured or "http://127.0.0.1:8000").rstrip("/")


def shared_plan_url(link: ShareLink) -> str:
    from .services import share_link_token

    return base_url() + reverse("onboarding:shared", args=[share_link_token(link)])


def celebration_context(milestone: Milestone) -> dict[str, Any]:
    """What every contact's email says (``milestone.plan.account`` loaded): three queries."""
    from .selectors import plan_summary

    plan = milestone.plan
    summary = plan_summary(plan=plan, today=timezone.localdate())
    next_up = (
        plan.milestones.exclude(status=MilestoneStatus.DONE).order_by("due_date", "position", "pk").first()
    )
    link = plan.share_links.filter(revoked_at__isnull=True).first()
    return {
        "account": plan.account,
        "plan": plan,
        "milestone": milestone,
        "summary": summary,
        "next_up": next_up,
        "shared_url": shared_plan_url(link) if link else "",
    }


def celebration_message(*, celebration: Celebration, context: dict[str, Any]) -> EmailMultiAlternatives:
    language = celebration.language if celebration.language in dict(settings.LANGUAGES) else "en"
    contact = celebration.contact
    with translation.override(language):
        ctx = {
            **context,
            "name": (contact.name.split(" ")[0] if contact and contact.name else ""),
            "language": language,
        }
        subject = _("Milestone reached: %(milestone)s") % {"milestone": context["milestone"].name}
        text = render_to_string("onboarding/email/celebration.txt", ctx)
        html = render_to_string("onboarding/email/celebration.html", ctx)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[celebration.email],
        headers={
            "Message-ID": make_msgid(idstring=f"milestone{celebration.milestone_id}", domain=str(DNS_NAME)),
            "Auto-Submitted": "auto-generated",
            "Content-Language": language,
        },
    )
    message.attach_alternative(html, "text/html")
    return message
