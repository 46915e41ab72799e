"""Admin for staff users: email login (no username), a role, and Django's password screens."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from .models import User


class _EmailCleanMixin:
    """Emails are stored lower-case and are unique whatever their case."""

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data.get("email") or "").strip().lower()
        taken = User.objects.filter(email__iexact=email)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if email and taken.exists():
            raise forms.ValidationError(_("Another user already signs in with this email."), code="unique")
        return email


class UserCreationAdminForm(_EmailCleanMixin, AdminUserCreationForm):
    """The add form: email, name, role, staff flag, and a password typed twice."""

    class Meta:
        model = User
        fields = ("email", "full_name", "role", "is_staff")


class UserChangeAdminForm(_EmailCleanMixin, UserChangeForm):
    """The change form; the password is shown as a hash summary with a link to change it."""

    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm

    list_display = ("email", "full_name", "role", "is_active", "is_staff", "last_login")
    list_filter = ("role", "is_active", "is_staff", "is_superuser")
    search_fields = ("email", "full_name")
    ordering = ("email",)
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("full_name", "role")}),
        (
            _("Permissions"),
            {
                "fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions"),
                "classes": ("collapse",),
            },
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "full_name",
                    "role",
                    "is_staff",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        match = getattr(request, "resolver_match", None)
        if match and match.url_name == "autocomplete" and request.GET.get("field_name") == "owner":
            # Choosing an account owner: only people who can work accounts.
            queryset = queryset.filter(is_active=True).exclude(role="")
        return queryset, may_have_duplicates

    # Rights that decide what a person may see and do: every change goes in the audit log.
    AUDITED_FIELDS = ("role", "is_staff", "is_superuser", "is_active")

    def save_model(self, request, obj, form, change):
        from audit.models import AuditAction
        from audit.services import audit_record

        before = {}
        if change and obj.pk:
            before = User.objects.filter(pk=obj.pk).values(*self.AUDITED_FIELDS).first() or {}
        super().save_model(request, obj, form, change)
        after = {field: getattr(obj, field) for field in self.AUDITED_FIELDS}
        changed = {f: [before.get(f), after[f]] for f in self.AUDITED_FIELDS if before.get(f) != after[f]}
        if (change and changed) or (not change and (obj.role or obj.is_staff or obj.is_superuser)):
            audit_record(
                actor=request.user,
                action=AuditAction.ROLE_CHANGE,
                target=obj,
                details={"changes": changed if change else {f: [None, v] for f, v in after.items()}},
            )
