"""Writes of the API app: tokens, idempotency records, webhooks and their deliveries."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import audit_record
from team.models import User

from .events import WebhookEvent
from .models import (
    ApiToken,
    DeliveryStatus,
    IdempotencyRecord,
    TokenScope,
    Webhook,
    WebhookDelivery,
)

log = logging.getLogger(__name__)

TOKEN_PREFIX = "csp_"  # noqa: S105  (a marker, not a secret)
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
IDEMPOTENCY_TTL = dt.timedelta(hours=24)

# ---------------------------------------------------------------- tokens


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    raw: str  # shown once; never stored


@transaction.atomic
def token_create(*, name: str, user: User, scope: str, created_by: User | None) -> IssuedToken:
    """Issue a token acting for ``user``. The raw token is returned once and never stored."""
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("Name the integration that will use this token.")
    if scope not in TokenScope.values:
        errors["scope"] = _("Choose read only or read and write.")
    if not user.has_app_access:
        errors["user"] = _("Choose an active person with a role; the token acts for them.")
    if created_by is not None and not created_by.sees_all_accounts:
        errors["user"] = _("Only managers and admins create API tokens.")
    if errors:
        raise ValidationError(errors)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        user=user,
        scope=scope,
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        digest=token_digest(raw),
        created_by=created_by,
    )
    token.full_clean()
    token.save()
    audit_record(
        actor=created_by,
        action=AuditAction.TOKEN_CREATE,
        target=token,
        details={"prefix": token.prefix, "acts_for": user.email, "scope": scope},
    )
    return IssuedToken(token=token, raw=raw)


@transaction.atomic
def token_revoke(*, token: ApiToken, by: User | None) -> ApiToken:
    """Revoke at once: the next request with it gets 401. Revoking twice changes nothing."""
    if by is not None and not by.sees_all_accounts:
        raise PermissionError("Only managers and admins revoke API tokens.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_by = by
        revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=token.revoked_at, revoked_by=by
        )
        if revoked:
            audit_record(
                actor=by,
                action=AuditAction.TOKEN_REVOKE,
                target=token,
                details={"prefix": token.prefix, "acts_for_id": token.user_id},
            )
    return token


def token_authenticate(*, raw: str) -> ApiToken | None:
    """The active token for ``raw`` (with its user), noting when it was last used."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    token = ApiToken.objects.active().select_related("user").filter(digest=token_digest(raw)).first()
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


# ---------------------------------------------------------------- idempotency


def idempotency_purge(*, older_than: dt.timedelta = IDEMPOTENCY_TTL) -> int:
    """Forget answers older than the replay window (24 hours). Returns the rows deleted."""
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted


# ---------------------------------------------------------------- webhooks


def webhook_events_validate(events: Any) -> list[str]:
    if not isinstance(events, list) or not events:
        raise ValidationError({"events": _("Choose at least one event.")})
    unknown = [event for event in events if event not in WebhookEvent.values]
    if unknown:
        raise ValidationError(
            {"events": _("Unknown events: %(events)s.") % {"events": ", ".join(map(str, unknown))}}
        )
    return list(dict.fromkeys(events))


def webhooks_emit(*, event: str, payload: dict[str, Any]) -> list[WebhookDelivery]:
    """Record one delivery per active webhook subscribed to ``event``, sent after commit.

    Call it inside the service that makes the change: if that transaction rolls back, nothing
    is sent. Each delivery is sent by a Celery task that retries with exponential backoff.
    """
    return webhooks_emit_many(event=event, payloads=[payload])


def webhooks_emit_many(
    *, event: str, payloads: Iterable[dict[str, Any]] | Callable[[], Iterable[dict[str, Any]]]
) -> list[WebhookDelivery]:
    """``webhooks_emit`` for many changes at once (e.g. every alert a recompute opened): one query
    for the subscribers, one insert for the deliveries. ``payloads`` may be a callable, called
    only when some webhook subscribes, so an unsubscribed event costs one query and no more."""
    if event not in WebhookEvent.values:
        raise ValueError(f"Unknown webhook event {event!r}; declare it in api.events.WebhookEvent.")
    hooks = [hook for hook in Webhook.objects.filter(is_active=True) if hook.wants(event)]
    if not hooks:
        return []
    if callable(payloads):
        payloads = payloads()
    documents = [json.loads(json.dumps(payload, cls=DjangoJSONEncoder)) for payload in payloads]
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(webhook=hook, event=event, payload=doc) for doc in documents for hook in hooks],
        batch_size=1000,
    )
    if deliveries and deliveries[0].pk is None:  # backends that do not return ids
        deliveries = list(
            WebhookDelivery.objects.filter(uuid__in=[d.uuid for d in deliveries]).order_by("pk")
        )

    ids = [delivery.pk for delivery in deliveries]
    transaction.on_commit(lambda: webhook_deliveries_enqueue(delivery_ids=ids))
    return deliveries


def webhook_deliveries_enqueue(*, delivery_ids: Iterable[int]) -> int:
    """Hand deliveries to the broker; stop quietly (logged) when it cannot be reached: the rows
    stay pending and ``webhook_deliveries_sweep`` sends them once it is back. Returns how many
    were enqueued."""
    from kombu.exceptions import OperationalError as BrokerUnavailable

    from .tasks import webhook_deliver_task

    sent = 0
    for pk in delivery_ids:
        try:
            webhook_deliver_task.delay(delivery_id=pk)
        except (BrokerUnavailable, ConnectionError, OSError) as exc:
            log.warning("broker unavailable, webhook deliveries left for the sweep: %s", exc)
            break
        sent += 1
    return sent


SWEEP_UNSENT_AFTER = dt.timedelta(minutes=5)  # never attempted: its enqueue was lost
SWEEP_STALLED_AFTER = dt.timedelta(minutes=30)  # retrying, but no attempt for longer than any backoff


def webhook_deliveries_sweep(*, now: dt.datetime | None = None) -> int:
    """Re-enqueue deliveries whose task was lost (broker down at enqueue, or restarted empty):
    pending ones never attempted after 5 minutes, retrying ones not attempted for 30 minutes.
    Receivers deduplicate by ``X-CS-Delivery``: a delivery is sent at least once."""
    now = now or timezone.now()
    never_tried = Q(
        status=DeliveryStatus.PENDING, last_attempt_at__isnull=True, created_at__lte=now - SWEEP_UNSENT_AFTER
    )
    stuck = WebhookDelivery.objects.filter(
        never_tried
        | Q(
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING],
            last_attempt_at__lte=now - SWEEP_STALLED_AFTER,
        )
    ).order_by("pk")
    return webhook_deliveries_enqueue(delivery_ids=list(stuck.values_list("pk", flat=True)[:10_000]))


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the secret>``."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def webhook_signature_verify(*, secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """What a receiver does: recompute the signature and refuse stale timestamps."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = webhook_signature(secret=secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(expected, header)


class WebhookDeliveryFailed(Exception):
    """The receiver did not answer 2xx; the task retries."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect is a failed delivery
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def webhook_body(delivery: WebhookDelivery) -> bytes:
    document = {
        "id": str(delivery.uuid),
        "event": delivery.event,
        "created_at": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def webhook_deliver(*, delivery_id: int, final: bool = False, timeout: float = 10.0) -> WebhookDelivery:
    """Send one delivery once and record the outcome; raise WebhookDeliveryFailed to retry.

    Safe to run again: a delivery already sent is not sent twice. The HTTP call is made
    outside any database transaction. ``final`` marks a failure as the last attempt.
    """
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    if delivery.status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED):
        return delivery
    body = webhook_body(delivery)
    timestamp = int(time.time())
    request = urllib.request.Request(  # noqa: S310  (admin-configured http(s) URL)
        delivery.webhook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "cs-platform-webhooks/1",
            "X-CS-Event": delivery.event,
            "X-CS-Delivery": str(delivery.uuid),
            "X-CS-Signature": webhook_signature(
                secret=delivery.webhook.secret, timestamp=timestamp, body=body
            ),
        },
    )
    status: int | None = None
    error = ""
    try:
        with _opener.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
        error = f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        error = str(getattr(exc, "reason", exc))[:1000]
    now = timezone.now()
    ok = status is not None and 200 <= status < 300
    if ok:
        new_status = DeliveryStatus.SUCCEEDED
    elif final:
        new_status = DeliveryStatus.FAILED
    else:
        new_status = DeliveryStatus.RETRYING
    fields = {
        "status": new_status,
        "response_status": status,
        "error": "" if ok else (error or f"HTTP {status}"),
        "last_attempt_at": now,
        "delivered_at": now if ok else None,
    }
    from django.db.models import F

    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1, **fields)
    delivery.refresh_from_db()
    if not ok and not final:
        raise WebhookDeliveryFailed(fields["error"])
    return delivery


def webhook_send_test(*, webhook: Webhook) -> WebhookDelivery:
    """Queue a ``webhook.test`` delivery to one webhook, whatever events it subscribes to."""
    delivery = WebhookDelivery.objects.create(
        webhook=webhook,
        event=WebhookEvent.TEST,
        payload={"message": "Test event from the customer-success platform.", "webhook": webhook.name},
    )
    transaction.on_commit(lambda: webhook_deliveries_enqueue(delivery_ids=[delivery.pk]))
    return delivery
