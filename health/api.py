"""REST resources for health: scores with their explanation and history, alerts, tasks.

Thin, like the views: serializers check shapes, services apply the rules. Every queryset starts
from ``Account.objects.visible_to(user)`` (tasks: ``Task.objects.visible_to(user)``), so a CSM's
token sees that CSM's portfolio and anything else is a 404.

Registered on the v1 router in api/urls.py: ``health-scores``, ``alerts``, ``tasks`` and
``playbooks``.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Account
from api.pagination import Pages
from api.viewsets import ApiGenericViewSet
from team.models import User

from . import selectors, services
from .models import (
    AccountHealth,
    Alert,
    AlertOutcome,
    AlertStatus,
    Grade,
    Playbook,
    PlaybookStep,
    Priority,
    Task,
    TaskStatus,
)

MAX_ID = 2**63 - 1


# ---------------------------------------------------------------- scores


class HealthScoreSerializer(serializers.ModelSerializer):
    account = serializers.IntegerField(source="account_id", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)

    class Meta:
        model = AccountHealth
        fields = ("account", "account_name", "day", "score", "grade", "change_7d", "change_30d")
        read_only_fields = fields


class CapSerializer(serializers.Serializer):
    condition = serializers.CharField(help_text="The exception that capped the score, e.g. usage_collapsed.")
    label = serializers.CharField()
    points = serializers.FloatField(help_text="Points the cap took off (negative).")


class MeasureLineSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    raw = serializers.FloatField(allow_null=True, help_text="The measured value, in ``unit``.")
    unit = serializers.CharField(allow_blank=True)
    score = serializers.FloatField(allow_null=True, help_text="The measure's score, 0 to 100.")
    weight = serializers.IntegerField()
    share = serializers.FloatField(help_text="The most this measure could add, in points.")
    points = serializers.FloatField(
        allow_null=True, help_text="What it adds; the points add up to the score."
    )
    pulls_down = serializers.FloatField(help_text="Points it costs against a perfect score.")


class MissingMeasureSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    weight = serializers.IntegerField(help_text="Its weight, shared among the measures with data.")


class ChangeSerializer(serializers.Serializer):
    label = serializers.CharField()
    before = serializers.FloatField(allow_null=True)
    after = serializers.FloatField(allow_null=True)
    points = serializers.FloatField(help_text="Change in the measure's points since 7 days before.")


class HistoryPointSerializer(serializers.Serializer):
    day = serializers.DateField()
    score = serializers.IntegerField()


class HealthExplanationSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    day = serializers.DateField(allow_null=True, help_text="The day of the latest score; null: never scored.")
    score = serializers.IntegerField(allow_null=True, help_text="0 to 100; null when no measure has data.")
    grade = serializers.ChoiceField(choices=[*Grade.choices, ("", "none")], allow_blank=True)
    score_before_cap = serializers.IntegerField(allow_null=True)
    cap = CapSerializer(allow_null=True)
    change_7d = serializers.IntegerField(allow_null=True)
    change_30d = serializers.IntegerField(allow_null=True)
    measures = MeasureLineSerializer(many=True)
    no_data = MissingMeasureSerializer(many=True)
    since_last_week = ChangeSerializer(many=True)
    history = HistoryPointSerializer(many=True, help_text="Daily scores of the last 90 days, oldest first.")


class HealthScoreFilter(filters.FilterSet):
    grade = filters.ChoiceFilter(choices=Grade.choices)
    score_below = filters.NumberFilter(field_name="score", lookup_expr="lt")
    falling = filters.BooleanFilter(method="filter_falling", help_text="Down 5 points or more in 7 days.")

    class Meta:
        model = AccountHealth
        fields = ("grade",)

    def filter_falling(self, queryset, name, value):
        return queryset.filter(change_7d__lte=-5) if value else queryset


@extend_schema_view(
    list=extend_schema(
        summary="Current health scores", description="One row per scored account, worst first."
    ),
    retrieve=extend_schema(
        summary="An account's health, explained",
        description="The latest score with each measure's raw value, score, weight and points (they add "
        "up to the score), the measures without data, the cap if one applied, what changed since last "
        "week, and the daily history of the last 90 days. The id is the account's.",
        responses=HealthExplanationSerializer,
    ),
)
class HealthScoreViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiGenericViewSet):
    serializer_class = HealthScoreSerializer
    pagination_class = Pages
    filter_backends = (filters.DjangoFilterBackend,)
    filterset_class = HealthScoreFilter
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        accounts = Account.objects.visible_to(self.request.user).values("pk")
        return (
            AccountHealth.objects.filter(account__in=accounts, score__isnull=False)
            .select_related("account")
            .order_by("score", "account_id")
        )

    def retrieve(self, request, *args, **kwargs):
        account = get_object_or_404(Account.objects.visible_to(request.user), pk=kwargs["pk"])
        view = selectors.account_health(account=account)
        snapshot = view.snapshot
        if snapshot is None:
            document = {
                "account": account.pk,
                "day": None,
                "score": None,
                "grade": "",
                "score_before_cap": None,
                "cap": None,
                "change_7d": None,
                "change_30d": None,
                "measures": [],
                "no_data": [],
                "since_last_week": [],
                "history": [],
            }
            return Response(HealthExplanationSerializer(document).data)
        document = {
            "account": account.pk,
            "day": snapshot.day,
            "score": snapshot.score,
            "grade": snapshot.grade,
            "score_before_cap": snapshot.uncapped_score,
            "cap": {"condition": snapshot.capped_by, "label": view.cap_label, "points": view.cap_points}
            if snapshot.capped_by
            else None,
            "change_7d": view.change_7d,
            "change_30d": view.change_30d,
            "measures": [
                {
                    "key": line.key,
                    "label": line.label,
                    "raw": line.raw,
                    "unit": line.unit,
                    "score": line.score,
                    "weight": line.weight,
                    "share": line.share,
                    "points": line.contribution,
                    "pulls_down": line.lost,
                }
                for line in view.lines
            ],
            "no_data": [
                {"key": line.key, "label": line.label, "weight": line.weight} for line in view.missing
            ],
            "since_last_week": [
                {"label": c.label, "before": c.before, "after": c.after, "points": c.delta}
                for c in view.changes
            ],
            "history": [{"day": day, "score": score} for day, score in view.trend],
        }
        return Response(HealthExplanationSerializer(document).data)


# ---------------------------------------------------------------- alerts


class AlertSerializer(serializers.ModelSerializer):
    rule = serializers.CharField(source="rule.name", read_only=True)
    kind = serializers.CharField(source="rule.kind", read_only=True)
    opportunity = serializers.BooleanField(source="rule.is_opportunity", read_only=True)
    outcome = serializers.ChoiceField(
        choices=AlertOutcome.choices, allow_blank=True, read_only=True, help_text="Blank until resolved."
    )

    class Meta:
        model = Alert
        fields = (
            "id",
            "account",
            "rule",
            "kind",
            "opportunity",
            "severity",
            "status",
            "details",
            "opened_at",
            "snoozed_until",
            "resolved_at",
            "outcome",
            "outcome_note",
        )
        read_only_fields = fields


class SnoozeSerializer(serializers.Serializer):
    until = serializers.DateField(help_text="A day after today, within a year.")


class ResolveSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=AlertOutcome.choices)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class AlertFilter(filters.FilterSet):
    account = filters.NumberFilter(field_name="account_id", min_value=1, max_value=MAX_ID)
    status = filters.ChoiceFilter(choices=AlertStatus.choices)
    open = filters.BooleanFilter(method="filter_open", help_text="Open or snoozed (not resolved).")

    class Meta:
        model = Alert
        fields = ("status", "severity")

    def filter_open(self, queryset, name, value):
        return (
            queryset.exclude(status=AlertStatus.RESOLVED)
            if value
            else queryset.filter(status=AlertStatus.RESOLVED)
        )


@extend_schema_view(
    list=extend_schema(summary="List alerts", description="Newest first; filter by account, status, open."),
    retrieve=extend_schema(summary="Read an alert"),
    snooze=extend_schema(summary="Snooze an alert", request=SnoozeSerializer, responses=AlertSerializer),
    resolve=extend_schema(summary="Resolve an alert", request=ResolveSerializer, responses=AlertSerializer),
    reopen=extend_schema(
        summary="Open an alert again",
        description="Takes no fields: send {} or nothing.",
        request={"application/json": OpenApiTypes.OBJECT},
        responses=AlertSerializer,
    ),
)
class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiGenericViewSet):
    serializer_class = AlertSerializer
    pagination_class = Pages
    filter_backends = (filters.DjangoFilterBackend,)
    filterset_class = AlertFilter
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        accounts = Account.objects.visible_to(self.request.user).values("pk")
        return Alert.objects.filter(account__in=accounts).select_related("rule").order_by("-opened_at", "-id")

    @action(detail=True, methods=["post"])
    def snooze(self, request, pk=None):
        alert = self.get_object()
        data = SnoozeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = services.alert_snooze(alert=alert, until=data.validated_data["until"], by=request.user)
        return Response(AlertSerializer(alert).data)

    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        alert = self.get_object()
        data = ResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = services.alert_resolve(alert=alert, by=request.user, **data.validated_data)
        return Response(AlertSerializer(alert).data)

    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        alert = services.alert_reopen(alert=self.get_object(), by=request.user)
        return Response(AlertSerializer(alert).data)


# ---------------------------------------------------------------- tasks


@extend_schema_field(OpenApiTypes.INT)
class VisibleAccountField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {"does_not_exist": _("No account with id {pk_value} in your portfolio.")}

    def get_queryset(self):
        return Account.objects.visible_to(self.context["request"].user)


class TaskSerializer(serializers.ModelSerializer):
    account = VisibleAccountField()
    owner = serializers.SlugRelatedField(
        slug_field="email",
        queryset=User.objects.filter(is_active=True).exclude(role=""),
        required=False,
        allow_null=True,
        help_text="The owner's email; default: the account's owner.",
    )
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = (
            "id",
            "account",
            "title",
            "owner",
            "due_date",
            "priority",
            "status",
            "notes",
            "snoozed_until",
            "overdue",
            "alert",
            "created_at",
            "completed_at",
        )
        read_only_fields = ("id", "status", "snoozed_until", "alert", "created_at", "completed_at")

    def get_overdue(self, task: Task) -> bool:
        return task.is_overdue(timezone.localdate())


class TaskUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[TaskStatus.OPEN, TaskStatus.DONE], required=False)
    snoozed_until = serializers.DateField(required=False, help_text="Put the task off until this day.")
    owner = serializers.SlugRelatedField(
        slug_field="email", queryset=User.objects.filter(is_active=True).exclude(role=""), required=False
    )


class TaskFilter(filters.FilterSet):
    account = filters.NumberFilter(field_name="account_id", min_value=1, max_value=MAX_ID)
    owner = filters.CharFilter(field_name="owner__email", lookup_expr="iexact")
    overdue = filters.BooleanFilter(method="filter_overdue")

    class Meta:
        model = Task
        fields = ("status", "priority")

    def filter_overdue(self, queryset, name, value):
        today = timezone.localdate()
        if value:
            return queryset.filter(status=TaskStatus.OPEN, due_date__lt=today)
        return queryset.exclude(status=TaskStatus.OPEN, due_date__lt=today)


@extend_schema_view(
    list=extend_schema(
        summary="List tasks", description="A CSM's own; every task for managers. Soonest first."
    ),
    retrieve=extend_schema(summary="Read a task"),
    create=extend_schema(
        summary="Add a task", description="For the account's owner unless another is named."
    ),
    partial_update=extend_schema(
        summary="Complete, reopen, snooze or reassign a task",
        request=TaskUpdateSerializer,
        responses=TaskSerializer,
    ),
)
class TaskViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ApiGenericViewSet,
):
    serializer_class = TaskSerializer
    pagination_class = Pages
    filter_backends = (filters.DjangoFilterBackend,)
    filterset_class = TaskFilter
    lookup_value_regex = "[0-9]{1,18}"
    http_method_names = ("get", "post", "patch", "head", "options")

    def get_queryset(self):
        return (
            Task.objects.visible_to(self.request.user)
            .select_related("owner")
            .order_by("due_date", "-priority", "id")
        )

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.task_create(
            account=data["account"],
            title=data["title"],
            due_date=data["due_date"],
            owner=data.get("owner"),
            priority=data.get("priority", Priority.NORMAL),
            notes=data.get("notes", ""),
            by=self.request.user,
        )

    def partial_update(self, request, *args, **kwargs):
        task = self.get_object()
        data = TaskUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = data.validated_data
        if changes.get("status") == TaskStatus.DONE and task.status != TaskStatus.DONE:
            task = services.task_complete(task=task, by=request.user)
        elif changes.get("status") == TaskStatus.OPEN and task.status != TaskStatus.OPEN:
            task = services.task_reopen(task=task, by=request.user)
        if "snoozed_until" in changes:
            task = services.task_snooze(task=task, until=changes["snoozed_until"], by=request.user)
        if "owner" in changes:
            task = services.task_reassign(task=task, owner=changes["owner"], by=request.user)
        task = Task.objects.select_related("owner").get(pk=task.pk)
        return Response(TaskSerializer(task, context=self.get_serializer_context()).data)


# ---------------------------------------------------------------- playbooks


class PlaybookStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlaybookStep
        fields = ("position", "title", "due_in_days", "priority", "notes")
        read_only_fields = fields


class PlaybookSerializer(serializers.ModelSerializer):
    steps = PlaybookStepSerializer(many=True, read_only=True)

    class Meta:
        model = Playbook
        fields = ("id", "name", "description", "steps")
        read_only_fields = fields


class PlaybookApplySerializer(serializers.Serializer):
    account = VisibleAccountField(help_text="The account whose owner gets the tasks.")


@extend_schema_view(
    list=extend_schema(
        summary="List playbooks", description="The active playbooks with their ordered steps."
    ),
    retrieve=extend_schema(summary="Read a playbook"),
    apply=extend_schema(
        summary="Apply a playbook to an account",
        description="Each step becomes a task for the account's owner, due its days from today.",
        request=PlaybookApplySerializer,
        responses={201: TaskSerializer(many=True)},
    ),
)
class PlaybookViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiGenericViewSet):
    serializer_class = PlaybookSerializer
    pagination_class = Pages
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        return Playbook.objects.filter(is_active=True).prefetch_related("steps").order_by("name", "id")

    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        playbook = self.get_object()
        data = PlaybookApplySerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        tasks = services.playbook_apply(
            playbook=playbook, account=data.validated_data["account"], by=request.user
        )
        tasks = (
            Task.objects.filter(pk__in=[t.pk for t in tasks])
            .select_related("owner")
            .order_by("due_date", "id")
        )
        return Response(
            TaskSerializer(tasks, many=True, context=self.get_serializer_context()).data, status=201
        )
