"""The survey email: rendered in the contact's language, with a plain-text and an HTML part, the
scale as one-click links, and one-click unsubscribe (RFC 8058)."""

from __future__ import annotations

import os
import re
from email.utils import formatdate, make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

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


def build_message(invitation: Invitation, survey: Survey, *, reminder: bool = False) -> PreparedEmail:
    """The email for one invitation (``invitation.contact`` loaded), in the invitation's language."""
    return MessageRenderer(survey, reminder=reminder).message(invitation)


def _first_name(invitation: Invitation) -> str:
    return invitation.contact.name.split(" ")[0] if invitation.contact.name else ""


class PreparedEmail(EmailMultiAlternatives):
    """An email that may carry its wire form already assembled (``wire``): the mailer sends those
    bytes instead of serialising the message again. The message itself stays complete, so any
    other backend sends it the usual way."""

    wire: bytes | None = None

    def wire_bytes(self) -> bytes:
        if self.wire is not None:
            return self.wire
        return self.message().as_bytes(linesep="\r\n")


_TOKEN_OK = re.compile(r"[A-Za-z0-9_-]{32}")
_ADDRESS_OK = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~@-]{3,254}")


class MessageRenderer:
    """Renders a chunk's emails for one survey.

    The templates run once per language (and with or without a greeting name), with
    placeholders where the invitation's token and the contact's first name go, and that message
    is serialised once (MIME, headers folded). Each email then fills the placeholders in, in
    the text and in the bytes (the name HTML-escaped in the HTML part), which is what rendering
    and serialising it on its own would give, for a fraction of the cost. Anything that would
    not survive plain substitution (a part that needs quoted-printable, an address or a name
    that needs encoding, an unusual token) takes the ordinary path.
    """

    TOKEN = "cstokenplaceholder0x5eed00000000"  # noqa: S105 — not a secret: as long as a real token
    NAME = "csnameplaceholder0x5eed"
    NAME_HTML = "csnamehtmlplaceholder0x5eed"
    TO = "csto@placeholder.invalid"
    MESSAGE_ID = "<csmessageid@placeholder.invalid>"
    DATE = "csdateplaceholder"

    def __init__(self, survey: Survey, *, reminder: bool = False):
        self.survey = survey
        self.reminder = reminder
        self._bodies: dict[tuple[str, bool], tuple[str, str, str]] = {}
        self._wires: dict[tuple[str, bool], bytes | None] = {}

    def _render(self, language: str, named: bool) -> tuple[str, str, str]:
        survey, token = self.survey, self.TOKEN
        with translation.override(language):
            context = {
                "survey": survey,
                "question": survey.question_text(language),
                "points": [{**p, "url": answer_url(token, p["value"])} for p in scale_points(survey)],
                "low_label": survey.low_label(),
                "high_label": survey.high_label(),
                "answer_url": answer_url(token),
                "unsubscribe_url": unsubscribe_url(token),
                "name": self.NAME if named else "",
                "reminder": self.reminder,
                "kind": survey.kind,
                "language": language,
            }
            subject = str((texts.REMINDER_SUBJECT if self.reminder else texts.SUBJECT)[survey.kind])
            text = render_to_string("feedback/email/invitation.txt", context)
            if named:
                context["name"] = self.NAME_HTML
            html = render_to_string("feedback/email/invitation.html", context)
        return subject, text, html

    def _email(self, *, subject, text, html, to, message_id, token, language, date=None) -> PreparedEmail:
        headers = {
            "Message-ID": message_id,
            "List-Unsubscribe": f"<{unsubscribe_url(token)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            "Content-Language": language,
        }
        if date:
            headers = {"Date": date, **headers}
        message = PreparedEmail(subject=subject, body=text, to=[to], headers=headers)
        message.attach_alternative(html, "text/html")
        return message

    def _wire(self, key: tuple[str, bool]) -> bytes | None:
        """The serialised message with placeholders, or None when substitution would be unsafe."""
        if key not in self._wires:
            subject, text, html = self._bodies[key]
            sample = self._email(
                subject=subject,
                text=text,
                html=html,
                to=self.TO,
                message_id=self.MESSAGE_ID,
                token=self.TOKEN,
                language=key[0],
                date=self.DATE,
            )
            wire = sample.message().as_bytes(linesep="\r\n")
            tokens = text.count(self.TOKEN) + html.count(self.TOKEN) + 1  # and List-Unsubscribe
            safe = (
                wire.count(b"Content-Transfer-Encoding: 8bit")
                + wire.count(b"Content-Transfer-Encoding: 7bit")
                == 2
                and wire.count(self.TOKEN.encode()) == tokens
                and wire.count(self.NAME.encode()) == text.count(self.NAME)
                and wire.count(self.NAME_HTML.encode()) == html.count(self.NAME_HTML)
                and f"\r\nTo: {self.TO}\r\n".encode() in wire
                and f"\r\nMessage-ID: {self.MESSAGE_ID}\r\n".encode() in wire
                and f"\r\nDate: {self.DATE}\r\n".encode() in wire
            )
            self._wires[key] = wire if safe else None
        return self._wires[key]

    def message(self, invitation: Invitation) -> PreparedEmail:
        language = invitation.language if invitation.language in dict(settings.LANGUAGES) else "en"
        name = _first_name(invitation)
        key = (language, bool(name))
        if key not in self._bodies:
            self._bodies[key] = self._render(language, bool(name))
        subject, text, html = self._bodies[key]
        token = invitation.token
        html_name = escape(name)
        message = self._email(
            subject=subject,
            text=text.replace(self.TOKEN, token).replace(self.NAME, name),
            html=html.replace(self.TOKEN, token).replace(self.NAME_HTML, html_name),
            to=invitation.email,
            message_id=new_message_id(invitation.pk),
            token=token,
            language=language,
        )
        wire = self._wire(key)
        if (
            wire is not None
            and _TOKEN_OK.fullmatch(token)
            and _ADDRESS_OK.fullmatch(invitation.email)
            and "\r" not in name
            and "\n" not in name
            and (name.isascii() or b"Content-Transfer-Encoding: 7bit" not in wire)  # a 7bit part stays 7bit
        ):
            message.wire = (
                wire.replace(self.TOKEN.encode(), token.encode())
                .replace(self.NAME.encode(), name.encode())
                .replace(self.NAME_HTML.encode(), html_name.encode())
                .replace(self.TO.encode(), invitation.email.encode())
                .replace(self.MESSAGE_ID.encode(), message.extra_headers["Message-ID"].encode())
                .replace(self.DATE.encode(), formatdate(localtime=settings.EMAIL_USE_LOCALTIME).encode())
            )
        return message
