"""Loyalty: the points ledger, earn rules, tiers, the reward catalog and redemptions,
referrals and advocacy.

The invariants live in the database:

- the ledger is append-only (services only insert), each entry's idempotency key is unique
  (the same event never awards twice) and its points are never zero;
- the cached balance per account (``PointsBalance``) is updated under a row lock in the same
  transaction as the entry it reflects, and ``CHECK (balance >= 0)`` refuses any write that
  would take it below zero; every entry also records the balance after it, checked the same way;
- a reward's stock never goes below zero; one referral per converted account.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Contact, Tier
from cs_app.public_tokens import token_digest


def new_token() -> str:
    return secrets.token_urlsafe(24)


class EarnEvent(models.TextChoices):
    SURVEY_ANSWERED = "survey_answered", _("Survey answered")
    MILESTONE_COMPLETED = "milestone_completed", _("Milestone completed")
    ONBOARDING_COMPLETED = "onboarding_completed", _("Onboarding completed")
    RENEWAL = "renewal", _("Renewal")
    REFERRAL_CONVERTED = "referral_converted", _("Referral converted")
    REVIEW_PUBLISHED = "review_published", _("Review published")
    CASE_STUDY = "case_study", _("Case study")
    REFERENCE_CALL = "reference_call", _("Reference call")
    TESTIMONIAL = "testimonial", _("Testimonial")
    TALK = "talk", _("Talk")
    WEBINAR_ATTENDED = "webinar_attended", _("Webinar attended")
    WELCOME_CREDIT = "welcome_credit", _("Referral welcome credit")


class EntryKind(models.TextChoices):
    EARN = "earn", _("Earned")
    ADJUST = "adjust", _("Adjustment")
    REDEEM = "redeem", _("Redemption hold")
    REFUND = "refund", _("Points returned")
    EXPIRE = "expire", _("Expired")


class EarnRule(models.Model):
    """How many points an event earns, with optional caps per account per day, month and year."""

    event = models.CharField(_("event"), max_length=30, choices=EarnEvent.choices, unique=True)
    points = models.PositiveIntegerField(_("points"))
    cap_per_day = models.PositiveIntegerField(_("cap per day"), null=True, blank=True)
    cap_per_month = models.PositiveIntegerField(_("cap per month"), null=True, blank=True)
    cap_per_year = models.PositiveIntegerField(_("cap per year"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("earn rule")
        verbose_name_plural = _("earn rules")
        ordering = ["event"]
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="earnrule_points_positive"),
            models.CheckConstraint(condition=Q(event__in=EarnEvent.values), name="earnrule_event_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()}: {self.points}"


class LedgerEntry(models.Model):
    """One append-only movement of an account's points (optionally tied to a contact)."""

    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="points_entries"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="points_entries",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=EntryKind.choices)
    event = models.CharField(_("event"), max_length=30, choices=EarnEvent.choices, blank=True)
    points = models.IntegerField(_("points"))
    balance_after = models.IntegerField(_("balance after"))
    reason = models.CharField(_("reason"), max_length=500)
    source = models.CharField(
        _("source record"), max_length=200, blank=True, help_text=_("e.g. feedback.response:42")
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=255, unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(points=0), name="ledger_points_nonzero"),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="ledger_balance_after_non_negative"
            ),
            models.CheckConstraint(condition=Q(kind__in=EntryKind.values), name="ledger_kind_valid"),
            models.CheckConstraint(
                condition=(Q(kind__in=["earn", "refund"]) & Q(points__gt=0))
                | (Q(kind__in=["redeem", "expire"]) & Q(points__lt=0))
                | Q(kind="adjust"),
                name="ledger_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=~Q(kind="adjust") | Q(created_by__isnull=False), name="ledger_adjust_has_author"
            ),
        ]
        indexes = [
            models.Index(fields=["account", "created_at"], name="ledger_account_time_idx"),
            models.Index(fields=["account", "event", "created_at"], name="ledger_account_event_idx"),
            models.Index(
                fields=["expires_on"], name="ledger_expires_idx", condition=Q(expires_on__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.points:+d} {self.reason}"


class PointsBalance(models.Model):
    """The cached balance of one account, rebuilt from the ledger by ``balance_rebuild``."""

    account = models.OneToOneField(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, primary_key=True, related_name="points"
    )
    balance = models.IntegerField(_("balance"), default=0)
    lifetime = models.IntegerField(_("lifetime points"), default=0)
    expiry_warned_for = models.DateField(
        _("expiry warned for"),
        null=True,
        blank=True,
        help_text=_("The latest expiry day a warning email was sent for (never twice for one day)."),
    )
    tier_below_since = models.DateField(
        _("qualifies for a lower tier since"),
        null=True,
        blank=True,
        help_text=_("Start of the grace period before a tier moves down."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("points balance")
        verbose_name_plural = _("points balances")
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="points_balance_non_negative"),
            models.CheckConstraint(condition=Q(lifetime__gte=0), name="points_lifetime_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.account}: {self.balance}"


class TierRule(models.Model):
    """What it takes to hold a tier: lifetime points, or months as a customer (either one)."""

    tier = models.CharField(_("tier"), max_length=20, choices=Tier.choices, unique=True)
    min_lifetime_points = models.PositiveIntegerField(_("minimum lifetime points"), null=True, blank=True)
    min_tenure_months = models.PositiveIntegerField(_("minimum months as a customer"), null=True, blank=True)
    benefits = models.TextField(_("benefits"), blank=True)

    class Meta:
        verbose_name = _("tier rule")
        verbose_name_plural = _("tier rules")
        ordering = ["min_lifetime_points"]
        constraints = [models.CheckConstraint(condition=Q(tier__in=Tier.values), name="tierrule_tier_valid")]

    def __str__(self) -> str:
        return self.get_tier_display()


class TierChange(models.Model):
    """One move of an account's tier. It hangs off the account's loyalty record (whose key is
    the account id, so ``account_id`` is the account's id): an account without one has no
    history to look up when it is deleted."""

    account = models.ForeignKey(
        PointsBalance,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="tier_changes",
        db_column="account_id",
    )
    from_tier = models.CharField(_("from"), max_length=20, choices=Tier.choices)
    to_tier = models.CharField(_("to"), max_length=20, choices=Tier.choices)
    reason = models.CharField(_("reason"), max_length=300)
    changed_at = models.DateTimeField(_("changed"), default=timezone.now)

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        ordering = ["-changed_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(from_tier=models.F("to_tier")), name="tierchange_changes")
        ]

    def __str__(self) -> str:
        return f"{self.account}: {self.from_tier} → {self.to_tier}"


class RewardKind(models.TextChoices):
    GIFT_CARD = "gift_card", _("Gift card")
    VIP_TICKET = "vip_ticket", _("VIP event ticket")
    CREDIT = "credit", _("Account credit")
    DISCOUNT = "discount", _("Discount")
    SWAG = "swag", _("Swag")
    DONATION = "donation", _("Donation")


class Reward(models.Model):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=RewardKind.choices)
    description = models.TextField(_("description"), blank=True)
    cost = models.PositiveIntegerField(_("cost in points"))
    stock = models.PositiveIntegerField(
        _("stock"), null=True, blank=True, help_text=_("Empty for unlimited.")
    )
    per_account_limit = models.PositiveIntegerField(_("limit per account"), null=True, blank=True)
    active_from = models.DateField(_("available from"), null=True, blank=True)
    active_until = models.DateField(_("available until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["cost", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(cost__gt=0), name="reward_cost_positive"),
            models.CheckConstraint(
                condition=Q(stock__isnull=True) | Q(stock__gte=0), name="reward_stock_non_negative"
            ),
            models.CheckConstraint(condition=Q(kind__in=RewardKind.values), name="reward_kind_valid"),
            models.CheckConstraint(
                condition=Q(active_from__isnull=True)
                | Q(active_until__isnull=True)
                | Q(active_until__gte=models.F("active_from")),
                name="reward_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def available_on(self, day) -> bool:
        return (
            self.is_active
            and (self.active_from is None or self.active_from <= day)
            and (self.active_until is None or day <= self.active_until)
            and (self.stock is None or self.stock > 0)
        )


class RedemptionStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    FULFILLED = "fulfilled", _("Fulfilled")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Points returned")


OPEN_REDEMPTION = (RedemptionStatus.PENDING, RedemptionStatus.APPROVED)


class RedemptionChannel(models.TextChoices):
    STAFF = "staff", _("By a CSM")
    CUSTOMER = "customer", _("By the customer")
    API = "api", _("Through the API")


class Redemption(models.Model):
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="redemptions"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="redemptions",
    )
    reward = models.ForeignKey(
        Reward, verbose_name=_("reward"), on_delete=models.PROTECT, related_name="redemptions"
    )
    points = models.PositiveIntegerField(_("points"))
    status = models.CharField(
        _("status"), max_length=10, choices=RedemptionStatus.choices, default=RedemptionStatus.PENDING
    )
    channel = models.CharField(
        _("requested"), max_length=10, choices=RedemptionChannel.choices, default=RedemptionChannel.STAFF
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.CharField(_("note"), max_length=500, blank=True)
    fulfilment_code = models.CharField(_("code"), max_length=200, blank=True)
    fulfilment_notes = models.TextField(_("fulfilment notes"), max_length=2000, blank=True)
    fulfilled_at = models.DateTimeField(_("fulfilled"), null=True, blank=True)
    hold_entry = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, related_name="held_for", null=True, blank=True
    )
    refund_entry = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, related_name="refunded_for", null=True, blank=True
    )

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="redemption_points_positive"),
            models.CheckConstraint(
                condition=Q(status__in=RedemptionStatus.values), name="redemption_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["rejected", "returned"]) | Q(refund_entry__isnull=False),
                name="redemption_refund_when_closed",
            ),
        ]
        indexes = [models.Index(fields=["status", "requested_at"], name="redemption_status_idx")]

    def __str__(self) -> str:
        return f"{self.reward} for {self.account}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REDEMPTION


class LinkKind(models.TextChoices):
    REFERRAL = "referral", _("Referral link")
    REWARDS = "rewards", _("Rewards page")


class MemberLinkQuerySet(models.QuerySet["MemberLink"]):
    def bulk_create(self, objs, *args, **kwargs):
        """Links made in bulk get their token digest too (``save()`` is not called)."""
        objs = list(objs)
        for obj in objs:
            if obj.token:
                obj.token_digest = token_digest(obj.token)
        return super().bulk_create(objs, *args, **kwargs)


class MemberLink(models.Model):
    """An unguessable public link for an account (or one of its contacts): the shareable
    referral form, or the contact's private rewards page."""

    kind = models.CharField(_("kind"), max_length=10, choices=LinkKind.choices)
    token = models.CharField(_("token"), max_length=64, unique=True, default=new_token, editable=False)
    # SHA-256 of the token: the public pages look the link up by this, never by the token
    # (cs_app.public_tokens). Filled by save() and by the queryset's bulk_create().
    token_digest = models.CharField(_("token digest"), max_length=64, unique=True, editable=False)
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="member_links"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="member_links",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    is_active = models.BooleanField(_("active"), default=True)

    objects = MemberLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("member link")
        verbose_name_plural = _("member links")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "account", "contact"],
                condition=Q(contact__isnull=False),
                name="memberlink_one_per_contact",
            ),
            models.UniqueConstraint(
                fields=["kind", "account"],
                condition=Q(contact__isnull=True),
                name="memberlink_one_per_account",
            ),
            models.CheckConstraint(condition=Q(kind__in=LinkKind.values), name="memberlink_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.contact or self.account}"

    def save(self, *args, **kwargs) -> None:
        if self.token:
            self.token_digest = token_digest(self.token)
            if kwargs.get("update_fields") is not None and "token" in kwargs["update_fields"]:
                kwargs["update_fields"] = {*kwargs["update_fields"], "token_digest"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        name = "loyalty_public:referral" if self.kind == LinkKind.REFERRAL else "loyalty_public:rewards"
        return reverse(name, args=[self.token])


class ReferralStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    FLAGGED = "flagged", _("Flagged for review")
    QUALIFIED = "qualified", _("Qualified")
    CONVERTED = "converted", _("Converted")
    REJECTED = "rejected", _("Rejected")


class FraudFlag(models.TextChoices):
    SELF_REFERRAL = "self_referral", _("Referrer's own domain")
    ALREADY_CUSTOMER = "already_customer", _("Already a customer")
    DUPLICATE = "duplicate", _("Company already referred")
    VELOCITY = "velocity", _("Too many referrals in a day")


class Referral(models.Model):
    link = models.ForeignKey(
        MemberLink,
        verbose_name=_("link"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referrals",
    )
    referrer_account = models.ForeignKey(
        Account, verbose_name=_("referred by"), on_delete=models.CASCADE, related_name="referrals_made"
    )
    referrer_contact = models.ForeignKey(
        Contact,
        verbose_name=_("referring contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referrals_made",
    )
    company_name = models.CharField(_("company"), max_length=200)
    domain = models.CharField(_("company website"), max_length=253)
    contact_name = models.CharField(_("their name"), max_length=200, blank=True)
    contact_email = models.EmailField(_("their email"), max_length=254)
    note = models.TextField(_("note"), max_length=1000, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.SUBMITTED
    )
    flags = models.JSONField(_("fraud flags"), default=list, blank=True)
    submitted_ip = models.GenericIPAddressField(_("submitted from"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=500, blank=True)
    converted_account = models.OneToOneField(
        Account,
        verbose_name=_("became account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referred_by",
    )
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ReferralStatus.values), name="referral_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="converted")
                | Q(converted_account__isnull=False, converted_at__isnull=False),
                name="referral_converted_has_account",
            ),
        ]
        indexes = [
            models.Index(fields=["domain"], name="referral_domain_idx"),
            models.Index(fields=["status", "submitted_at"], name="referral_status_idx"),
            models.Index(fields=["referrer_contact", "submitted_at"], name="referral_contact_time_idx"),
            models.Index(fields=["submitted_ip", "submitted_at"], name="referral_ip_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.company_name} ({self.domain})"

    def get_flags_display(self) -> list[str]:
        labels = dict(FraudFlag.choices)
        return [str(labels.get(flag, flag)) for flag in self.flags]


class AskKind(models.TextChoices):
    REVIEW = "review", _("Review")
    CASE_STUDY = "case_study", _("Case study")
    REFERENCE_CALL = "reference_call", _("Reference call")
    TESTIMONIAL = "testimonial", _("Testimonial")
    TALK = "talk", _("Talk")


ASK_EVENT = {
    AskKind.REVIEW: EarnEvent.REVIEW_PUBLISHED,
    AskKind.CASE_STUDY: EarnEvent.CASE_STUDY,
    AskKind.REFERENCE_CALL: EarnEvent.REFERENCE_CALL,
    AskKind.TESTIMONIAL: EarnEvent.TESTIMONIAL,
    AskKind.TALK: EarnEvent.TALK,
}


class AskStatus(models.TextChoices):
    ASKED = "asked", _("Asked")
    ACCEPTED = "accepted", _("Accepted")
    DONE = "done", _("Done")
    DECLINED = "declined", _("Declined")


class AdvocacyAsk(models.Model):
    """An ask of one advocate (a contact); the account is the contact's."""

    contact = models.ForeignKey(
        Contact, verbose_name=_("advocate"), on_delete=models.CASCADE, related_name="advocacy_asks"
    )
    kind = models.CharField(_("ask"), max_length=20, choices=AskKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=AskStatus.choices, default=AskStatus.ASKED)
    notes = models.TextField(_("notes"), max_length=2000, blank=True)
    link = models.URLField(_("link to the result"), blank=True)
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("asked by"), on_delete=models.PROTECT, related_name="+"
    )
    asked_at = models.DateTimeField(_("asked"), default=timezone.now)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        verbose_name = _("advocacy ask")
        verbose_name_plural = _("advocacy asks")
        ordering = ["-asked_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=AskKind.values), name="ask_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=AskStatus.values), name="ask_status_valid"),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(done_at__isnull=False), name="ask_done_has_time"
            ),
            models.UniqueConstraint(
                fields=["contact", "kind"],
                condition=Q(status__in=["asked", "accepted"]),
                name="ask_one_open_per_contact_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.contact}"

    @property
    def account(self) -> Account:
        return self.contact.account
