"""Audit every admin deletion and every admin CSV export, whichever app's admin it is.

Django's admin calls ``ModelAdmin.log_deletions`` before any deletion (the delete page and the
bulk "delete selected" action) and django-import-export's admins build every export file in
``ExportMixin.get_export_data``. Wrapping those two methods once here covers every admin,
including those added later, without each app's admin remembering to do it.
"""

from __future__ import annotations

from django.contrib.admin import ModelAdmin
from django.db import transaction

_INSTALLED = False


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    _INSTALLED = True
    _wrap_log_deletions()
    _wrap_export()


def _wrap_log_deletions() -> None:
    original = ModelAdmin.log_deletions

    def log_deletions(self, request, queryset):
        from .context import client_ip
        from .models import AuditAction, AuditEntry
        from .services import _label, _valid_ip

        objects = list(queryset)
        actor = request.user if request.user.is_authenticated else None
        ip = _valid_ip(client_ip(request))
        with transaction.atomic():
            AuditEntry.objects.bulk_create(
                [
                    AuditEntry(
                        actor=actor,
                        actor_label=getattr(actor, "email", "") or "",
                        action=AuditAction.DELETE,
                        target_type=obj._meta.label_lower,
                        target_id=str(obj.pk),
                        target_label=_label(obj),
                        details={"via": "admin"},
                        ip=ip,
                    )
                    for obj in objects
                ]
            )
        return original(self, request, objects)

    ModelAdmin.log_deletions = log_deletions


def _wrap_export() -> None:
    from import_export.admin import ExportMixin

    original = ExportMixin.get_export_data

    def get_export_data(self, file_format, request, queryset, **kwargs):
        from .models import AuditAction
        from .services import audit_record

        data = original(self, file_format, request, queryset, **kwargs)
        try:
            rows = queryset.count() if hasattr(queryset, "count") else len(queryset)
        except TypeError:
            rows = None
        audit_record(
            actor=request.user,
            action=AuditAction.EXPORT,
            target_type=self.model._meta.label_lower,
            target_label=f"{self.model._meta.verbose_name_plural} (admin export)",
            details={"via": "admin", "format": file_format.get_title(), "rows": rows},
        )
        return data

    ExportMixin.get_export_data = get_export_data
