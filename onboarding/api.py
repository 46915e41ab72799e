"""REST resources for onboarding: templates (read), plans (read) and milestones (read, update
status). Thin, like the views: serializers check shapes, ``onboarding.services`` applies the
rules (a done milestone needs its date, no date in the future or before the contract start, a
milestone never moves to another plan). Every queryset starts from the caller's portfolio, so
another CSM's plan or milestone is a 404.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers

from api.pagination import Pages
from api.viewsets import ApiGenericViewSet
from team.models import User

from . import selectors, services
from .models import (
    Milestone,
    MilestoneStatus,
    MilestoneTemplate,
    OnboardingPlan,
    PlanTemplate,
    ScheduleStatus,
    SuccessCriterion,
)

MAX_ID = 2**63 - 1


def _visible_plans(user: User) -> QuerySet[OnboardingPlan]:
    return selectors.visible_plans(user)


# Inline enums (no shared "StatusEnum" component to collide with other apps' "status" fields).
@extend_schema_field({"type": "string", "enum": MilestoneStatus.values})
class MilestoneStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=MilestoneStatus.choices, **kwargs)


@extend_schema_field({"type": "string", "enum": ScheduleStatus.values})
class ScheduleStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=ScheduleStatus.choices, **kwargs)


# ---------------------------------------------------------------- templates


class MilestoneTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = MilestoneTemplate
        fields = (
            "id",
            "position",
            "name",
            "description",
            "due_day",
            "owner_side",
            "weight",
            "delivers_value",
            "celebrate",
        )
        read_only_fields = fields


class PlanTemplateSerializer(serializers.ModelSerializer):
    milestones = MilestoneTemplateSerializer(many=True, read_only=True)

    class Meta:
        model = PlanTemplate
        fields = (
            "id",
            "name",
            "description",
            "segment",
            "account_plan",
            "auto_assign",
            "is_active",
            "milestones",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class PlanTemplateFilter(filters.FilterSet):
    class Meta:
        model = PlanTemplate
        fields = ("segment", "is_active", "auto_assign")


@extend_schema_view(
    list=extend_schema(
        summary="List onboarding plan templates", description="With their ordered milestones."
    ),
    retrieve=extend_schema(summary="Read an onboarding plan template"),
)
class PlanTemplateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiGenericViewSet):
    serializer_class = PlanTemplateSerializer
    pagination_class = Pages
    filter_backends = (filters.DjangoFilterBackend,)
    filterset_class = PlanTemplateFilter
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        return PlanTemplate.objects.prefetch_related(
            Prefetch("milestones", queryset=MilestoneTemplate.objects.order_by("position", "pk"))
        ).order_by("name", "pk")


# ---------------------------------------------------------------- milestones


class MilestoneSerializer(serializers.ModelSerializer):
    account = serializers.IntegerField(
        source="plan.account_id", read_only=True, help_text="The account's id."
    )
    done_by = serializers.SlugRelatedField(slug_field="email", read_only=True)
    overdue = serializers.SerializerMethodField(
        help_text="Past its due day (platform calendar) and not done."
    )
    status = MilestoneStatusField(required=False, help_text="not_started, in_progress, done or blocked.")
    done_on = serializers.DateField(
        required=False, allow_null=True, help_text="Required with status done; not in the future."
    )
    blocked_reason = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text="Required with status blocked."
    )
    plan = serializers.IntegerField(
        source="plan_id",
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="The plan's id. A milestone never moves to another plan (400).",
    )

    class Meta:
        model = Milestone
        fields = (
            "id",
            "plan",
            "account",
            "position",
            "name",
            "description",
            "due_date",
            "owner_side",
            "weight",
            "delivers_value",
            "celebrate",
            "status",
            "done_on",
            "done_by",
            "blocked_reason",
            "overdue",
            "updated_at",
        )
        read_only_fields = (
            "id",
            "account",
            "position",
            "name",
            "description",
            "due_date",
            "owner_side",
            "weight",
            "delivers_value",
            "celebrate",
            "done_by",
            "overdue",
            "updated_at",
        )

    @extend_schema_field(serializers.BooleanField())
    def get_overdue(self, obj: Milestone) -> bool:
        return obj.is_overdue(self.context.get("today") or timezone.localdate())

    def validate_plan(self, value: int) -> int:
        if self.instance is not None and value != self.instance.plan_id:
            raise serializers.ValidationError(
                _("A milestone stays on its plan; it cannot move to another account's plan.")
            )
        return value

    def update(self, instance: Milestone, validated_data: dict) -> Milestone:
        status = validated_data.get("status", instance.status)
        done_on = validated_data.get("done_on", instance.done_on if status == MilestoneStatus.DONE else None)
        reason = validated_data.get(
            "blocked_reason", instance.blocked_reason if status == MilestoneStatus.BLOCKED else ""
        )
        return services.milestone_status_set(
            milestone=instance,
            status=status,
            done_on=done_on,
            blocked_reason=reason,
            by=self.context["request"].user,
        )


class MilestoneFilter(filters.FilterSet):
    plan = filters.NumberFilter(field_name="plan_id", min_value=1, max_value=MAX_ID)
    account = filters.NumberFilter(field_name="plan__account_id", min_value=1, max_value=MAX_ID)
    account_external_id = filters.CharFilter(field_name="plan__account__external_id")
    overdue = filters.BooleanFilter(method="filter_overdue", help_text="Past due and not done.")

    class Meta:
        model = Milestone
        fields = ("status", "owner_side", "delivers_value")

    def filter_overdue(self, queryset, name, value):
        late = {"due_date__lt": timezone.localdate()}
        if value:
            return queryset.filter(**late).exclude(status=MilestoneStatus.DONE)
        return queryset.exclude(
            pk__in=queryset.filter(**late).exclude(status=MilestoneStatus.DONE).values("pk")
        )


@extend_schema_view(
    list=extend_schema(summary="List onboarding milestones", description="Filter by plan or account."),
    retrieve=extend_schema(summary="Read an onboarding milestone"),
    update=extend_schema(
        summary="Set a milestone's status",
        description=(
            "status: not_started, in_progress, done (with done_on) or blocked (with blocked_reason). "
            "Marking it done sends the milestone.completed webhook and, when the milestone "
            "celebrates, the congratulation email (once)."
        ),
    ),
    partial_update=extend_schema(summary="Change a milestone's status or done date"),
)
class MilestoneViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, ApiGenericViewSet
):
    serializer_class = MilestoneSerializer
    pagination_class = Pages
    filter_backends = (filters.DjangoFilterBackend,)
    filterset_class = MilestoneFilter
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        return (
            Milestone.objects.filter(plan__in=_visible_plans(self.request.user).values("pk"))
            .select_related("plan", "done_by")
            .order_by("plan_id", "position", "pk")
        )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}


# ---------------------------------------------------------------- plans


class SuccessCriterionSerializer(serializers.ModelSerializer):
    achieved = serializers.BooleanField(read_only=True)

    class Meta:
        model = SuccessCriterion
        fields = (
            "id",
            "metric",
            "unit",
            "baseline",
            "target",
            "current",
            "due_date",
            "achieved",
            "achieved_on",
            "updated_at",
        )
        read_only_fields = fields


class PlanMilestoneSerializer(serializers.ModelSerializer):
    done_by = serializers.SlugRelatedField(slug_field="email", read_only=True)
    status = serializers.CharField(read_only=True, help_text="not_started, in_progress, done or blocked.")

    class Meta:
        model = Milestone
        fields = (
            "id",
            "position",
            "name",
            "due_date",
            "owner_side",
            "weight",
            "delivers_value",
            "status",
            "done_on",
            "done_by",
            "blocked_reason",
        )
        read_only_fields = fields


class PlanProgressSerializer(serializers.Serializer):
    percent = serializers.IntegerField(help_text="Weighted progress, 0 to 100.")
    schedule = ScheduleStatusField(
        source="status", help_text="on_track, behind (a milestone is overdue) or done."
    )
    milestones = serializers.IntegerField()
    done = serializers.IntegerField()
    overdue = serializers.IntegerField()
    blocked = serializers.IntegerField()
    time_to_value_days = serializers.IntegerField(
        allow_null=True, source="ttv_days", help_text="Null until the first value milestone is done."
    )


class OnboardingPlanSerializer(serializers.ModelSerializer):
    account_external_id = serializers.CharField(source="account.external_id", read_only=True, allow_null=True)
    template = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    progress = serializers.SerializerMethodField()
    milestones = PlanMilestoneSerializer(many=True, read_only=True)
    criteria = SuccessCriterionSerializer(many=True, read_only=True)

    class Meta:
        model = OnboardingPlan
        fields = (
            "id",
            "account",
            "account_external_id",
            "template",
            "name",
            "start_date",
            "expectations",
            "progress",
            "milestones",
            "criteria",
            "criteria_reviewed_on",
            "completed_at",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    @extend_schema_field(PlanProgressSerializer)
    def get_progress(self, obj: OnboardingPlan) -> dict:
        summary = selectors.summary_of(obj, self.context.get("today"))
        return PlanProgressSerializer(summary).data


class PlanFilter(filters.FilterSet):
    account = filters.NumberFilter(field_name="account_id", min_value=1, max_value=MAX_ID)
    account_external_id = filters.CharFilter(field_name="account__external_id")
    template = filters.NumberFilter(field_name="template_id", min_value=1, max_value=MAX_ID)
    completed = filters.BooleanFilter(field_name="completed_at", lookup_expr="isnull", exclude=True)
    started_after = filters.DateFilter(field_name="start_date", lookup_expr="gte")
    started_before = filters.DateFilter(field_name="start_date", lookup_expr="lte")

    class Meta:
        model = OnboardingPlan
        fields: tuple = ()


@extend_schema_view(
    list=extend_schema(
        summary="List onboarding plans",
        description="Each with its progress (weighted), schedule status, time-to-value, milestones and "
        "success criteria.",
    ),
    retrieve=extend_schema(summary="Read an onboarding plan"),
)
class OnboardingPlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiGenericViewSet):
    serializer_class = OnboardingPlanSerializer
    pagination_class = Pages
    filter_backends = (filters.DjangoFilterBackend,)
    filterset_class = PlanFilter
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        today = timezone.localdate()
        return (
            selectors.with_summary(_visible_plans(self.request.user).select_related("account"), today=today)
            .prefetch_related(
                Prefetch(
                    "milestones",
                    queryset=Milestone.objects.select_related("done_by").order_by("position", "pk"),
                ),
                Prefetch("criteria", queryset=SuccessCriterion.objects.order_by("created_at", "pk")),
            )
            .order_by("-created_at", "-pk")
        )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}
