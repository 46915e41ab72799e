"""Admin for scorecards (measures, thresholds, caps), alert rules, playbooks, alerts, tasks and snapshots."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from .models import (
    AccountHealth,
    Alert,
    AlertRule,
    DigestSent,
    HealthSnapshot,
    Measure,
    Playbook,
    PlaybookStep,
    ScoreCap,
    Scorecard,
    Task,
)
from .registry import MEASURES, provided_signals


class MeasureInline(admin.TabularInline):
    model = Measure
    extra = 0
    fields = ("key", "weight", "zero_at", "full_at")


class ScoreCapInline(admin.TabularInline):
    model = ScoreCap
    extra = 0
    fields = ("condition", "cap", "window_days", "threshold", "is_active")


@admin.register(Scorecard)
class ScorecardAdmin(admin.ModelAdmin):
    list_display = ("name", "segment", "green_from", "yellow_from", "updated_at")
    inlines = (MeasureInline, ScoreCapInline)
    readonly_fields = ("measure_guide",)
    fieldsets = (
        (None, {"fields": ("name", "segment", "description")}),
        (
            _("Grade bands"),
            {
                "fields": ("green_from", "yellow_from"),
                "description": _(
                    "Score ≥ green from: green. Score ≥ yellow from: yellow. Below: red. "
                    "Defaults: green from 70, yellow from 40."
                ),
            },
        ),
        (_("How measures score"), {"fields": ("measure_guide",)}),
    )
    actions = ("recompute_now",)

    @admin.display(description=_("Measures and their default thresholds"))
    def measure_guide(self, obj=None):
        provided = provided_signals()
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{} {}</td><td>{} {}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    spec.label,
                    spec.description,
                    f"{spec.zero_at:g}",
                    spec.unit,
                    f"{spec.full_at:g}",
                    spec.unit,
                    spec.weight,
                    _("yes") if key in provided else _("not yet (needs %(part)s)") % {"part": spec.needs},
                )
                for key, spec in MEASURES.items()
            ),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table><p>{}</p>",
            _("Measure"),
            _("Raw value"),
            _("Scores 0 at"),
            _("Scores 100 at"),
            _("Default weight"),
            _("Has data"),
            rows,
            _(
                "Between the two thresholds the score is linear; beyond them it stays at 0 or 100. A measure "
                "without data for an account is left out and the others re-weighted. The score is the "
                "weighted mean, rounded; a cap (exception) can then lower it."
            ),
        )

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.segment == "":
            return False  # the default scorecard stays: accounts without their own need it
        return super().has_delete_permission(request, obj)

    @admin.action(description=_("Recompute every account's score now (in the background)"))
    def recompute_now(self, request, queryset):
        from .tasks import health_scores_recompute_task

        transaction.on_commit(health_scores_recompute_task.delay)
        self.message_user(request, _("Recompute queued; scores update in a few minutes."), messages.SUCCESS)


class PlaybookStepInline(admin.TabularInline):
    model = PlaybookStep
    extra = 1
    fields = ("position", "title", "due_in_days", "priority", "notes")


@admin.register(Playbook)
class PlaybookAdmin(admin.ModelAdmin):
    list_display = ("name", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name",)
    inlines = (PlaybookStepInline,)


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "kind",
        "threshold",
        "grade",
        "severity",
        "playbook",
        "cooldown_days",
        "is_active",
    )
    list_filter = ("is_active", "kind", "severity")
    list_editable = ("is_active",)
    search_fields = ("name",)
    autocomplete_fields = ("playbook",)


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("account", "rule", "status", "severity", "opened_at", "snoozed_until", "outcome")
    list_filter = ("status", "severity", "rule", "outcome")
    search_fields = ("account__name", "details")
    raw_id_fields = ("account", "resolved_by")
    list_select_related = ("account", "rule")
    date_hierarchy = "opened_at"


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("title", "account", "owner", "due_date", "priority", "status", "snoozed_until")
    list_filter = ("status", "priority", "playbook")
    search_fields = ("title", "account__name", "owner__email", "owner__full_name")
    raw_id_fields = ("account", "owner", "alert", "created_by", "completed_by")
    list_select_related = ("account", "owner")
    date_hierarchy = "due_date"


@admin.register(HealthSnapshot)
class HealthSnapshotAdmin(admin.ModelAdmin):
    list_display = ("account", "day", "score", "grade", "capped_by")
    list_filter = ("grade", "day")
    search_fields = ("account__name",)
    raw_id_fields = ("account",)
    list_select_related = ("account",)
    show_full_result_count = False
    fields = ("account", "day", "score", "uncapped_score", "capped_by", "grade", "explained", "computed_at")
    readonly_fields = fields

    @admin.display(description=_("Measures: raw value, score, weight, points"))
    def explained(self, obj):
        rows = (
            (
                MEASURES[key].label if key in MEASURES else key,
                _("no data") if raw is None else f"{raw:g} {MEASURES[key].unit if key in MEASURES else ''}",
                "—" if score is None else f"{score:g}",
                weight,
                "—" if points is None else f"{points:g}",
            )
            for key, (raw, score, weight, points) in obj.measures.items()
        )
        return format_html(
            "<table><tbody>{}</tbody></table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AccountHealth)
class AccountHealthAdmin(admin.ModelAdmin):
    list_display = ("account", "day", "score", "grade", "change_7d", "change_30d")
    list_filter = ("grade",)
    search_fields = ("account__name",)
    list_select_related = ("account",)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DigestSent)
class DigestSentAdmin(admin.ModelAdmin):
    list_display = ("user", "day", "tasks", "alerts", "sent_at")
    list_filter = ("day",)

    def has_add_permission(self, request):
        return False
