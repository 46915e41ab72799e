"""The admin for surveys: survey templates with their questions and choices, campaigns (launch,
pause, resume and cancel through the services), the outbox, responses, follow-ups and the
suppression list."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import services
from .models import (
    Campaign,
    CampaignRound,
    Choice,
    FollowUp,
    Invitation,
    Question,
    Response,
    Suppression,
    Survey,
)


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 0
    fields = (("position", "kind", "required"), "prompt", "prompt_tr", "prompt_zh_hant")
    show_change_link = True


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "asks_score", "is_active", "created_at")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)
    inlines = [QuestionInline]
    fieldsets = (
        (None, {"fields": ("name", "kind", "asks_score", "is_active")}),
        (
            _("Score question (empty: the standard wording of the kind)"),
            {"fields": ("question", "question_tr", "question_zh_hant")},
        ),
        (
            _("Follow-up question by score band (empty: the standard wording)"),
            {
                "fields": (
                    "follow_up_detractor",
                    "follow_up_detractor_tr",
                    "follow_up_detractor_zh_hant",
                    "follow_up_passive",
                    "follow_up_passive_tr",
                    "follow_up_passive_zh_hant",
                    "follow_up_promoter",
                    "follow_up_promoter_tr",
                    "follow_up_promoter_zh_hant",
                )
            },
        ),
    )


class ChoiceInline(admin.TabularInline):
    model = Choice
    extra = 0
    fields = ("position", "label", "label_tr", "label_zh_hant")


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ("survey", "position", "kind", "prompt", "required")
    list_filter = ("kind", "survey")
    search_fields = ("prompt", "survey__name")
    inlines = [ChoiceInline]


class RoundInline(admin.TabularInline):
    model = CampaignRound
    extra = 0
    fields = ("number", "scheduled_at", "status", "started_at", "finished_at")
    readonly_fields = ("started_at", "finished_at")


def _run(modeladmin, request, queryset, action, done) -> None:
    ok = 0
    for campaign in queryset:
        try:
            action(campaign=campaign, by=request.user)
            ok += 1
        except ValidationError as exc:
            modeladmin.message_user(request, f"{campaign}: {' '.join(exc.messages)}", messages.ERROR)
    if ok:
        modeladmin.message_user(request, f"{done}: {ok}")


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "survey",
        "status",
        "trigger",
        "send_at",
        "recurrence_months",
        "created_by",
        "created_at",
    )
    list_filter = ("status", "trigger", "survey__kind")
    search_fields = ("name",)
    autocomplete_fields = ("accounts",)
    raw_id_fields = ("created_by", "account_owner")
    readonly_fields = ("status", "launched_at")
    inlines = [RoundInline]
    actions = ["launch", "pause", "resume", "cancel"]

    def save_model(self, request, obj, form, change):
        # Rules (audience, times, visibility) are checked by the services on the staff pages and
        # the API; the admin may fix a record directly, but never launches by saving.
        if not change and not obj.created_by_id:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Launch the selected drafts"))
    def launch(self, request, queryset):
        _run(self, request, queryset, services.campaign_launch, _("Launched"))

    @admin.action(description=_("Pause the selected campaigns"))
    def pause(self, request, queryset):
        _run(self, request, queryset, services.campaign_pause, _("Paused"))

    @admin.action(description=_("Resume the selected campaigns"))
    def resume(self, request, queryset):
        _run(self, request, queryset, services.campaign_resume, _("Resumed"))

    @admin.action(description=_("Cancel the selected campaigns"))
    def cancel(self, request, queryset):
        _run(self, request, queryset, services.campaign_cancel, _("Cancelled"))


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = (
        "email",
        "campaign",
        "round",
        "status",
        "skip_reason",
        "sent_at",
        "reminder_status",
        "attempts",
    )
    list_filter = ("status", "skip_reason", "reminder_status", "campaign")
    search_fields = ("email", "message_id", "contact__name")
    list_select_related = ("campaign", "round__campaign")
    raw_id_fields = ("campaign", "round", "contact", "account")
    readonly_fields = [f.name for f in Invitation._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False  # invitations are written by campaigns and triggers, never by hand


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ("contact", "account", "kind", "score", "band", "answered_at", "revisions", "language")
    list_filter = ("kind", "band", "language")
    search_fields = ("contact__name", "contact__email", "account__name", "comment", "follow_up")
    list_select_related = ("contact", "account")
    readonly_fields = [f.name for f in Response._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False  # customers answer through their link


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ("response", "account", "owner", "opened_at", "closed_at", "outcome")
    list_filter = ("outcome",)
    search_fields = ("account__name", "note")
    raw_id_fields = ("response", "account", "owner", "task", "closed_by")


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ("email", "reason", "created_at", "detail")
    list_filter = ("reason",)
    search_fields = ("email",)
    raw_id_fields = ("invitation",)

    def save_model(self, request, obj, form, change):
        obj.email = obj.email.strip().lower()
        super().save_model(request, obj, form, change)
