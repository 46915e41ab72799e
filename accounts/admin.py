"""Admin for accounts, contacts, revenue history, touchpoints, usage events and FX rates.

Every write with a business rule goes through ``accounts.services``: the forms in
``accounts.forms_admin`` validate by running the service in a rolled-back savepoint, and
``save_model`` calls it for real. CSV import and export use ``accounts.resources``.
"""

from __future__ import annotations

import json
from collections import Counter

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import router, transaction
from django.db.models import ProtectedError, Q, RestrictedError
from django.db.models.deletion import Collector
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ImportExportModelAdmin
from import_export.forms import ImportForm

from team.models import User

from . import services_privacy
from .forms_admin import (
    AccountAdminForm,
    ContactAdminForm,
    ContactInlineFormSet,
    ExchangeRateAdminForm,
    MrrMovementAddForm,
    ReassignOwnerForm,
    TouchpointAddForm,
    TouchpointChangeForm,
    adopt,
    field_errors,
)
from .models import Account, Contact, ExchangeRate, MrrMovement, Touchpoint, UsageEvent
from .resources import AccountResource, ContactResource, SafeCSV
from .services import (
    account_create,
    account_reassign_owner,
    account_update,
    domain_normalize,
    mrr_movement_record,
    touchpoint_log,
    touchpoints_delete,
)

# ---------------------------------------------------------------------------------------------
# Shared pieces


class CappedCountPaginator(Paginator):
    """Counts at most ``cap`` + 1 rows, so a list over a table of millions never runs a full
    COUNT(*). Past the cap the page links stop at the cap; search or filter to go further."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        object_list = self.object_list
        if hasattr(object_list, "query"):
            return object_list[: self.cap + 1].count()
        return len(object_list)


class AccountSearchMixin:
    """Search a large table by its account: find the matching accounts first (one query on the
    accounts table), then filter by their ids, which the (account, ...) indexes serve; a join
    with LIKE on the account's name could walk the whole big table."""

    account_search_limit = 100
    account_search_help = _("Search by account name, domain or external id.")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        accounts = Account.objects.filter(
            Q(name__icontains=term) | Q(domain__iexact=domain_normalize(term)) | Q(external_id=term)
        )
        account_ids = list(accounts.values_list("pk", flat=True)[: self.account_search_limit])
        return queryset.filter(account_id__in=account_ids), False


class ServiceAdminMixin:
    """For admins whose ``save_model`` calls a service.

    The form has already run the same service in a rolled-back savepoint, so the service only
    refuses here when another write got in between; the whole request is then rolled back (the
    admin wraps it in a transaction) and the person sees why, never a server error.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            problems = "; ".join(
                " ".join(msgs) if field == "__all__" else f"{field}: {' '.join(msgs)}"
                for field, msgs in field_errors(exc).items()
            )
            self.message_user(
                request, _("Nothing was saved: %(problems)s") % {"problems": problems}, messages.ERROR
            )
            return HttpResponseRedirect(request.get_full_path())


IMPORT_MAX_BYTES = getattr(settings, "CS_IMPORT_MAX_BYTES", 10 * 1024 * 1024)


class SizeLimitedImportForm(ImportForm):
    """An uploaded file is hostile until read: refuse one too large to preview, by its size."""

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _(
                    "This file is %(size)s MB; files up to %(limit)s MB can be imported. "
                    "Split it into smaller files."
                )
                % {"size": f"{upload.size / 1048576:.1f}", "limit": f"{IMPORT_MAX_BYTES / 1048576:.0f}"},
                code="too_large",
            )
        return upload


class ImportServiceAdminMixin:
    """CSV import and export that never half-writes.

    The first step is django-import-export's dry run: a preview of every row, or the rows'
    errors, in a transaction that is rolled back. The confirmed import runs in one transaction
    that is rolled back if any row fails, and then says so instead of "Import finished".
    """

    formats = [SafeCSV]
    import_form_class = SizeLimitedImportForm
    import_error_display = ("message",)

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        # The preview marks each row's changes with diff-match-patch's inline-styled <ins>/<del>:
        # this admin page alone allows inline styles (scripts stay 'self' only).
        response._csp_update = {"style-src": ["'unsafe-inline'"]}
        return response

    def get_import_data_kwargs(self, **kwargs):
        kwargs = super().get_import_data_kwargs(**kwargs)
        kwargs.setdefault("rollback_on_validation_errors", True)
        return kwargs

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            problems = [str(error.error) for error in result.base_errors]
            for line, errors in result.row_errors():
                problems.extend(f"row {line}: {error.error}" for error in errors)
            for row in result.invalid_rows:
                for field, msgs in row.error_dict.items():
                    problems.append(f"row {row.number}, {field}: {' '.join(msgs)}")
            self.message_user(
                request,
                _("Nothing was imported: %(problems)s") % {"problems": "; ".join(problems[:10])},
                messages.ERROR,
            )
            return HttpResponseRedirect(
                reverse("admin:{}_{}_import".format(*self.get_model_info()), current_app=self.admin_site.name)
            )
        return super().process_result(result, request)


def admin_link(obj, label=None):
    if obj is None:
        return "-"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label or obj)


# ---------------------------------------------------------------------------------------------
# Filters


class OwnerFilter(admin.RelatedFieldListFilter):
    """Owners to choose from: staff with a role (one small query), not every user."""

    def field_choices(self, field, request, model_admin):
        users = User.objects.exclude(role="").order_by("full_name", "email")
        return [(user.pk, str(user)) for user in users]


class ChurnedFilter(admin.SimpleListFilter):
    title = _("churned")
    parameter_name = "churned"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(churned_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(churned_at__isnull=True)
        return queryset


# ---------------------------------------------------------------------------------------------
# Accounts


class ContactInline(admin.TabularInline):
    model = Contact
    form = ContactAdminForm
    formset = ContactInlineFormSet
    fields = ("name", "email", "role", "language", "accepts_surveys")
    extra = 0
    show_change_link = True


class MrrMovementInline(admin.TabularInline):
    """The revenue history, read-only: movements are recorded through the MRR movement admin
    (``mrr_movement_record``), never edited."""

    model = MrrMovement
    fields = ("date", "kind", "amount", "original_amount", "original_currency", "fx_rate", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("MRR movements (add one with the link above)")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(ServiceAdminMixin, ImportServiceAdminMixin, ImportExportModelAdmin):
    form = AccountAdminForm
    resource_classes = [AccountResource]
    list_display = (
        "name",
        "domain",
        "owner",
        "segment",
        "tier",
        "lifecycle_stage",
        "mrr",
        "renewal_date",
        "last_touch_at",
    )
    list_filter = ("segment", "tier", "lifecycle_stage", ("owner", OwnerFilter), ChurnedFilter)
    search_fields = ("name", "domain", "=external_id")
    search_help_text = _("Search by name, domain or exact external id.")
    autocomplete_fields = ("owner", "parent")
    list_select_related = ("owner",)
    date_hierarchy = "renewal_date"
    ordering = ("name",)
    readonly_fields = (
        "related_links",
        "mrr",
        "last_touch_at",
        "churned_at",
        "churn_reason",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("name", "domain", "external_id", "owner", "parent")}),
        (_("Segmentation"), {"fields": ("segment", "tier", "plan", "lifecycle_stage")}),
        (
            _("Contract"),
            {"fields": ("contract_start", "renewal_date", "currency", "acquisition_cost")},
        ),
        (
            _("Kept by the platform"),
            {
                "fields": (
                    "related_links",
                    "mrr",
                    "last_touch_at",
                    "churned_at",
                    "churn_reason",
                    "created_at",
                    "updated_at",
                )
            },
        ),
    )
    actions = ["reassign_owner"]

    def get_inlines(self, request, obj):
        return [ContactInline, MrrMovementInline] if obj is not None else [ContactInline]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.fieldsets[:3]
        return self.fieldsets

    @admin.display(description=_("related"))
    def related_links(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        links = [
            (reverse("admin:accounts_mrrmovement_add") + f"?account={obj.pk}", _("Add MRR movement")),
            (reverse("admin:accounts_touchpoint_add") + f"?account={obj.pk}", _("Log a touchpoint")),
            (
                reverse("admin:accounts_touchpoint_changelist") + f"?account__id__exact={obj.pk}",
                _("Touchpoints"),
            ),
            (
                reverse("admin:accounts_usageevent_changelist") + f"?account__id__exact={obj.pk}",
                _("Usage events"),
            ),
        ]
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    def save_model(self, request, obj, form, change):
        if change:
            saved = account_update(account=obj, data=form.service_data())
        else:
            saved = account_create(**form.service_data())
        adopt(obj, saved)

    def get_deleted_objects(self, objs, request):
        """What a delete would remove, summarised by kind.

        Django's own page lists every related row, which for an account means every usage
        event (there can be millions); this counts them instead.
        """
        objs = list(objs)
        using = router.db_for_write(self.model)
        collector = Collector(using=using, origin=objs)
        protected: list[str] = []
        try:
            collector.collect(objs)
        except ProtectedError as exc:
            protected = [str(o) for o in list(exc.protected_objects)[:50]]
        except RestrictedError as exc:
            protected = [str(o) for o in list(exc.restricted_objects)[:50]]
        counts: Counter = Counter()
        for model, instances in collector.data.items():
            counts[model] += len(instances)
        for queryset in collector.fast_deletes:
            counts[queryset.model] += queryset.count()
        perms_needed = set()
        for model in counts:
            opts = model._meta
            codename = get_permission_codename("delete", opts)
            if model in self.admin_site._registry and not request.user.has_perm(
                f"{opts.app_label}.{codename}"
            ):
                perms_needed.add(opts.verbose_name)
        to_delete = [
            format_html("{}: {}", capfirst(Account._meta.verbose_name), admin_link(obj)) for obj in objs
        ]
        to_delete += [
            f"{capfirst(model._meta.verbose_name_plural)}: {count}"
            for model, count in counts.items()
            if model is not Account and count
        ]
        model_count = {model._meta.verbose_name_plural: count for model, count in counts.items() if count}
        return to_delete, model_count, perms_needed, protected

    @admin.action(description=_("Reassign owner of selected accounts"), permissions=["change"])
    def reassign_owner(self, request, queryset):
        form = ReassignOwnerForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            owner = form.cleaned_data["owner"]
            try:
                with transaction.atomic():
                    count = 0
                    for account in queryset.select_related(None).only("pk", "owner"):
                        account_reassign_owner(account=account, owner=owner, by=request.user)
                        count += 1
            except PermissionError:
                self.message_user(
                    request, _("Only managers and admins can reassign accounts."), messages.ERROR
                )
                return None
            except ValidationError as exc:
                form.add_error("owner", field_errors(exc).get("owner") or exc.messages)
            else:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d account now belongs to %(owner)s.",
                        "%(count)d accounts now belong to %(owner)s.",
                        count,
                    )
                    % {"count": count, "owner": owner},
                    messages.SUCCESS,
                )
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reassign owner"),
            "opts": self.model._meta,
            "form": form,
            "accounts": queryset.select_related(None).only("pk", "name")[:50],
            "account_count": queryset.count(),
            "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/accounts/account/reassign_owner.html", context)


# ---------------------------------------------------------------------------------------------
# Contacts


@admin.register(Contact)
class ContactAdmin(ImportServiceAdminMixin, ImportExportModelAdmin):
    form = ContactAdminForm
    resource_classes = [ContactResource]
    list_display = ("name", "email", "account", "role", "language", "accepts_surveys")
    list_filter = ("role", "language", "accepts_surveys")
    search_fields = ("name", "email", "account__name", "account__domain")
    search_help_text = _("Search by name, email, or the account's name or domain.")
    list_select_related = ("account",)
    autocomplete_fields = ("account",)
    readonly_fields = ("created_at",)
    fields = ("account", "name", "email", "role", "language", "accepts_surveys", "created_at")
    actions = ("export_personal_data", "erase_personal_data")

    @admin.action(description=_("Export personal data (JSON)"))
    def export_personal_data(self, request, queryset):
        if not request.user.sees_all_accounts:
            raise PermissionDenied
        data = [
            services_privacy.contact_data_export(contact=contact, by=request.user)
            for contact in queryset.select_related("account").order_by("pk")
        ]
        body = json.dumps(data[0] if len(data) == 1 else data, indent=2, ensure_ascii=False, default=str)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
        name = f"contact-{data[0]['contact']['id']}" if len(data) == 1 else "contacts"
        response["Content-Disposition"] = f'attachment; filename="{name}-personal-data.json"'
        response["Cache-Control"] = "private, no-store"
        return response

    @admin.action(description=_("Erase personal data…"))
    def erase_personal_data(self, request, queryset):
        """A confirmation page first (like deleting); erasing cannot be undone."""
        if not request.user.sees_all_accounts:
            raise PermissionDenied
        contacts = list(queryset.select_related("account").order_by("pk"))
        if request.POST.get("confirm") == "yes":
            for contact in contacts:
                services_privacy.contact_erase(contact=contact, by=request.user)
            self.message_user(
                request,
                ngettext(
                    "Erased %(n)d contact's personal data; their answers still count, anonymously.",
                    "Erased %(n)d contacts' personal data; their answers still count, anonymously.",
                    len(contacts),
                )
                % {"n": len(contacts)},
                messages.SUCCESS,
            )
            return None
        return TemplateResponse(
            request,
            "admin/accounts/contact/erase_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Erase personal data?"),
                "opts": self.model._meta,
                "contacts": contacts,
                "action": "erase_personal_data",
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )


# ---------------------------------------------------------------------------------------------
# Revenue history


@admin.register(MrrMovement)
class MrrMovementAdmin(AccountSearchMixin, ServiceAdminMixin, admin.ModelAdmin):
    """Movements are history: added through ``mrr_movement_record``, never edited or deleted."""

    list_display = ("account", "kind", "date", "amount", "original_amount", "original_currency", "created_at")
    list_filter = ("kind",)
    search_fields = ("account__name",)  # see AccountSearchMixin
    search_help_text = AccountSearchMixin.account_search_help
    list_select_related = ("account",)
    ordering = ("-date", "-pk")
    paginator = CappedCountPaginator
    show_full_result_count = False
    autocomplete_fields = ("account",)
    add_fieldsets = (
        (None, {"fields": ("account", "kind", "date", "amount", "currency", "churn_reason", "note")}),
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "account",
                    "kind",
                    "date",
                    "amount",
                    "original_amount",
                    "original_currency",
                    "fx_rate",
                    "note",
                    "created_at",
                )
            },
        ),
    )

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else self.fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = MrrMovementAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return self.fieldsets[0][1]["fields"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        adopt(obj, mrr_movement_record(**form.service_kwargs()))


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    form = ExchangeRateAdminForm
    list_display = ("currency", "valid_from", "rate")
    list_filter = ("currency",)
    search_fields = ("=currency",)
    ordering = ("currency", "-valid_from")
    date_hierarchy = "valid_from"


# ---------------------------------------------------------------------------------------------
# Touchpoints and usage


@admin.register(Touchpoint)
class TouchpointAdmin(AccountSearchMixin, ServiceAdminMixin, admin.ModelAdmin):
    list_display = ("occurred_at", "account", "kind", "author", "contact", "created_at")
    list_filter = ("kind",)
    search_fields = ("account__name",)  # see AccountSearchMixin
    search_help_text = AccountSearchMixin.account_search_help
    list_select_related = ("account", "author", "contact")
    # Latest logged first: the primary key index serves it on a table of millions; with an
    # account filter the (account, occurred_at) index does.
    ordering = ("-pk",)
    paginator = CappedCountPaginator
    show_full_result_count = False
    autocomplete_fields = ("account", "contact", "author")

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = TouchpointAddForm if obj is None else TouchpointChangeForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("account", "contact", "author", "kind", "occurred_at", "summary")
        return ("account", "author", "occurred_at", "kind", "contact", "summary", "created_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("account", "author", "occurred_at", "created_at")

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("author", request.user.pk)
        return initial

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
        else:
            adopt(obj, touchpoint_log(**form.service_kwargs()))

    def delete_model(self, request, obj):
        touchpoints_delete(touchpoints=[obj])

    def delete_queryset(self, request, queryset):
        touchpoints_delete(touchpoints=list(queryset))


@admin.register(UsageEvent)
class UsageEventAdmin(admin.ModelAdmin):
    """Read-mostly view of a table with tens of millions of rows: no filters or date drill-down
    (each is a scan), no full count, newest first by primary key. Events arrive through the API."""

    list_display = ("occurred_at", "name", "account", "contact")
    list_select_related = ("account", "contact")
    raw_id_fields = ("account", "contact")
    search_fields = ("account__domain",)  # see get_search_results
    search_help_text = _("An account's exact domain or external id.")
    # Newest first: the (account, occurred_at) and (occurred_at) indexes serve this order with
    # or without an account filter.
    ordering = ("-occurred_at",)
    paginator = CappedCountPaginator
    show_full_result_count = False
    actions = None
    readonly_fields = ("account", "contact", "name", "occurred_at", "properties")

    def get_search_results(self, request, queryset, search_term):
        """Look the account up first (one small query), then filter events by its id, so the
        database walks the (account, occurred_at) index instead of joining the big table."""
        term = search_term.strip()
        if not term:
            return queryset, False
        account_ids = list(
            Account.objects.filter(
                Q(domain__iexact=domain_normalize(term)) | Q(external_id=term)
            ).values_list("pk", flat=True)[:10]
        )
        return queryset.filter(account_id__in=account_ids), False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
