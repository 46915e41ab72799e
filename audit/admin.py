"""The audit log in the admin: admins read, filter and search it; nobody adds, changes or
deletes an entry (not even a superuser)."""

from __future__ import annotations

from django.contrib import admin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor_label", "action", "target_type", "target_id", "target_label", "ip")
    list_filter = ("action", "target_type", ("created_at", admin.DateFieldListFilter), "actor")
    search_fields = ("actor_label", "target_label", "target_id", "ip")
    date_hierarchy = "created_at"
    list_select_related = ("actor",)
    readonly_fields = [f.name for f in AuditEntry._meta.fields]
    fields = readonly_fields
    actions = None
    list_per_page = 100
    show_full_result_count = False

    def has_module_permission(self, request) -> bool:
        return self._is_admin(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._is_admin(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @staticmethod
    def _is_admin(request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and (user.is_superuser or user.role == "admin"))
