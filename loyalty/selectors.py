"""Set-based reads of the loyalty programme: one query for many rows, never a loop of queries."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from accounts.models import Account, Contact
from cs_app.prepared import prepared

from .models import (
    AdvocacyAsk,
    AskStatus,
    EntryKind,
    LedgerEntry,
    PointsBalance,
    Redemption,
    RedemptionStatus,
    Referral,
    ReferralStatus,
    Reward,
    TierRule,
)


@dataclass
class LoyaltyCard:
    balance: int
    lifetime: int
    pending: int
    tier: str
    tier_label: str
    tier_below_since: object


@prepared
def _loyalty_row(account_id: int) -> QuerySet[Account]:
    pending = (
        Redemption.objects.filter(account=OuterRef("pk"), status=RedemptionStatus.PENDING)
        .order_by()
        .values("account")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        Account.objects.filter(pk=account_id)
        .annotate(pending_n=Coalesce(Subquery(pending, output_field=IntegerField()), Value(0)))
        .values("points__balance", "points__lifetime", "points__tier_below_since", "pending_n", "tier")[:1]
    )


def account_loyalty_card(*, account: Account) -> LoyaltyCard:
    """Points balance, tier and pending redemptions of one account: one query."""
    row = next(iter(_loyalty_row(account_id=account.pk)), {})
    tier = row.get("tier") or account.tier
    return LoyaltyCard(
        balance=row.get("points__balance") or 0,
        lifetime=row.get("points__lifetime") or 0,
        pending=row.get("pending_n") or 0,
        tier=tier,
        tier_label=str(dict(Account._meta.get_field("tier").choices).get(tier, tier)),
        tier_below_since=row.get("points__tier_below_since"),
    )


def visible_accounts(user) -> QuerySet[Account]:
    return Account.objects.visible_to(user)


def ledger_rows(*, account: Account) -> QuerySet[LedgerEntry]:
    return (
        LedgerEntry.objects.filter(account=account)
        .select_related("created_by", "contact")
        .order_by("-created_at", "-id")
    )


def redemption_rows(*, user, status: str = "", q: str = "") -> QuerySet[Redemption]:
    rows = Redemption.objects.filter(account__in=visible_accounts(user)).select_related(
        "account", "reward", "contact", "requested_by", "decided_by"
    )
    if status:
        rows = rows.filter(status=status)
    if q:
        rows = rows.filter(Q(account__name__icontains=q) | Q(reward__name__icontains=q))
    return rows.order_by("-requested_at", "-id")


def referral_rows(*, user, status: str = "", q: str = "") -> QuerySet[Referral]:
    rows = Referral.objects.filter(referrer_account__in=visible_accounts(user)).select_related(
        "referrer_account", "referrer_contact", "converted_account", "reviewed_by"
    )
    if status:
        rows = rows.filter(status=status)
    if q:
        rows = rows.filter(
            Q(company_name__icontains=q) | Q(domain__icontains=q) | Q(referrer_account__name__icontains=q)
        )
    return rows.order_by("-submitted_at", "-id")


def ask_rows(*, user, status: str = "") -> QuerySet[AdvocacyAsk]:
    rows = AdvocacyAsk.objects.filter(contact__account__in=visible_accounts(user)).select_related(
        "contact__account", "asked_by"
    )
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-asked_at", "-id")


def advocate_candidates(*, user, limit: int = 50) -> list[Contact]:
    """Promoters: contacts whose latest NPS answer is 9 or 10 (needs the surveys part)."""
    if not apps.is_installed("feedback"):
        return []
    from feedback.models import Response

    latest = Response.objects.filter(contact=OuterRef("pk"), kind="nps", score__isnull=False).order_by(
        "-answered_at", "-id"
    )
    open_asks = (
        AdvocacyAsk.objects.filter(contact=OuterRef("pk"), status__in=[AskStatus.ASKED, AskStatus.ACCEPTED])
        .order_by()
        .values("contact")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return list(
        Contact.objects.filter(account__in=visible_accounts(user))
        .annotate(
            nps=Subquery(latest.values("score")[:1]),
            nps_at=Subquery(latest.values("answered_at")[:1]),
            open_asks=Coalesce(Subquery(open_asks, output_field=IntegerField()), Value(0)),
        )
        .filter(nps__gte=9)
        .select_related("account")
        .order_by("-nps_at", "pk")[:limit]
    )


def rewards_available(*, today) -> QuerySet[Reward]:
    return (
        Reward.objects.filter(is_active=True)
        .filter(Q(active_from__isnull=True) | Q(active_from__lte=today))
        .filter(Q(active_until__isnull=True) | Q(active_until__gte=today))
        .exclude(stock=0)
        .order_by("cost", "name")
    )


def tier_rules() -> list[TierRule]:
    return sorted(TierRule.objects.all(), key=lambda r: r.min_lifetime_points or 0)


def _ratio(part, whole):
    return None if not whole else round(float(part) / float(whole), 4)


def programme_metrics(*, user) -> dict:
    """Points issued, redeemed, expired and outstanding (the liability); redemption rate;
    referral conversion and revenue from referred accounts; retention and NPS of members
    (accounts with any ledger entry) against non-members. Over the accounts the user sees.
    A metric without data is None ("no data")."""
    accounts = visible_accounts(user)
    ledger = LedgerEntry.objects.filter(account__in=accounts).aggregate(
        issued=Coalesce(
            Sum("points", filter=Q(kind=EntryKind.EARN) | Q(kind=EntryKind.ADJUST, points__gt=0)), 0
        ),
        redeemed=Coalesce(Sum("points", filter=Q(kind__in=[EntryKind.REDEEM, EntryKind.REFUND])), 0),
        expired=Coalesce(Sum("points", filter=Q(kind=EntryKind.EXPIRE)), 0),
        deducted=Coalesce(Sum("points", filter=Q(kind=EntryKind.ADJUST, points__lt=0)), 0),
        outstanding=Coalesce(Sum("points"), 0),
    )
    issued, redeemed, expired = ledger["issued"], -ledger["redeemed"], -ledger["expired"]
    referrals = Referral.objects.filter(referrer_account__in=accounts).aggregate(
        total=Count("pk", filter=~Q(status=ReferralStatus.REJECTED)),
        converted=Count("pk", filter=Q(status=ReferralStatus.CONVERTED)),
        revenue=Coalesce(Sum("converted_account__mrr"), Value(Decimal("0"))),
    )
    member = Q(pk__in=LedgerEntry.objects.values("account_id"))
    groups = accounts.aggregate(
        members=Count("pk", filter=member),
        members_retained=Count("pk", filter=member & Q(churned_at__isnull=True)),
        others=Count("pk", filter=~member),
        others_retained=Count("pk", filter=~member & Q(churned_at__isnull=True)),
    )
    nps = {"members": None, "others": None}
    if apps.is_installed("feedback"):
        from feedback.models import Response

        answers = Response.objects.filter(account__in=accounts, kind="nps", score__isnull=False)
        for key, cond in (
            ("members", Q(account__in=LedgerEntry.objects.values("account_id"))),
            ("others", ~Q(account__in=LedgerEntry.objects.values("account_id"))),
        ):
            row = answers.filter(cond).aggregate(
                n=Count("pk"),
                pro=Count("pk", filter=Q(score__gte=9)),
                det=Count("pk", filter=Q(score__lte=6)),
            )
            if row["n"]:
                nps[key] = round((row["pro"] - row["det"]) * 100 / row["n"], 1)
    return {
        "issued": issued,
        "redeemed": redeemed,
        "expired": expired,
        "deducted": -ledger["deducted"],
        "outstanding": ledger["outstanding"],
        "redemption_rate": _ratio(redeemed, issued),
        "referrals": referrals["total"],
        "referrals_converted": referrals["converted"],
        "referral_conversion": _ratio(referrals["converted"], referrals["total"]),
        "referred_mrr": referrals["revenue"],
        "members": groups["members"],
        "member_retention": _ratio(groups["members_retained"], groups["members"]),
        "non_members": groups["others"],
        "non_member_retention": _ratio(groups["others_retained"], groups["others"]),
        "member_nps": nps["members"],
        "non_member_nps": nps["others"],
        "pending_redemptions": Redemption.objects.filter(
            account__in=accounts, status=RedemptionStatus.PENDING
        ).count(),
        "flagged_referrals": Referral.objects.filter(
            referrer_account__in=accounts, status=ReferralStatus.FLAGGED
        ).count(),
    }


def balances_for(account_ids: list[int]) -> dict[int, int]:
    return dict(PointsBalance.objects.filter(account_id__in=account_ids).values_list("account_id", "balance"))
