"""REST resources for accounts, contacts, MRR movements, touchpoints and usage events.

Thin, like the views: serializers check types and shapes, then a service in
``accounts.services`` / ``accounts.services_sync`` applies the business rules. Every queryset
starts from ``Account.objects.visible_to(user)``, so a CSM's token sees that CSM's portfolio
and another portfolio's account is a 404.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.response import Response

from api.exceptions import PayloadTooLarge
from api.filters import UtcDateTimeFilter
from api.pagination import EventCursor, Pages
from api.viewsets import ApiGenericViewSet
from team.models import User

from . import services, services_privacy, services_sync
from .models import Account, ChurnReason, Contact, MrrMovement, Touchpoint, UsageEvent

MAX_ID = 2**63 - 1
ACCOUNTS_BATCH_MAX = 1_000
MOVEMENTS_BATCH_MAX = 1_000


def visible_accounts(user: User) -> QuerySet[Account]:
    return Account.objects.visible_to(user)


# ---------------------------------------------------------------- fields


class SafePrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related id: a whole number within the database's range, visible to the caller."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            value = int(data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 0 < value <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(value)


class VisibleAccountField(SafePrimaryKeyRelatedField):
    default_error_messages = {"does_not_exist": _("No account with id {pk_value} in your portfolio.")}

    def get_queryset(self):
        return visible_accounts(self.context["request"].user)


class OwnerField(serializers.SlugRelatedField):
    """The owner by email; null for no owner."""

    default_error_messages = {
        "does_not_exist": _("No active staff member with the email {value}."),
        "invalid": _("Give the owner's email address."),
    }

    def __init__(self, **kwargs):
        super().__init__(
            slug_field="email",
            queryset=User.objects.filter(is_active=True).exclude(role=""),
            **kwargs,
        )

    def to_internal_value(self, data):
        if not isinstance(data, str) or len(data) > 254:
            self.fail("invalid")
        return super().to_internal_value(data.strip().lower())


class AccountRefMixin(serializers.Serializer):
    """``account`` (id) or ``account_external_id`` (the CRM's id) names the account."""

    account = VisibleAccountField(required=False, help_text="The account's id.")
    account_external_id = serializers.CharField(
        write_only=True, required=False, max_length=100, help_text="Or the account's CRM id."
    )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        external_id = attrs.pop("account_external_id", None)
        if external_id is not None:
            account = visible_accounts(self.context["request"].user).filter(external_id=external_id).first()
            if account is None:
                raise ValidationError(
                    {"account_external_id": [_("No account with this CRM id in your portfolio.")]}
                )
            if "account" in attrs and attrs["account"].pk != account.pk:
                raise ValidationError({"account_external_id": [_("This CRM id is not that account's.")]})
            attrs["account"] = account
        if "account" not in attrs and not (self.instance and self.partial):
            raise ValidationError(
                {"account": [_("Give the account's id (account) or CRM id (account_external_id).")]}
            )
        return attrs


# ---------------------------------------------------------------- accounts


class AccountSerializer(serializers.ModelSerializer):
    owner = OwnerField(required=False, allow_null=True, help_text="The owning CSM's email.")
    parent = VisibleAccountField(required=False, allow_null=True, help_text="The parent account's id.")
    arr = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    churn_reason = serializers.ChoiceField(choices=ChurnReason.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Account
        fields = (
            "id",
            "external_id",
            "name",
            "domain",
            "segment",
            "tier",
            "plan",
            "lifecycle_stage",
            "owner",
            "contract_start",
            "renewal_date",
            "acquisition_cost",
            "currency",
            "parent",
            "mrr",
            "arr",
            "churned_at",
            "churn_reason",
            "last_touch_at",
            "created_at",
            "updated_at",
        )
        read_only_fields = (
            "id",
            "mrr",
            "arr",
            "churned_at",
            "churn_reason",
            "last_touch_at",
            "created_at",
            "updated_at",
        )
        extra_kwargs = {
            "external_id": {"validators": [], "allow_blank": False},
            "currency": {"min_length": 3},
            "acquisition_cost": {"min_value": 0},
        }
        validators: list = []


class AccountUpsertSerializer(AccountSerializer):
    """The whole account as the CRM knows it; the CRM id is in the address."""

    class Meta(AccountSerializer.Meta):
        fields = tuple(name for name in AccountSerializer.Meta.fields if name != "external_id")


class AccountSyncRowSerializer(AccountSerializer):
    class Meta(AccountSerializer.Meta):
        extra_kwargs = {
            **AccountSerializer.Meta.extra_kwargs,
            "external_id": {"validators": [], "required": True},
        }


class AccountBulkUpsertSerializer(serializers.Serializer):
    """The request body's shape (rows are checked one by one in the view, so one bad row
    does not refuse the batch)."""

    accounts = AccountSyncRowSerializer(
        many=True,
        max_length=ACCOUNTS_BATCH_MAX,
        help_text="Up to 1,000 accounts, each with its external_id.",
    )


class AccountSyncRowResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["created", "updated", "unchanged", "rejected"])
    id = serializers.IntegerField(allow_null=True)
    external_id = serializers.CharField(allow_null=True)
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class AccountBulkUpsertResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = AccountSyncRowResultSerializer(many=True)


class AccountFilter(filters.FilterSet):
    owner = filters.CharFilter(field_name="owner__email", lookup_expr="iexact", help_text="Owner's email.")
    external_id = filters.CharFilter()
    renewal_after = filters.DateFilter(field_name="renewal_date", lookup_expr="gte")
    renewal_before = filters.DateFilter(field_name="renewal_date", lookup_expr="lte")
    mrr_min = filters.NumberFilter(field_name="mrr", lookup_expr="gte", max_digits=14, decimal_places=2)
    mrr_max = filters.NumberFilter(field_name="mrr", lookup_expr="lte", max_digits=14, decimal_places=2)
    updated_since = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Account
        fields = ("segment", "tier", "lifecycle_stage")


@extend_schema_view(
    list=extend_schema(
        summary="List accounts", description="Filter, search (name, domain, CRM id), order, page."
    ),
    retrieve=extend_schema(summary="Read an account"),
    create=extend_schema(summary="Create an account", description="A CSM's new account is theirs."),
    update=extend_schema(summary="Replace an account's fields"),
    partial_update=extend_schema(summary="Change some of an account's fields"),
)
class AccountViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ApiGenericViewSet,
):
    serializer_class = AccountSerializer
    pagination_class = Pages
    filter_backends = (filters.DjangoFilterBackend, SearchFilter, OrderingFilter)
    filterset_class = AccountFilter
    search_fields = ("name", "domain", "external_id")
    ordering_fields = (
        "name",
        "mrr",
        "renewal_date",
        "contract_start",
        "created_at",
        "updated_at",
        "last_touch_at",
    )
    ordering = ("name", "id")
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        return visible_accounts(self.request.user).select_related("owner")

    def perform_create(self, serializer):
        serializer.instance = services_sync.account_add(
            data=serializer.validated_data, actor=self.request.user
        )

    def perform_update(self, serializer):
        serializer.instance = services_sync.account_change(
            account=serializer.instance, data=serializer.validated_data, actor=self.request.user
        )

    def _by_external_id(self, external_id: str) -> Account:
        return get_object_or_404(self.get_queryset(), external_id=external_id)

    @extend_schema(
        methods=["GET"],
        summary="Read an account by its CRM id",
        responses={200: AccountSerializer},
    )
    @extend_schema(
        methods=["PUT"],
        summary="Upsert an account by its CRM id",
        description=(
            "Creates the account (201) or brings it in line with the body (200). Sending the same "
            "body again changes nothing, so a nightly sync can resend everything. An id that "
            "belongs to another CSM's account is a 404 for a CSM's token."
        ),
        request=AccountUpsertSerializer,
        responses={200: AccountSerializer, 201: AccountSerializer},
    )
    @action(
        detail=False,
        methods=["get", "put"],
        url_path=r"by-external-id/(?P<external_id>[^/]{1,100})",
        serializer_class=AccountUpsertSerializer,
    )
    def by_external_id(self, request, external_id: str):
        if request.method == "GET":
            return Response(
                AccountSerializer(
                    self._by_external_id(external_id), context=self.get_serializer_context()
                ).data
            )
        existing = visible_accounts(request.user).filter(external_id=external_id.strip()).first()
        serializer = AccountUpsertSerializer(
            data=request.data, instance=existing, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        try:
            account, created = services_sync.account_upsert(
                external_id=external_id, data=serializer.validated_data, actor=request.user
            )
        except Account.DoesNotExist:
            raise NotFound() from None
        body = AccountSerializer(account, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        summary="Upsert many accounts by CRM id",
        description=(
            "Up to 1,000 accounts, each with its external_id; each row is created, updated, left "
            "unchanged or rejected on its own (a bad row does not stop the others)."
        ),
        request=AccountBulkUpsertSerializer,
        responses={200: AccountBulkUpsertResultSerializer},
    )
    @action(
        detail=False, methods=["post"], url_path="bulk-upsert", serializer_class=AccountBulkUpsertSerializer
    )
    def bulk_upsert(self, request):
        rows = request.data.get("accounts") if isinstance(request.data, dict) else None
        if not isinstance(rows, list):
            raise ValidationError({"accounts": [_("Send {'accounts': [...]}, a list of accounts.")]})
        if len(rows) > ACCOUNTS_BATCH_MAX:
            raise PayloadTooLarge(
                _("At most %(max)s accounts per request.") % {"max": f"{ACCOUNTS_BATCH_MAX:,}"}
            )
        results: list[dict] = []
        valid_rows: list[tuple[int, dict]] = []
        for index, row in enumerate(rows):
            serializer = AccountSyncRowSerializer(data=row, context=self.get_serializer_context())
            if not serializer.is_valid():
                results.append(
                    {
                        "index": index,
                        "status": "rejected",
                        "id": None,
                        "external_id": None,
                        "errors": serializer.errors,
                    }
                )
            else:
                valid_rows.append((index, serializer.validated_data))
        outcomes = services_sync.accounts_upsert_many(
            rows=[row for _i, row in valid_rows], actor=request.user
        )
        for (index, row), outcome in zip(valid_rows, outcomes, strict=True):
            results.append(
                {
                    "index": index,
                    "status": outcome.status,
                    "id": outcome.account.pk if outcome.account else None,
                    "external_id": row.get("external_id"),
                    "errors": outcome.errors,
                }
            )
        results.sort(key=lambda item: item["index"])
        counts = {
            name: sum(1 for r in results if r["status"] == name)
            for name in ("created", "updated", "unchanged", "rejected")
        }
        return Response({**counts, "results": results})


# ---------------------------------------------------------------- contacts


class ContactSerializer(AccountRefMixin, serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = (
            "id",
            "account",
            "account_external_id",
            "name",
            "email",
            "role",
            "language",
            "accepts_surveys",
            "created_at",
        )
        read_only_fields = ("id", "created_at")
        validators: list = []


class ContactUpdateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ("id", "account", "name", "email", "role", "language", "accepts_surveys", "created_at")
        read_only_fields = ("id", "account", "created_at")
        validators: list = []


class ContactFilter(filters.FilterSet):
    account = filters.NumberFilter(field_name="account_id", min_value=1, max_value=MAX_ID)
    account_external_id = filters.CharFilter(field_name="account__external_id")
    email = filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Contact
        fields = ("role", "language")


class ErasureRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text="e.g. the request's reference; audited."
    )


class ErasureSerializer(serializers.Serializer):
    contact = serializers.IntegerField(help_text="The erased contact's id (the row stays, anonymised).")
    changed = serializers.DictField(
        child=serializers.IntegerField(), help_text="Rows changed, by kind (0 everywhere on a second run)."
    )


@extend_schema_view(
    list=extend_schema(summary="List contacts"),
    retrieve=extend_schema(summary="Read a contact"),
    create=extend_schema(summary="Add a contact to an account"),
    update=extend_schema(
        summary="Replace a contact's fields",
        request=ContactUpdateSerializer,
        responses=ContactUpdateSerializer,
    ),
    partial_update=extend_schema(
        summary="Change some of a contact's fields",
        request=ContactUpdateSerializer,
        responses=ContactUpdateSerializer,
    ),
)
class ContactViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ApiGenericViewSet,
):
    serializer_class = ContactSerializer
    pagination_class = Pages
    filter_backends = (filters.DjangoFilterBackend, SearchFilter, OrderingFilter)
    filterset_class = ContactFilter
    search_fields = ("name", "email")
    ordering_fields = ("name", "email", "created_at")
    ordering = ("name", "id")
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        return Contact.objects.filter(account__in=visible_accounts(self.request.user).values("pk"))

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return ContactUpdateSerializer
        return super().get_serializer_class()

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        account = data.pop("account")
        serializer.instance = services.contact_create(account=account, **data)

    def perform_update(self, serializer):
        serializer.instance = services_sync.contact_change(
            contact=serializer.instance, data=serializer.validated_data
        )

    @extend_schema(
        summary="Upsert a contact by account and email",
        description="Creates the account's contact with this email (201) or updates it (200); idempotent.",
        request=ContactSerializer,
        responses={200: ContactSerializer, 201: ContactSerializer},
    )
    @action(detail=False, methods=["post"], url_path="upsert")
    def upsert(self, request):
        serializer = ContactSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        account = data.pop("account")
        contact, created = services_sync.contact_upsert(account=account, email=data.pop("email"), data=data)
        body = ContactSerializer(contact, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    # Data rights (docs/security.md): managers and admins only; a CSM gets 403 on their own
    # account's contact and 404 on another portfolio's, like every other contact address.

    def _privacy_contact(self, request) -> Contact:
        contact = self.get_object()
        if not request.user.sees_all_accounts:
            raise PermissionDenied(_("Only managers and admins export or erase a contact's personal data."))
        return contact

    @extend_schema(
        summary="Everything stored about a contact (data access and portability)",
        description="Survey invitations and answers, touchpoints and usage events that name them, "
        "loyalty entries, referrals and asks, onboarding links and emails. Audited. Managers and admins.",
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"], url_path="personal-data")
    def personal_data(self, request, pk=None):
        contact = self._privacy_contact(request)
        return Response(services_privacy.contact_data_export(contact=contact, by=request.user))

    @extend_schema(
        summary="Erase a contact's personal data",
        description="Anonymises the contact and removes their words and address everywhere; scores, "
        "points and counts stay, so no figure changes. Idempotent. Audited. Managers and admins.",
        request=ErasureRequestSerializer,
        responses={200: ErasureSerializer},
    )
    @action(detail=True, methods=["post"], url_path="erase")
    def erase(self, request, pk=None):
        contact = self._privacy_contact(request)
        body = ErasureRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = services_privacy.contact_erase(
            contact=contact, by=request.user, reason=body.validated_data.get("reason", "")
        )
        return Response(ErasureSerializer(report.as_dict()).data)


# ---------------------------------------------------------------- MRR movements


class MrrMovementSerializer(AccountRefMixin, serializers.ModelSerializer):
    amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="Size of the change (positive) in `currency`. "
        "Read back: signed, in the reporting currency.",
    )
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$", write_only=True, required=False, help_text="ISO 4217; default the account's."
    )
    churn_reason = serializers.ChoiceField(
        choices=ChurnReason.choices, write_only=True, required=False, allow_blank=True
    )

    class Meta:
        model = MrrMovement
        fields = (
            "id",
            "account",
            "account_external_id",
            "kind",
            "date",
            "amount",
            "currency",
            "churn_reason",
            "original_amount",
            "original_currency",
            "fx_rate",
            "note",
            "created_at",
        )
        read_only_fields = ("id", "original_amount", "original_currency", "fx_rate", "created_at")


class MrrMovementBatchSerializer(serializers.Serializer):
    movements = MrrMovementSerializer(many=True, max_length=MOVEMENTS_BATCH_MAX, allow_empty=False)


class MrrMovementFilter(filters.FilterSet):
    account = filters.NumberFilter(field_name="account_id", min_value=1, max_value=MAX_ID)
    account_external_id = filters.CharFilter(field_name="account__external_id")
    date_after = filters.DateFilter(field_name="date", lookup_expr="gte")
    date_before = filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = MrrMovement
        fields = ("kind",)


def _movement_args(data: dict) -> dict:
    return {
        "account": data["account"],
        "kind": data["kind"],
        "date": data["date"],
        "amount": data.get("amount"),
        "currency": data.get("currency"),
        "churn_reason": data.get("churn_reason", ""),
        "note": data.get("note", ""),
    }


@extend_schema_view(
    list=extend_schema(summary="List MRR movements", description="Filter by account to list one account's."),
    retrieve=extend_schema(summary="Read an MRR movement"),
    create=extend_schema(
        summary="Record an MRR movement",
        description="new, expansion, contraction, churn or reactivation; MRR never goes below zero.",
    ),
)
class MrrMovementViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ApiGenericViewSet
):
    serializer_class = MrrMovementSerializer
    pagination_class = Pages
    filter_backends = (filters.DjangoFilterBackend, OrderingFilter)
    filterset_class = MrrMovementFilter
    ordering_fields = ("date", "created_at")
    ordering = ("date", "id")
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        return MrrMovement.objects.filter(account__in=visible_accounts(self.request.user).values("pk"))

    def perform_create(self, serializer):
        serializer.instance = services.mrr_movement_record(**_movement_args(serializer.validated_data))

    @extend_schema(
        summary="Record several MRR movements (all or none)",
        description="Up to 1,000 movements applied in order; if any is invalid none is recorded and "
        "errors.movements names each bad row by index.",
        request=MrrMovementBatchSerializer,
        responses={201: MrrMovementBatchSerializer},
    )
    @action(detail=False, methods=["post"], url_path="batch", serializer_class=MrrMovementBatchSerializer)
    def batch(self, request):
        rows = request.data.get("movements") if isinstance(request.data, dict) else None
        if isinstance(rows, list) and len(rows) > MOVEMENTS_BATCH_MAX:
            raise PayloadTooLarge(
                _("At most %(max)s movements per request.") % {"max": f"{MOVEMENTS_BATCH_MAX:,}"}
            )
        serializer = MrrMovementBatchSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        rows = [_movement_args(row) for row in serializer.validated_data["movements"]]
        try:
            movements = services_sync.mrr_movements_record(rows=rows)
        except services_sync.RowsInvalid as exc:
            raise ValidationError(
                {"movements": {str(index): errors for index, errors in exc.errors.items()}}
            ) from None
        body = MrrMovementSerializer(movements, many=True, context=self.get_serializer_context()).data
        return Response({"movements": body}, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------- touchpoints


class VisibleContactField(SafePrimaryKeyRelatedField):
    default_error_messages = {"does_not_exist": _("No contact with id {pk_value} in your portfolio.")}

    def get_queryset(self):
        return Contact.objects.filter(account__in=visible_accounts(self.context["request"].user).values("pk"))


class TouchpointSerializer(AccountRefMixin, serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="email", read_only=True)
    contact = VisibleContactField(required=False, allow_null=True)
    occurred_at = serializers.DateTimeField(required=False, help_text="Default: now.")
    summary = serializers.CharField(max_length=5000)

    class Meta:
        model = Touchpoint
        fields = (
            "id",
            "account",
            "account_external_id",
            "kind",
            "occurred_at",
            "summary",
            "contact",
            "author",
            "created_at",
        )
        read_only_fields = ("id", "author", "created_at")


class TouchpointFilter(filters.FilterSet):
    account = filters.NumberFilter(field_name="account_id", min_value=1, max_value=MAX_ID)
    account_external_id = filters.CharFilter(field_name="account__external_id")
    occurred_after = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="lte")

    class Meta:
        model = Touchpoint
        fields = ("kind",)


@extend_schema_view(
    list=extend_schema(summary="List touchpoints", description="Newest first; filter by account."),
    retrieve=extend_schema(summary="Read a touchpoint"),
    create=extend_schema(summary="Log a touchpoint", description="The author is the token's person."),
)
class TouchpointViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ApiGenericViewSet
):
    serializer_class = TouchpointSerializer
    pagination_class = Pages
    filter_backends = (filters.DjangoFilterBackend,)
    filterset_class = TouchpointFilter
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        return (
            Touchpoint.objects.filter(account__in=visible_accounts(self.request.user).values("pk"))
            .select_related("author")
            .order_by("-occurred_at", "-id")
        )

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.touchpoint_log(
            account=data["account"],
            author=self.request.user,
            kind=data["kind"],
            summary=data["summary"],
            occurred_at=data.get("occurred_at"),
            contact=data.get("contact"),
        )


# ---------------------------------------------------------------- usage events


class UsageEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = UsageEvent
        fields = ("id", "account", "contact", "name", "occurred_at", "properties")
        read_only_fields = fields


class UsageEventInSerializer(serializers.Serializer):
    """One event of a bulk request (documentation: rows are checked by the ingestion service)."""

    account = serializers.IntegerField(required=False, min_value=1, help_text="The account's id…")
    account_external_id = serializers.CharField(required=False, max_length=100, help_text="…or its CRM id.")
    contact_email = serializers.EmailField(
        required=False, help_text="Optional: who did it (a contact's email)."
    )
    name = serializers.CharField(max_length=100, help_text="e.g. report.viewed")
    occurred_at = serializers.DateTimeField(help_text="ISO 8601 with a time zone; not in the future.")
    properties = serializers.DictField(required=False, help_text="Any JSON object up to 8 KB.")


class UsageBulkSerializer(serializers.Serializer):
    events = UsageEventInSerializer(many=True, max_length=services_sync.USAGE_BATCH_MAX)


class UsageRejectionSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the row in `events`, from 0.")
    reason = serializers.CharField()
    errors = serializers.DictField(child=serializers.CharField())


class UsageBulkResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="Rows stored.")
    rejected = UsageRejectionSerializer(many=True, help_text="Rows refused, in order, with the reason.")


class UsageEventFilter(filters.FilterSet):
    account = filters.NumberFilter(field_name="account_id", min_value=1, max_value=MAX_ID)
    account_external_id = filters.CharFilter(field_name="account__external_id")
    name = filters.CharFilter()
    occurred_after = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = UsageEvent
        fields: tuple = ()


@extend_schema_view(
    list=extend_schema(summary="List usage events", description="Newest first, by cursor: follow `next`."),
    retrieve=extend_schema(summary="Read a usage event"),
)
class UsageEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiGenericViewSet):
    serializer_class = UsageEventSerializer
    pagination_class = EventCursor
    filter_backends = (filters.DjangoFilterBackend,)
    filterset_class = UsageEventFilter
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        return UsageEvent.objects.filter(account__in=visible_accounts(self.request.user).values("pk"))

    @property
    def max_body_bytes(self) -> int | None:
        return settings.API_BULK_MAX_BYTES if getattr(self, "action", None) == "bulk" else None

    @property
    def throttle_scope(self) -> str:
        return "ingest" if getattr(self, "action", None) == "bulk" else "token"

    @extend_schema(
        summary="Ingest usage events in bulk",
        description=(
            "Up to 10,000 events per request (413 beyond, or for a body over the size limit). "
            "Valid rows are stored even when others are not; `rejected` names each refused row's "
            "index and reason. Send an Idempotency-Key to make a retry safe."
        ),
        request=UsageBulkSerializer,
        responses={200: UsageBulkResultSerializer},
    )
    @action(detail=False, methods=["post"], url_path="bulk", serializer_class=UsageBulkSerializer)
    def bulk(self, request):
        events = request.data.get("events") if isinstance(request.data, dict) else None
        if not isinstance(events, list):
            raise ValidationError({"events": [_("Send {'events': [...]}, a list of up to 10,000 events.")]})
        if len(events) > services_sync.USAGE_BATCH_MAX:
            raise PayloadTooLarge(
                _("%(count)s events; send at most %(max)s per request.")
                % {"count": f"{len(events):,}", "max": f"{services_sync.USAGE_BATCH_MAX:,}"}
            )
        accepted, rejections = services_sync.usage_events_ingest(rows=events, actor=request.user)
        return Response(
            {
                "accepted": accepted,
                "rejected": [
                    {"index": item.index, "reason": item.reason, "errors": item.errors} for item in rejections
                ],
            }
        )
