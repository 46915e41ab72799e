"""Admin for API tokens (issued once, revocable) and webhooks with their deliveries."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from team.models import User

from . import services
from .events import WebhookEvent
from .models import ApiToken, DeliveryStatus, Webhook, WebhookDelivery


class ApiTokenAddForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("name", "user", "scope")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(is_active=True).exclude(role="")
        self.fields["user"].help_text = _("An active person with a role; the token sees what they may see.")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "user", "scope", "created_at", "last_used_at", "revoked_at")
    list_filter = ("scope", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix", "user__email")
    list_select_related = ("user",)
    readonly_fields = ("prefix", "created_by", "created_at", "last_used_at", "revoked_at", "revoked_by")
    actions = ("revoke",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "user", "scope")
        return ("name", "user", "scope", *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("user", "scope", *self.readonly_fields)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        issued = services.token_create(
            name=obj.name,
            user=obj.user,
            scope=obj.scope,
            created_by=request.user if request.user.sees_all_accounts else None,
        )
        form.instance = issued.token
        obj.pk = issued.token.pk
        obj._raw_token = issued.raw

    def response_add(self, request, obj, post_url_continue=None):
        # The token is shown on this answer only: it is never stored, nor put in a message cookie.
        context = {
            **self.admin_site.each_context(request),
            "title": _("API token created"),
            "token": obj,
            "raw": getattr(obj, "_raw_token", ""),
            "opts": self.model._meta,
        }
        response = TemplateResponse(request, "admin/api/apitoken/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Revoke selected tokens"))
    def revoke(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            services.token_revoke(token=token, by=request.user)
            count += 1
        self.message_user(request, _("%(count)s token(s) revoked.") % {"count": count}, messages.SUCCESS)


class WebhookForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple, label=_("Events")
    )
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")

    class Meta:
        model = Webhook
        fields = ("name", "url", "events", "secret", "is_active")

    def clean_events(self):
        try:
            return services.webhook_events_validate(self.cleaned_data.get("events") or [])
        except ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["events"]) from None


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    form = WebhookForm
    list_display = ("name", "url", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "url")
    actions = ("send_test",)

    @admin.action(description=_("Send a test event"))
    def send_test(self, request, queryset):
        for webhook in queryset:
            services.webhook_send_test(webhook=webhook)
        self.message_user(request, _("Test event queued; see Webhook deliveries for the outcome."))


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "webhook", "event", "status", "attempts", "response_status", "delivered_at")
    list_filter = ("status", "event", "webhook")
    list_select_related = ("webhook",)
    search_fields = ("uuid", "webhook__name")
    readonly_fields = (
        "uuid",
        "webhook",
        "event",
        "payload",
        "status",
        "attempts",
        "response_status",
        "error",
        "created_at",
        "last_attempt_at",
        "delivered_at",
    )
    actions = ("redeliver",)

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Send again"))
    def redeliver(self, request, queryset):
        from django.db import transaction

        from .services import webhook_deliveries_enqueue

        ids = list(queryset.values_list("pk", flat=True))
        queryset.update(status=DeliveryStatus.PENDING)
        transaction.on_commit(lambda: webhook_deliveries_enqueue(delivery_ids=ids))
        self.message_user(request, _("%(count)s delivery(ies) queued.") % {"count": len(ids)})
