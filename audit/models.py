"""One row per sensitive action. Rows are only ever added: no code path updates or deletes them
(the admin is read-only and the model refuses ``save`` on an existing row)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    ROLE_CHANGE = "user.role_change", _("Role or staff rights changed")
    OWNER_REASSIGN = "account.owner_reassign", _("Account owner reassigned")
    POINTS_ADJUST = "loyalty.points_adjust", _("Points adjusted")
    REDEMPTION_APPROVE = "loyalty.redemption_approve", _("Reward redemption approved")
    EXPORT = "data.export", _("Data exported")
    TOKEN_CREATE = "api.token_create", _("API token created")
    TOKEN_REVOKE = "api.token_revoke", _("API token revoked")
    DELETE = "object.delete", _("Record deleted")
    CONTACT_EXPORT = "privacy.contact_export", _("Contact's personal data exported")
    CONTACT_ERASE = "privacy.contact_erase", _("Contact erased")


class AuditEntry(models.Model):
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty for the system (a task or command) or a since-deleted user."),
    )
    # Kept even if the user is deleted later: the log must still say who it was.
    actor_label = models.CharField(_("who (as recorded)"), max_length=254, blank=True)
    action = models.CharField(_("action"), max_length=40, choices=AuditAction.choices)
    target_type = models.CharField(_("target type"), max_length=100, blank=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    target_label = models.CharField(_("target"), max_length=300, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["action", "-created_at"], name="audit_action_idx"),
            models.Index(fields=["actor", "-created_at"], name="audit_actor_idx"),
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
        ]
        default_permissions = ("view",)

    def __str__(self) -> str:
        who = self.actor_label or "system"
        return f"{self.created_at:%Y-%m-%d %H:%M} {who} {self.action} {self.target_label}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("Audit entries are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit entries are never deleted.")
