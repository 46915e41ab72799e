"""Admin for onboarding: templates with their milestones, plans with milestones and success
criteria, share links and the celebration emails sent.

Writes with a business rule go through ``onboarding.services``: a new plan is started by
``plan_start`` (milestones from the template), status changes by ``milestone_status_set`` (so
the webhook, the celebration and the signals follow), revoking by ``share_link_revoke``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, Value, When
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import (
    Celebration,
    Milestone,
    MilestoneStatus,
    MilestoneTemplate,
    OnboardingPlan,
    PlanTemplate,
    ShareLink,
    SuccessCriterion,
)
from .selectors import plan_summary

# ---------------------------------------------------------------- positions


class PositionForm(forms.ModelForm):
    """Rows of one parent may swap positions in one save: uniqueness is restored on save
    (``PositionedInlineMixin``), so it is not checked row by row against the old rows."""

    def validate_unique(self):
        exclude = self._get_validation_exclusions()
        exclude.add("position")
        try:
            self.instance.validate_unique(exclude=exclude)
            self.instance.validate_constraints(exclude=exclude)
        except ValidationError as exc:
            self._update_errors(exc)


class PositionedInlineMixin:
    form = PositionForm
    ordering = ("position", "pk")


def _save_positioned(formset, parent_field: str) -> None:
    """Save inline rows and number every row of the parent 0..n-1 in the order the positions
    ask (ties: existing rows first), without ever colliding on the unique (parent, position)."""
    parent = formset.instance
    instances = formset.save(commit=False)
    for obj in formset.deleted_objects:
        obj.delete()
    rows = formset.model.objects.filter(**{parent_field: parent})
    stored = dict(rows.values_list("pk", "position"))
    edited = {obj.pk: obj for obj in instances if obj.pk}
    keys = []
    for pk, position in stored.items():
        obj = edited.get(pk)
        keys.append(((obj.position if obj else position) or 0, 0, pk, obj or pk))
    for index, obj in enumerate(o for o in instances if not o.pk):
        keys.append((obj.position or 0, 1, index, obj))
    final = [item[3] for item in sorted(keys, key=lambda item: item[:3])]
    park = services._POSITION_PARK
    rows.update(position=F("position") + park)  # stored positions are below the park
    untouched = []
    for index, item in enumerate(final):
        if isinstance(item, int):
            untouched.append((item, index))
            continue
        item.position = index
        setattr(item, parent_field, parent)
        item.save()
    if untouched:
        rows.filter(pk__in=[pk for pk, _i in untouched]).update(
            position=Case(*[When(pk=pk, then=Value(i)) for pk, i in untouched], output_field=IntegerField())
        )
    formset.save_m2m()


# ---------------------------------------------------------------- templates


class MilestoneTemplateInline(PositionedInlineMixin, admin.TabularInline):
    model = MilestoneTemplate
    extra = 1
    fields = (
        "position",
        "name",
        "due_day",
        "owner_side",
        "weight",
        "delivers_value",
        "celebrate",
        "description",
    )
    formfield_overrides = {}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "description" and field is not None:
            field.widget = forms.Textarea(attrs={"rows": 1, "cols": 30})
        return field


@admin.register(PlanTemplate)
class PlanTemplateAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "segment",
        "account_plan",
        "auto_assign",
        "is_active",
        "milestone_count",
        "plan_count",
    )
    list_filter = ("is_active", "auto_assign", "segment")
    search_fields = ("name", "account_plan")
    inlines = [MilestoneTemplateInline]
    fields = ("name", "description", "segment", "account_plan", "auto_assign", "is_active")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(n_milestones=Count("milestones", distinct=True), n_plans=Count("plans", distinct=True))
        )

    @admin.display(description=_("milestones"), ordering="n_milestones")
    def milestone_count(self, obj):
        return obj.n_milestones

    @admin.display(description=_("plans"), ordering="n_plans")
    def plan_count(self, obj):
        return obj.n_plans

    def save_formset(self, request, form, formset, change):
        with transaction.atomic():
            _save_positioned(formset, "template")


# ---------------------------------------------------------------- plans


class MilestoneInline(PositionedInlineMixin, admin.TabularInline):
    model = Milestone
    extra = 0
    fields = (
        "position",
        "name",
        "due_date",
        "owner_side",
        "weight",
        "delivers_value",
        "celebrate",
        "status",
        "done_on",
        "done_by",
        "blocked_reason",
    )
    readonly_fields = ("status", "done_on", "done_by", "blocked_reason")
    show_change_link = True


class SuccessCriterionInline(admin.TabularInline):
    model = SuccessCriterion
    extra = 0
    fields = ("metric", "unit", "baseline", "current", "target", "due_date", "achieved_on")


class ShareLinkInline(admin.TabularInline):
    model = ShareLink
    extra = 0
    can_delete = False
    fields = ("selector_short", "language", "contact", "created_at", "created_by", "revoked_at", "views")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("link"))
    def selector_short(self, obj):
        return f"{obj.selector[:6]}…"


class PlanAdminForm(forms.ModelForm):
    class Meta:
        model = OnboardingPlan
        fields = ("account", "template", "name", "start_date", "expectations")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "start_date" in self.fields and not self.instance.pk:
            self.fields["start_date"].required = False
            self.fields["start_date"].help_text = _("Empty: the contract start.")
        if "name" in self.fields and not self.instance.pk:
            self.fields["name"].required = False
            self.fields["name"].help_text = _("Empty: the template's name.")
        if "template" in self.fields:
            self.fields["template"].queryset = PlanTemplate.objects.filter(is_active=True)

    def clean(self):
        data = super().clean()
        account = data.get("account")
        start = data.get("start_date")
        if account is not None and start is not None and start < account.contract_start:
            self.add_error(
                "start_date",
                _("The plan cannot start before the contract start (%(day)s).")
                % {"day": account.contract_start.isoformat()},
            )
        return data

    def _post_clean(self):
        if not self.instance.pk:
            # The service fills in the name and start date; check the rest (one plan per account).
            self.instance.name = self.instance.name or "-"
            if self.cleaned_data.get("start_date") is None and self.cleaned_data.get("account"):
                self.instance.start_date = self.cleaned_data["account"].contract_start
        super()._post_clean()


@admin.register(OnboardingPlan)
class OnboardingPlanAdmin(admin.ModelAdmin):
    form = PlanAdminForm
    list_display = ("account", "name", "template", "start_date", "progress", "completed_at")
    list_filter = ("template", ("completed_at", admin.EmptyFieldListFilter))
    search_fields = ("account__name", "account__domain", "name")
    raw_id_fields = ("account",)
    list_select_related = ("account", "template")
    inlines = [MilestoneInline, SuccessCriterionInline, ShareLinkInline]
    readonly_fields = ("completed_at", "criteria_reviewed_on", "created_by", "created_at", "plan_page")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("account", "template", "name", "start_date", "expectations")
        return (
            "account",
            "plan_page",
            "template",
            "name",
            "start_date",
            "expectations",
            "criteria_reviewed_on",
            "completed_at",
            "created_by",
            "created_at",
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (*self.readonly_fields, "account", "template", "start_date")

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    @admin.display(description=_("progress"))
    def progress(self, obj):
        summary = plan_summary(plan=obj)
        return f"{summary.percent}% · {summary.status_label}"

    @admin.display(description=_("page"))
    def plan_page(self, obj):
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), _("Open the plan page"))

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        plan = services.plan_start(
            account=form.cleaned_data["account"],
            template=form.cleaned_data.get("template"),
            start_date=form.cleaned_data.get("start_date"),
            by=request.user,
            name=form.cleaned_data.get("name") or "",
        )
        if form.cleaned_data.get("expectations"):
            services.plan_expectations_set(plan=plan, expectations=form.cleaned_data["expectations"])
        for field in plan._meta.concrete_fields:
            setattr(obj, field.attname, getattr(plan, field.attname))
        obj._state.adding = False

    def save_formset(self, request, form, formset, change):
        with transaction.atomic():
            if formset.model is Milestone:
                _save_positioned(formset, "plan")
                services.plan_refresh(plan=OnboardingPlan.objects.get(pk=form.instance.pk))
            else:
                formset.save()


@admin.register(Milestone)
class MilestoneAdmin(admin.ModelAdmin):
    list_display = ("name", "plan", "due_date", "status", "done_on", "owner_side", "delivers_value")
    list_filter = ("status", "owner_side", "delivers_value")
    search_fields = ("name", "plan__account__name")
    list_select_related = ("plan", "plan__account")
    raw_id_fields = ("plan", "template_milestone")
    readonly_fields = ("plan", "status", "done_on", "done_at", "done_by", "first_done_at", "blocked_reason")
    actions = ["mark_done_today", "mark_not_started"]

    def has_add_permission(self, request):
        return False  # milestones are added on their plan

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.plan_refresh(plan=OnboardingPlan.objects.get(pk=obj.plan_id))  # due date or weight

    def delete_model(self, request, obj):
        services.milestone_remove(milestone=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for milestone in queryset:
            services.milestone_remove(milestone=milestone, by=request.user)

    @admin.action(description=_("Mark done today (celebrations and webhooks follow)"))
    def mark_done_today(self, request, queryset):
        today = timezone.localdate()
        done = 0
        for milestone in queryset.select_related("plan__account"):
            if milestone.status == MilestoneStatus.DONE:
                continue
            try:
                services.milestone_status_set(
                    milestone=milestone, status="done", done_on=today, by=request.user
                )
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"{milestone}: {' '.join(exc.messages)}", messages.ERROR)
        self.message_user(
            request, ngettext("%d milestone marked done.", "%d milestones marked done.", done) % done
        )

    @admin.action(description=_("Mark not started"))
    def mark_not_started(self, request, queryset):
        for milestone in queryset:
            services.milestone_status_set(milestone=milestone, status="not_started", by=request.user)
        self.message_user(request, _("Done."))


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = (
        "plan",
        "language",
        "contact",
        "created_at",
        "created_by",
        "revoked_at",
        "views",
        "last_viewed_at",
    )
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "language")
    search_fields = ("plan__account__name",)
    list_select_related = ("plan", "plan__account", "contact", "created_by")
    fields = list_display
    readonly_fields = list_display
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # made on the plan page, where the link is shown

    @admin.action(description=_("Revoke the selected links"))
    def revoke(self, request, queryset):
        for link in queryset:
            services.share_link_revoke(link=link, by=request.user)
        self.message_user(request, _("Revoked."))


@admin.register(Celebration)
class CelebrationAdmin(admin.ModelAdmin):
    list_display = ("milestone", "email", "language", "status", "sent_at")
    list_filter = ("status", "language")
    search_fields = ("email", "milestone__name", "milestone__plan__account__name")
    list_select_related = ("milestone",)
    readonly_fields = ("milestone", "contact", "email", "language", "status", "created_at", "sent_at")

    def has_add_permission(self, request):
        return False
