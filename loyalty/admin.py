"""Admin for the loyalty programme. The ledger is read-only here: points change through the
services (a manager's adjustment on the account's rewards page, or the API)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from . import services
from .models import (
    AdvocacyAsk,
    EarnRule,
    LedgerEntry,
    MemberLink,
    PointsBalance,
    Redemption,
    RedemptionStatus,
    Referral,
    Reward,
    TierChange,
    TierRule,
)


@admin.register(EarnRule)
class EarnRuleAdmin(admin.ModelAdmin):
    list_display = ("event", "points", "cap_per_day", "cap_per_month", "cap_per_year", "is_active")
    list_editable = ("points", "cap_per_day", "cap_per_month", "cap_per_year", "is_active")


@admin.register(TierRule)
class TierRuleAdmin(admin.ModelAdmin):
    list_display = ("tier", "min_lifetime_points", "min_tenure_months", "benefits")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "account",
        "kind",
        "event",
        "points",
        "balance_after",
        "reason",
        "created_by",
        "expires_on",
    )
    list_filter = ("kind", "event")
    search_fields = ("account__name", "reason", "idempotency_key")
    list_select_related = ("account", "created_by")
    date_hierarchy = "created_at"


@admin.register(PointsBalance)
class PointsBalanceAdmin(ReadOnlyAdmin):
    list_display = ("account", "balance", "lifetime", "tier_below_since", "updated_at")
    search_fields = ("account__name",)
    list_select_related = ("account",)
    actions = ["rebuild"]

    def has_change_permission(self, request, obj=None):
        return obj is None and request.user.is_superuser  # only for the action

    @admin.action(description="Rebuild from the ledger")
    def rebuild(self, request, queryset):
        for balance in queryset.select_related("account"):
            services.balance_rebuild(account=balance.account)
        self.message_user(request, f"Rebuilt {queryset.count()} balances.")


@admin.register(TierChange)
class TierChangeAdmin(ReadOnlyAdmin):
    list_display = ("changed_at", "account", "from_tier", "to_tier", "reason")
    list_select_related = ("account",)


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "kind",
        "cost",
        "stock",
        "per_account_limit",
        "active_from",
        "active_until",
        "is_active",
    )
    list_filter = ("kind", "is_active")
    search_fields = ("name",)


@admin.register(Redemption)
class RedemptionAdmin(admin.ModelAdmin):
    list_display = ("requested_at", "account", "reward", "points", "status", "channel", "decided_by")
    list_filter = ("status", "channel")
    search_fields = ("account__name", "reward__name")
    list_select_related = ("account", "reward", "decided_by")
    readonly_fields = [f.name for f in Redemption._meta.fields]
    actions = ["approve"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Approve the selected pending redemptions")
    def approve(self, request, queryset):
        done = 0
        for redemption in queryset.filter(status=RedemptionStatus.PENDING):
            try:
                services.redemption_approve(redemption=redemption, by=request.user)
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"{redemption}: {exc}", messages.ERROR)
        self.message_user(request, f"Approved {done}.")


@admin.register(MemberLink)
class MemberLinkAdmin(admin.ModelAdmin):
    list_display = ("kind", "account", "contact", "created_at", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("account__name", "contact__email")
    readonly_fields = ("token",)
    raw_id_fields = ("account", "contact")


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    list_display = (
        "submitted_at",
        "company_name",
        "domain",
        "referrer_account",
        "status",
        "flags",
        "converted_account",
    )
    list_filter = ("status",)
    search_fields = ("company_name", "domain", "contact_email")
    raw_id_fields = ("link", "referrer_account", "referrer_contact", "converted_account")
    readonly_fields = ("flags", "submitted_ip", "submitted_at", "converted_at", "reviewed_by", "reviewed_at")


@admin.register(AdvocacyAsk)
class AdvocacyAskAdmin(admin.ModelAdmin):
    list_display = ("asked_at", "contact", "kind", "status", "done_at")
    list_filter = ("kind", "status")
    raw_id_fields = ("contact", "asked_by")
