"""Customer accounts, their contacts, revenue history, product usage and touchpoints."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Segment(models.TextChoices):
    ENTERPRISE = "enterprise", _("Enterprise")
    MID_MARKET = "mid_market", _("Mid-market")
    SMB = "smb", _("SMB")


class Tier(models.TextChoices):
    PLATINUM = "platinum", _("Platinum")
    GOLD = "gold", _("Gold")
    SILVER = "silver", _("Silver")
    BRONZE = "bronze", _("Bronze")


class LifecycleStage(models.TextChoices):
    ONBOARDING = "onboarding", _("Onboarding")
    ADOPTION = "adoption", _("Adoption")
    GROWTH = "growth", _("Growth")
    RENEWAL = "renewal", _("Renewal")
    AT_RISK = "at_risk", _("At risk")
    CHURNED = "churned", _("Churned")


class ChurnReason(models.TextChoices):
    PRICE = "price", _("Price")
    PRODUCT_FIT = "product_fit", _("Product fit")
    SUPPORT = "support", _("Support experience")
    COMPETITOR = "competitor", _("Moved to a competitor")
    BUDGET = "budget", _("Budget cuts")
    BUSINESS_CLOSED = "business_closed", _("Business closed or acquired")
    LOW_ADOPTION = "low_adoption", _("Low adoption")
    OTHER = "other", _("Other")


NO_ACCOUNTS = -1  # visible_owner(): the user may see no account at all


def visible_owner(user) -> int | None:
    """Whose accounts a staff user may see: ``None`` for every account (managers and admins),
    else an owner's id (a CSM's own), or ``NO_ACCOUNTS``. The one rule behind ``visible_to``."""
    if not getattr(user, "is_authenticated", False) or not user.has_app_access:
        return NO_ACCOUNTS
    if user.sees_all_accounts:
        return None
    return user.pk


class AccountQuerySet(models.QuerySet["Account"]):
    def visible_to(self, user) -> AccountQuerySet:
        """The accounts a staff user may see: their own, or all for managers and admins."""
        owner_id = visible_owner(user)
        if owner_id == NO_ACCOUNTS:
            return self.none()
        if owner_id is None:
            return self
        return self.filter(owner_id=owner_id)


class Account(models.Model):
    """A customer organisation. ``mrr`` and ``last_touch_at`` are maintained by services.

    ``mrr`` is the sum of the account's MRR movements dated up to today, in the reporting
    currency; it is kept on the row so a portfolio of 100,000 accounts can sort by it.
    ``last_touch_at`` is the newest touchpoint's time, kept for the same reason.
    """

    name = models.CharField(_("name"), max_length=200)
    domain = models.CharField(_("domain"), max_length=253, help_text=_("e.g. example.com"))
    external_id = models.CharField(
        _("external id"),
        max_length=100,
        null=True,
        blank=True,
        help_text=_("The account's id in your CRM; used to sync without duplicates."),
    )
    segment = models.CharField(_("segment"), max_length=20, choices=Segment.choices)
    tier = models.CharField(_("tier"), max_length=20, choices=Tier.choices, default=Tier.BRONZE)
    plan = models.CharField(_("plan"), max_length=100, blank=True)
    lifecycle_stage = models.CharField(
        _("lifecycle stage"),
        max_length=20,
        choices=LifecycleStage.choices,
        default=LifecycleStage.ONBOARDING,
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_accounts",
    )
    contract_start = models.DateField(_("contract start"))
    renewal_date = models.DateField(_("renewal date"), null=True, blank=True)
    churned_at = models.DateField(_("churned on"), null=True, blank=True)
    churn_reason = models.CharField(_("churn reason"), max_length=20, choices=ChurnReason.choices, blank=True)
    acquisition_cost = models.DecimalField(
        _("acquisition cost"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("What it cost to win this account, in the reporting currency."),
    )
    currency = models.CharField(
        _("billing currency"),
        max_length=3,
        default="USD",
        help_text=_("ISO 4217 code, e.g. USD, EUR, TRY."),
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
    )
    mrr = models.DecimalField(_("MRR"), max_digits=14, decimal_places=2, default=Decimal("0"), editable=False)
    last_touch_at = models.DateTimeField(_("last touch"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = AccountQuerySet.as_manager()

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("domain"), name="account_domain_ci_unique"),
            models.UniqueConstraint(
                fields=["external_id"],
                condition=Q(external_id__isnull=False),
                name="account_external_id_unique",
            ),
            models.CheckConstraint(condition=Q(mrr__gte=0), name="account_mrr_non_negative"),
            models.CheckConstraint(
                condition=Q(acquisition_cost__isnull=True) | Q(acquisition_cost__gte=0),
                name="account_acquisition_cost_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(churned_at__isnull=True) | ~Q(churn_reason=""),
                name="account_churn_reason_when_churned",
            ),
            models.CheckConstraint(
                condition=Q(renewal_date__isnull=True) | Q(renewal_date__gte=models.F("contract_start")),
                name="account_renewal_after_start",
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | ~Q(parent=models.F("pk")),
                name="account_not_own_parent",
            ),
            models.CheckConstraint(condition=Q(segment__in=Segment.values), name="account_segment_valid"),
            models.CheckConstraint(condition=Q(tier__in=Tier.values), name="account_tier_valid"),
            models.CheckConstraint(
                condition=Q(lifecycle_stage__in=LifecycleStage.values),
                name="account_stage_valid",
            ),
        ]
        # One index per portfolio sort (accounts.forms.SORTS), read forwards or backwards, so the
        # first page of 100,000 accounts is a 25-row index scan. Sorts with NULLS FIRST/LAST and
        # trigram search have PostgreSQL-only indexes in migration 0002 (SQLite can't express them).
        indexes = [
            models.Index(fields=["owner", "name", "id"], name="account_owner_name_idx"),
            models.Index(fields=["name", "id"], name="account_name_idx"),
            models.Index(fields=["mrr", "id"], name="account_mrr_idx"),
            models.Index(fields=["renewal_date", "id"], name="account_renewal_idx"),
            models.Index(fields=["segment", "name", "id"], name="account_segment_idx"),
            # "this segment, renewing within N days": counted from the index alone
            models.Index(fields=["segment", "renewal_date"], name="account_segment_renewal_idx"),
            models.Index(fields=["tier", "name", "id"], name="account_tier_idx"),
            models.Index(fields=["lifecycle_stage", "name", "id"], name="account_stage_idx"),
            models.Index(fields=["contract_start"], name="account_contract_start_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("accounts:detail", args=[self.pk])

    @property
    def arr(self) -> Decimal:
        return self.mrr * 12


class ContactRole(models.TextChoices):
    CHAMPION = "champion", _("Champion")
    DECISION_MAKER = "decision_maker", _("Decision maker")
    USER = "user", _("User")
    BILLING = "billing", _("Billing")


class Language(models.TextChoices):
    EN = "en", _("English")
    TR = "tr", _("Turkish")
    ZH_HANT = "zh-hant", _("Traditional Chinese")


class Contact(models.Model):
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), max_length=254)
    role = models.CharField(_("role"), max_length=20, choices=ContactRole.choices, default=ContactRole.USER)
    language = models.CharField(_("language"), max_length=10, choices=Language.choices, default=Language.EN)
    accepts_surveys = models.BooleanField(_("accepts surveys"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("account", Lower("email"), name="contact_email_per_account_unique"),
            models.CheckConstraint(condition=Q(role__in=ContactRole.values), name="contact_role_valid"),
            models.CheckConstraint(condition=Q(language__in=Language.values), name="contact_language_valid"),
        ]
        indexes = [models.Index(Lower("email"), name="contact_email_idx")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class MovementKind(models.TextChoices):
    NEW = "new", _("New")
    EXPANSION = "expansion", _("Expansion")
    CONTRACTION = "contraction", _("Contraction")
    CHURN = "churn", _("Churn")
    REACTIVATION = "reactivation", _("Reactivation")


POSITIVE_KINDS = (MovementKind.NEW, MovementKind.EXPANSION, MovementKind.REACTIVATION)
NEGATIVE_KINDS = (MovementKind.CONTRACTION, MovementKind.CHURN)


class MrrMovement(models.Model):
    """A dated change of an account's MRR. MRR on day t = Σ amount of movements dated ≤ t.

    ``amount`` is signed and in the reporting currency; ``original_amount`` and
    ``original_currency`` keep what was recorded, converted at ``fx_rate`` when recorded.
    """

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="movements"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=MovementKind.choices)
    date = models.DateField(_("date"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    original_amount = models.DecimalField(_("original amount"), max_digits=14, decimal_places=2)
    original_currency = models.CharField(_("original currency"), max_length=3)
    fx_rate = models.DecimalField(_("exchange rate"), max_digits=18, decimal_places=8, default=Decimal("1"))
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("recorded"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("MRR movement")
        verbose_name_plural = _("MRR movements")
        ordering = ["date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind__in=[k.value for k in POSITIVE_KINDS]) & Q(amount__gt=0))
                | (Q(kind__in=[k.value for k in NEGATIVE_KINDS]) & Q(amount__lt=0)),
                name="movement_sign_matches_kind",
            ),
            models.CheckConstraint(condition=Q(fx_rate__gt=0), name="movement_fx_rate_positive"),
        ]
        indexes = [
            models.Index(fields=["account", "date"], name="movement_account_date_idx"),
            models.Index(fields=["date", "kind"], name="movement_date_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} on {self.date}"


class ExchangeRate(models.Model):
    """Units of the reporting currency for one unit of ``currency``, valid from a date."""

    currency = models.CharField(_("currency"), max_length=3)
    valid_from = models.DateField(_("valid from"))
    rate = models.DecimalField(_("rate"), max_digits=18, decimal_places=8)

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "valid_from"], name="fx_rate_unique_day"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="fx_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate} from {self.valid_from}"


class UsageEvent(models.Model):
    """One thing a customer's user did in the product. Built for tens of millions of rows."""

    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="usage_events",
        db_index=False,  # covered by the (account, occurred_at) index
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="usage_events",
        db_index=False,
    )
    name = models.CharField(_("event"), max_length=100)
    occurred_at = models.DateTimeField(_("occurred at"))
    properties = models.JSONField(_("properties"), default=dict, blank=True)

    class Meta:
        verbose_name = _("usage event")
        verbose_name_plural = _("usage events")
        indexes = [
            # An account's events in time order, with the contact: the usage counts (health
            # scores, the account 360's usage card and timeline) read the index alone, never the
            # table (PostgreSQL's INCLUDE; a plain (account, occurred_at) index elsewhere).
            models.Index(
                fields=["account", "occurred_at"], include=["contact"], name="usage_account_time_cov_idx"
            ),
            models.Index(fields=["occurred_at"], name="usage_time_idx"),
            models.Index(fields=["contact"], name="usage_contact_idx", condition=Q(contact__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.name} at {self.occurred_at:%Y-%m-%d %H:%M}"


class TouchpointKind(models.TextChoices):
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("Email")
    NOTE = "note", _("Note")
    QBR = "qbr", _("QBR")
    SUPPORT = "support", _("Support")


class Touchpoint(models.Model):
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="touchpoints"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="touchpoints",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=TouchpointKind.choices)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    summary = models.TextField(_("summary"), max_length=5000)
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="touchpoints",
    )
    created_at = models.DateTimeField(_("logged"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("touchpoint")
        verbose_name_plural = _("touchpoints")
        ordering = ["-occurred_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=TouchpointKind.values), name="touchpoint_kind_valid"),
            models.CheckConstraint(condition=~Q(summary=""), name="touchpoint_summary_required"),
        ]
        indexes = [
            models.Index(fields=["account", "-occurred_at", "-id"], name="touchpoint_account_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.occurred_at:%Y-%m-%d}"
