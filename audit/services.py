"""Writing the audit log. Every audited service calls ``audit_record`` inside its own
transaction, so an action that rolls back leaves no entry and a recorded action always has one."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.db import models

from .context import current_ip, current_user
from .models import AuditAction, AuditEntry


def _label(obj: Any) -> str:
    try:
        return str(obj)[:300]
    except Exception:  # a half-deleted object's __str__ may reach for a missing relation
        return ""


def _valid_ip(ip: str | None) -> str | None:
    if not ip:
        return None
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return None


def audit_record(
    *,
    actor,
    action: AuditAction | str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    target_label: str = "",
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Add one entry. ``target`` fills type, id and label from a model instance; the explicit
    arguments describe targets that are not one row (an export of a list) or are gone. Without
    an ``actor`` the entry names the user of the request being served (none for a task)."""
    if action not in AuditAction.values:
        raise ValueError(f"Unknown audit action {action!r}")
    if actor is None:
        actor = current_user()
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or target.pk
        target_label = target_label or _label(target)
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEntry.objects.create(
        actor=actor if authenticated else None,
        actor_label=(getattr(actor, "email", "") or "") if authenticated else "",
        action=action,
        target_type=target_type[:100],
        target_id=str(target_id or "")[:64],
        target_label=(target_label or "")[:300],
        details=details or {},
        ip=_valid_ip(ip or current_ip()),
    )
