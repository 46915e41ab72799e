"""REST resources of the loyalty programme under /api/v1/.

Thin: serializers check shapes, ``loyalty.services`` applies the rules. Every queryset starts
from ``Account.objects.visible_to(user)``: another portfolio's rows are a 404. Approving,
rejecting and fulfilling redemptions are for managers (403 otherwise).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Account, Contact
from api.pagination import Pages
from api.viewsets import ApiGenericViewSet, ApiView

from . import selectors, services
from .models import (
    AdvocacyAsk,
    AskKind,
    AskStatus,
    EarnEvent,
    LedgerEntry,
    Redemption,
    RedemptionChannel,
    RedemptionStatus,
    Referral,
    ReferralStatus,
    Reward,
)

ID_RE = "[0-9]{1,18}"


@extend_schema_field(OpenApiTypes.INT)
class VisibleAccountField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {"does_not_exist": _("No account with id {pk_value} in your portfolio.")}

    def get_queryset(self):
        return Account.objects.visible_to(self.context["request"].user)

    def to_internal_value(self, data):
        if (
            isinstance(data, bool)
            or not isinstance(data, int | str)
            or not str(data).isdigit()
            or len(str(data)) > 18
        ):
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.INT)
class VisibleContactField(VisibleAccountField):
    default_error_messages = {"does_not_exist": _("No contact with id {pk_value} in your portfolio.")}

    def get_queryset(self):
        return Contact.objects.filter(account__in=Account.objects.visible_to(self.context["request"].user))


# ---------------------------------------------------------------- ledger and awards


class LedgerEntrySerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="email", read_only=True)

    class Meta:
        model = LedgerEntry
        fields = (
            "id",
            "account",
            "contact",
            "kind",
            "event",
            "points",
            "balance_after",
            "reason",
            "source",
            "idempotency_key",
            "created_at",
            "expires_on",
            "created_by",
        )
        read_only_fields = fields


class LedgerFilter(filters.FilterSet):
    account = filters.NumberFilter(field_name="account_id")
    kind = filters.ChoiceFilter(choices=LedgerEntry._meta.get_field("kind").choices)

    class Meta:
        model = LedgerEntry
        fields = ("account", "kind")


@extend_schema_view(
    list=extend_schema(
        summary="List ledger entries", description="Newest first; filter by account and kind."
    ),
    retrieve=extend_schema(summary="Read a ledger entry"),
)
class LedgerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiGenericViewSet):
    serializer_class = LedgerEntrySerializer
    pagination_class = Pages
    filter_backends = (filters.DjangoFilterBackend,)
    filterset_class = LedgerFilter
    lookup_value_regex = ID_RE

    def get_queryset(self):
        accounts = Account.objects.visible_to(self.request.user).values("pk")
        return (
            LedgerEntry.objects.filter(account__in=accounts)
            .select_related("created_by")
            .order_by("-created_at", "-id")
        )


class AwardSerializer(serializers.Serializer):
    account = VisibleAccountField(help_text="The account's id.")
    event = serializers.ChoiceField(choices=EarnEvent.choices)
    idempotency_key = serializers.CharField(
        max_length=255, help_text="Unique per event occurrence, e.g. 'webinar:2026-05-01:contact-42'."
    )
    source = serializers.CharField(max_length=200, required=False, allow_blank=True, default="api")
    contact = VisibleContactField(required=False, allow_null=True, default=None)


class AwardResultSerializer(serializers.Serializer):
    awarded = serializers.BooleanField(
        help_text="False when no active rule covers the event or a cap is reached."
    )
    replayed = serializers.BooleanField(help_text="True when this key had already been awarded.")
    entry = LedgerEntrySerializer(allow_null=True)


@extend_schema_view(
    create=extend_schema(
        summary="Award points for an event",
        description="Points come from the event's earn rule, within its caps. The same idempotency_key "
        "never awards twice: the first entry is returned with replayed=true.",
        request=AwardSerializer,
        responses={201: AwardResultSerializer, 200: AwardResultSerializer},
    )
)
class AwardViewSet(ApiGenericViewSet):
    serializer_class = AwardSerializer

    def create(self, request):
        data = AwardSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        contact = values.get("contact")
        if contact is not None and contact.account_id != values["account"].pk:
            raise serializers.ValidationError({"contact": [_("Choose a contact of this account.")]})
        existed = LedgerEntry.objects.filter(idempotency_key=values["idempotency_key"]).first()
        if existed is not None and existed.account_id != values["account"].pk:
            raise serializers.ValidationError(
                {"idempotency_key": [_("This key was used for another account.")]}
            )
        result = services.points_award(
            account=values["account"],
            event=values["event"],
            source=values["source"] or "api",
            idempotency_key=values["idempotency_key"],
            contact=contact,
        )
        entry = result.entry
        if entry is not None and entry.account_id != values["account"].pk:  # raced another account
            raise serializers.ValidationError(
                {"idempotency_key": [_("This key was used for another account.")]}
            )
        body = {
            "awarded": entry is not None,
            "replayed": entry is not None and not result.created,
            "entry": LedgerEntrySerializer(entry).data if entry else None,
        }
        created = result.created
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


# ---------------------------------------------------------------- rewards and redemptions


class RewardSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reward
        fields = (
            "id",
            "name",
            "kind",
            "description",
            "cost",
            "stock",
            "per_account_limit",
            "active_from",
            "active_until",
            "is_active",
        )
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="List rewards"), retrieve=extend_schema(summary="Read a reward")
)
class RewardViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiGenericViewSet):
    serializer_class = RewardSerializer
    pagination_class = Pages
    lookup_value_regex = ID_RE

    def get_queryset(self):
        return Reward.objects.order_by("cost", "name", "id")


class RedemptionSerializer(serializers.ModelSerializer):
    account = VisibleAccountField()
    contact = VisibleContactField(required=False, allow_null=True)
    reward = serializers.PrimaryKeyRelatedField(queryset=Reward.objects.all())
    requested_by = serializers.SlugRelatedField(slug_field="email", read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="email", read_only=True)

    class Meta:
        model = Redemption
        fields = (
            "id",
            "account",
            "contact",
            "reward",
            "points",
            "status",
            "channel",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "fulfilment_code",
            "fulfilment_notes",
            "fulfilled_at",
        )
        read_only_fields = tuple(f for f in fields if f not in ("account", "contact", "reward"))


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class FulfilSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RedemptionFilter(filters.FilterSet):
    account = filters.NumberFilter(field_name="account_id")
    status = filters.ChoiceFilter(choices=RedemptionStatus.choices)

    class Meta:
        model = Redemption
        fields = ("account", "status")


@extend_schema_view(
    list=extend_schema(summary="List redemptions"),
    retrieve=extend_schema(summary="Read a redemption"),
    create=extend_schema(summary="Request a reward (holds the points)"),
    approve=extend_schema(
        summary="Approve (managers)", request=DecisionSerializer, responses=RedemptionSerializer
    ),
    reject=extend_schema(
        summary="Reject, or return an approved one (managers); the points come back",
        request=DecisionSerializer,
        responses=RedemptionSerializer,
    ),
    fulfil=extend_schema(
        summary="Mark fulfilled (managers)", request=FulfilSerializer, responses=RedemptionSerializer
    ),
)
class RedemptionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ApiGenericViewSet
):
    serializer_class = RedemptionSerializer
    pagination_class = Pages
    filter_backends = (filters.DjangoFilterBackend,)
    filterset_class = RedemptionFilter
    lookup_value_regex = ID_RE

    def get_queryset(self):
        accounts = Account.objects.visible_to(self.request.user).values("pk")
        return (
            Redemption.objects.filter(account__in=accounts)
            .select_related("requested_by", "decided_by")
            .order_by("-requested_at", "-id")
        )

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.redemption_request(
            account=data["account"],
            reward=data["reward"],
            contact=data.get("contact"),
            by=self.request.user,
            channel=RedemptionChannel.API,
        )

    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        redemption = services.redemption_approve(
            redemption=self.get_object(), by=request.user, **data.validated_data
        )
        return Response(RedemptionSerializer(redemption, context={"request": request}).data)

    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        redemption = services.redemption_reject(
            redemption=self.get_object(), by=request.user, **data.validated_data
        )
        return Response(RedemptionSerializer(redemption, context={"request": request}).data)

    @action(detail=True, methods=["post"])
    def fulfil(self, request, pk=None):
        data = FulfilSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        redemption = services.redemption_fulfil(
            redemption=self.get_object(), by=request.user, **data.validated_data
        )
        return Response(RedemptionSerializer(redemption, context={"request": request}).data)


# ---------------------------------------------------------------- referrals and advocacy


class ReferralSerializer(serializers.ModelSerializer):
    class Meta:
        model = Referral
        fields = (
            "id",
            "referrer_account",
            "referrer_contact",
            "company_name",
            "domain",
            "contact_name",
            "contact_email",
            "status",
            "flags",
            "submitted_at",
            "reviewed_at",
            "review_note",
            "converted_account",
            "converted_at",
        )
        read_only_fields = fields


class ReviewSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["qualify", "reject"])
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ReferralFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=ReferralStatus.choices)
    domain = filters.CharFilter(field_name="domain", lookup_expr="iexact")

    class Meta:
        model = Referral
        fields = ("status", "domain")


@extend_schema_view(
    list=extend_schema(summary="List referrals"),
    retrieve=extend_schema(summary="Read a referral"),
    review=extend_schema(
        summary="Qualify or reject (flagged ones: managers)",
        request=ReviewSerializer,
        responses=ReferralSerializer,
    ),
)
class ReferralViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiGenericViewSet):
    serializer_class = ReferralSerializer
    pagination_class = Pages
    filter_backends = (filters.DjangoFilterBackend,)
    filterset_class = ReferralFilter
    lookup_value_regex = ID_RE

    def get_queryset(self):
        accounts = Account.objects.visible_to(self.request.user).values("pk")
        return Referral.objects.filter(referrer_account__in=accounts).order_by("-submitted_at", "-id")

    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        referral = self.get_object()  # another portfolio's referral is a 404 whatever the body
        data = ReviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        referral = services.referral_review(referral=referral, by=request.user, **data.validated_data)
        return Response(ReferralSerializer(referral).data)


class AskSerializer(serializers.ModelSerializer):
    contact = VisibleContactField()
    kind = serializers.ChoiceField(choices=AskKind.choices)
    asked_by = serializers.SlugRelatedField(slug_field="email", read_only=True)

    class Meta:
        model = AdvocacyAsk
        fields = ("id", "contact", "kind", "status", "notes", "link", "asked_by", "asked_at", "done_at")
        read_only_fields = ("id", "status", "link", "asked_by", "asked_at", "done_at")


class AskMoveSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[s for s in AskStatus.values if s != AskStatus.ASKED])
    link = serializers.URLField(required=False, allow_blank=True, default="", max_length=200)


@extend_schema_view(
    list=extend_schema(summary="List advocacy asks"),
    retrieve=extend_schema(summary="Read an advocacy ask"),
    create=extend_schema(
        summary="Ask an advocate for a review, case study, reference call, testimonial or talk"
    ),
    move=extend_schema(
        summary="Move an ask (accepted, done, declined); done earns points",
        request=AskMoveSerializer,
        responses=AskSerializer,
    ),
)
class AdvocacyAskViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ApiGenericViewSet
):
    serializer_class = AskSerializer
    pagination_class = Pages
    lookup_value_regex = ID_RE

    def get_queryset(self):
        accounts = Account.objects.visible_to(self.request.user).values("pk")
        return (
            AdvocacyAsk.objects.filter(contact__account__in=accounts)
            .select_related("asked_by")
            .order_by("-asked_at", "-id")
        )

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.advocacy_ask_create(
            contact=data["contact"], kind=data["kind"], by=self.request.user, notes=data.get("notes", "")
        )

    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        ask = self.get_object()  # another portfolio's ask is a 404 whatever the body
        data = AskMoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ask = services.advocacy_ask_update(ask=ask, by=request.user, **data.validated_data)
        return Response(AskSerializer(ask, context={"request": request}).data)


# ---------------------------------------------------------------- metrics


class ProgrammeMetricsSerializer(serializers.Serializer):
    issued = serializers.IntegerField()
    redeemed = serializers.IntegerField()
    expired = serializers.IntegerField()
    deducted = serializers.IntegerField(help_text="Points taken away by managers' negative adjustments.")
    outstanding = serializers.IntegerField(help_text="The liability: the sum of every ledger entry.")
    redemption_rate = serializers.FloatField(allow_null=True)
    referrals = serializers.IntegerField()
    referrals_converted = serializers.IntegerField()
    referral_conversion = serializers.FloatField(allow_null=True)
    referred_mrr = serializers.DecimalField(max_digits=16, decimal_places=2)
    members = serializers.IntegerField()
    member_retention = serializers.FloatField(allow_null=True)
    non_members = serializers.IntegerField()
    non_member_retention = serializers.FloatField(allow_null=True)
    member_nps = serializers.FloatField(allow_null=True)
    non_member_nps = serializers.FloatField(allow_null=True)
    pending_redemptions = serializers.IntegerField()
    flagged_referrals = serializers.IntegerField()


class ProgrammeMetricsView(ApiView):
    @extend_schema(
        summary="Programme metrics",
        description="Over the accounts the caller sees. A ratio without data is null.",
        responses=ProgrammeMetricsSerializer,
    )
    def get(self, request):
        return Response(ProgrammeMetricsSerializer(selectors.programme_metrics(user=request.user)).data)
