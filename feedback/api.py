"""REST resources for surveys, campaigns (create, launch, pause, resume, cancel, progress),
invitations and responses. Thin: serializers check shapes, the services apply the rules.

Visibility follows the pages: a CSM's token sees the campaigns that CSM created and the
invitations and answers of that CSM's accounts; another CSM's campaign is a 404. Invitation
tokens are never returned (a token answers the survey).
"""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.response import Response as ApiResponse

from accounts.api import MAX_ID, OwnerField
from accounts.models import Account
from api.filters import UtcDateTimeFilter
from api.pagination import Pages
from api.viewsets import ApiGenericViewSet

from . import selectors, services
from .models import (
    Answer,
    Campaign,
    Choice,
    Invitation,
    InvitationStatus,
    Question,
    Response,
    SkipReason,
    Survey,
)

# ---------------------------------------------------------------- surveys


class ChoiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Choice
        fields = ("id", "position", "label", "label_tr", "label_zh_hant")


class QuestionSerializer(serializers.ModelSerializer):
    choices = ChoiceSerializer(many=True, read_only=True)

    class Meta:
        model = Question
        fields = ("id", "position", "kind", "prompt", "prompt_tr", "prompt_zh_hant", "required", "choices")


class SurveySerializer(serializers.ModelSerializer):
    questions = QuestionSerializer(many=True, read_only=True)
    scale = serializers.SerializerMethodField()
    question_en = serializers.SerializerMethodField(help_text="The score question as customers read it.")

    class Meta:
        model = Survey
        fields = (
            "id",
            "name",
            "kind",
            "asks_score",
            "scale",
            "question_en",
            "is_active",
            "questions",
            "created_at",
        )

    def get_scale(self, survey) -> list[int] | None:
        return list(survey.scale) if survey.asks_score else None

    def get_question_en(self, survey) -> str:
        return survey.question_text("en") if survey.asks_score else ""


@extend_schema_view(
    list=extend_schema(
        summary="List surveys", description="NPS, CSAT, CES and custom surveys with their questions."
    ),
    retrieve=extend_schema(summary="Read a survey"),
)
class SurveyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiGenericViewSet):
    serializer_class = SurveySerializer
    pagination_class = Pages
    filter_backends = (filters.DjangoFilterBackend,)
    filterset_fields = ("kind", "is_active")
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        return Survey.objects.prefetch_related("questions__choices").order_by("name", "id")


# ---------------------------------------------------------------- campaigns


class ActiveSurveyField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {"does_not_exist": "No active survey with id {pk_value}."}

    def get_queryset(self):
        return Survey.objects.filter(is_active=True)


class CampaignSerializer(serializers.ModelSerializer):
    survey = ActiveSurveyField()
    account_owner = OwnerField(
        required=False, allow_null=True, help_text="Only accounts of this owner (email)."
    )
    accounts = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=1000,
        write_only=True,
        help_text="Only these accounts (ids of accounts you may see).",
    )
    account_ids = serializers.SerializerMethodField(
        help_text="The chosen accounts (empty: every account in scope)."
    )
    created_by = serializers.SlugRelatedField(slug_field="email", read_only=True)
    throttle_days = serializers.IntegerField(min_value=0, max_value=365, required=False, default=30)
    reminder_after_days = serializers.IntegerField(min_value=1, max_value=60, required=False, allow_null=True)
    recurrence_months = serializers.ChoiceField(choices=[3, 6, 12], required=False, allow_null=True)
    trigger_delay_days = serializers.IntegerField(min_value=0, max_value=365, required=False, default=0)

    class Meta:
        model = Campaign
        fields = (
            "id",
            "name",
            "survey",
            "status",
            "trigger",
            "trigger_delay_days",
            "segment",
            "tier",
            "lifecycle_stage",
            "account_owner",
            "contact_role",
            "accounts",
            "account_ids",
            "send_at",
            "reminder_after_days",
            "recurrence_months",
            "throttle_days",
            "created_by",
            "created_at",
            "launched_at",
        )
        read_only_fields = ("id", "status", "created_by", "created_at", "launched_at")

    def validate_accounts(self, ids: list[int]) -> list[Account]:
        ids = list(dict.fromkeys(ids))
        found = list(Account.objects.visible_to(self.context["request"].user).filter(pk__in=ids))
        missing = sorted(set(ids) - {a.pk for a in found})
        if missing:
            raise serializers.ValidationError(
                "No account with id {} in your portfolio.".format(", ".join(map(str, missing[:10])))
            )
        return found

    def get_account_ids(self, instance) -> list[int]:
        return [a.pk for a in instance.accounts.all()]


NO_BODY = {"application/json": OpenApiTypes.OBJECT}  # these actions take no fields: send {} or nothing


class ProgressSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    queued = serializers.IntegerField()
    sending = serializers.IntegerField()
    sent = serializers.IntegerField()
    failed = serializers.IntegerField()
    skipped = serializers.IntegerField()
    skipped_by_reason = serializers.DictField(child=serializers.IntegerField())
    cancelled = serializers.IntegerField()
    answered = serializers.IntegerField()
    percent = serializers.IntegerField()
    done = serializers.BooleanField()


def _campaign_kwargs(data: dict) -> dict:
    data = dict(data)
    if "accounts" in data:
        data["accounts"] = list(data["accounts"])
    return data


@extend_schema_view(
    list=extend_schema(summary="List survey campaigns"),
    retrieve=extend_schema(summary="Read a campaign"),
    create=extend_schema(
        summary="Create a draft campaign", description="Nothing is sent until it is launched."
    ),
    partial_update=extend_schema(summary="Change a draft campaign"),
)
class CampaignViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ApiGenericViewSet,
):
    serializer_class = CampaignSerializer
    pagination_class = Pages
    filter_backends = (filters.DjangoFilterBackend, SearchFilter, OrderingFilter)
    filterset_fields = ("status", "trigger")
    search_fields = ("name",)
    ordering_fields = ("created_at", "name", "send_at")
    ordering = ("-created_at", "-id")
    lookup_value_regex = "[0-9]{1,18}"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return (
            Campaign.objects.visible_to(self.request.user)
            .select_related("survey", "created_by", "account_owner")
            .prefetch_related("accounts")
        )

    def perform_create(self, serializer):
        serializer.instance = services.campaign_create(
            by=self.request.user, **_campaign_kwargs(serializer.validated_data)
        )

    def perform_update(self, serializer):
        serializer.instance = services.campaign_update(
            campaign=serializer.instance, by=self.request.user, **_campaign_kwargs(serializer.validated_data)
        )

    def _act(self, request, service):
        campaign = self.get_object()
        campaign = service(campaign=campaign, by=request.user)
        fresh = self.get_queryset().get(pk=campaign.pk)
        return ApiResponse(CampaignSerializer(fresh, context=self.get_serializer_context()).data)

    @extend_schema(summary="Launch a draft campaign", request=NO_BODY, responses={200: CampaignSerializer})
    @action(detail=True, methods=["post"])
    def launch(self, request, pk=None):
        return self._act(request, services.campaign_launch)

    @extend_schema(summary="Pause a campaign", request=NO_BODY, responses={200: CampaignSerializer})
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._act(request, services.campaign_pause)

    @extend_schema(summary="Resume a paused campaign", request=NO_BODY, responses={200: CampaignSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._act(request, services.campaign_resume)

    @extend_schema(summary="Cancel a campaign", request=NO_BODY, responses={200: CampaignSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._act(request, services.campaign_cancel)

    @extend_schema(summary="A campaign's sending progress", responses={200: ProgressSerializer})
    @action(detail=True, methods=["get"])
    def progress(self, request, pk=None):
        campaign = self.get_object()
        progress = selectors.campaign_progress(campaign=campaign)
        data = {
            **{k: getattr(progress, k) for k in ProgressSerializer().fields if k not in ("percent", "done")},
            "percent": progress.percent,
            "done": progress.done,
        }
        return ApiResponse(ProgressSerializer(data).data)


# ---------------------------------------------------------------- invitations and responses


class InvitationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Invitation
        fields = (
            "id",
            "campaign",
            "round",
            "contact",
            "account",
            "email",
            "language",
            "status",
            "skip_reason",
            "send_after",
            "sent_at",
            "message_id",
            "attempts",
            "last_error",
            "opened_at",
            "reminder_status",
            "reminded_at",
            "created_at",
        )
        read_only_fields = fields


class InvitationFilter(filters.FilterSet):
    campaign = filters.NumberFilter(field_name="campaign_id", min_value=1, max_value=MAX_ID)
    round = filters.NumberFilter(field_name="round_id", min_value=1, max_value=MAX_ID)
    account = filters.NumberFilter(field_name="account_id", min_value=1, max_value=MAX_ID)
    status = filters.ChoiceFilter(choices=InvitationStatus.choices)
    skip_reason = filters.ChoiceFilter(choices=[c for c in SkipReason.choices if c[0]])
    sent_after = UtcDateTimeFilter(field_name="sent_at", lookup_expr="gte")

    class Meta:
        model = Invitation
        fields = ("campaign", "round", "account", "status", "skip_reason")


@extend_schema_view(
    list=extend_schema(summary="List survey invitations (the outbox)"),
    retrieve=extend_schema(summary="Read an invitation"),
)
class InvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiGenericViewSet):
    serializer_class = InvitationSerializer
    pagination_class = Pages
    filter_backends = (filters.DjangoFilterBackend, OrderingFilter)
    filterset_class = InvitationFilter
    ordering_fields = ("created_at", "sent_at")
    ordering = ("-id",)
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        return selectors.visible_invitations(self.request.user)


class AnswerSerializer(serializers.ModelSerializer):
    choices = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Answer
        fields = ("question", "choices", "rating", "text")


class ResponseSerializer(serializers.ModelSerializer):
    answers = AnswerSerializer(many=True, read_only=True)
    follow_up_task = serializers.SerializerMethodField()

    class Meta:
        model = Response
        fields = (
            "id",
            "invitation",
            "campaign",
            "round",
            "survey",
            "account",
            "contact",
            "kind",
            "score",
            "band",
            "follow_up",
            "comment",
            "language",
            "answered_at",
            "updated_at",
            "revisions",
            "answers",
            "follow_up_task",
        )
        read_only_fields = fields

    def get_follow_up_task(self, response) -> int | None:
        record = getattr(response, "follow_up_record", None)
        return record.task_id if record else None


class ResponseFilter(filters.FilterSet):
    campaign = filters.NumberFilter(field_name="campaign_id", min_value=1, max_value=MAX_ID)
    account = filters.NumberFilter(field_name="account_id", min_value=1, max_value=MAX_ID)
    answered_after = UtcDateTimeFilter(field_name="answered_at", lookup_expr="gte")
    answered_before = UtcDateTimeFilter(field_name="answered_at", lookup_expr="lt")

    class Meta:
        model = Response
        fields = ("campaign", "account", "kind", "band")


@extend_schema_view(
    list=extend_schema(
        summary="List survey responses",
        description="Newest first; filter by campaign, account, kind, band, time.",
    ),
    retrieve=extend_schema(summary="Read a response"),
)
class ResponseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiGenericViewSet):
    serializer_class = ResponseSerializer
    pagination_class = Pages
    filter_backends = (filters.DjangoFilterBackend, SearchFilter)
    filterset_class = ResponseFilter
    search_fields = ("comment", "follow_up")
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        return (
            selectors.visible_responses(self.request.user)
            .select_related("follow_up_record")
            .prefetch_related("answers__choices")
            .order_by("-answered_at", "-id")
        )
