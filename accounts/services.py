"""Every write on accounts that carries a business rule. Views, API, admin, tasks and
commands call these; none of them repeats a rule."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.db.models.functions import Coalesce, Greatest, Round
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import audit_record
from team.models import Role, User

from .models import (
    NEGATIVE_KINDS,
    Account,
    ChurnReason,
    Contact,
    ExchangeRate,
    LifecycleStage,
    MovementKind,
    MrrMovement,
    Touchpoint,
    TouchpointKind,
)

_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
ACCOUNT_FIELDS = (
    "name",
    "domain",
    "external_id",
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
)


def domain_normalize(value: str) -> str:
    """``https://www.Example.com/path`` → ``example.com``."""
    value = (value or "").strip().lower()
    value = re.sub(r"^[a-z]+://", "", value)
    value = value.split("/", 1)[0].split("?", 1)[0]
    if value.startswith("www."):
        value = value[4:]
    return value.rstrip(".")


def _validate_account(account: Account) -> None:
    errors: dict[str, list[str]] = {}
    if account.domain and not _DOMAIN_RE.match(account.domain):
        errors.setdefault("domain", []).append(_("Enter a domain such as example.com."))
    if account.domain:
        taken = Account.objects.filter(domain__iexact=account.domain).exclude(pk=account.pk)
        if taken.exists():
            errors.setdefault("domain", []).append(_("Another account already uses this domain."))
    if account.external_id:
        taken = Account.objects.filter(external_id=account.external_id).exclude(pk=account.pk)
        if taken.exists():
            errors.setdefault("external_id", []).append(_("Another account already uses this external id."))
    if isinstance(account.acquisition_cost, Decimal | int) and account.acquisition_cost < 0:
        errors.setdefault("acquisition_cost", []).append(_("Enter an amount of zero or more."))
    if (
        isinstance(account.renewal_date, dt.date)
        and isinstance(account.contract_start, dt.date)
        and account.renewal_date < account.contract_start
    ):
        errors.setdefault("renewal_date", []).append(
            _("The renewal date cannot be before the contract start.")
        )
    if account.currency and not re.fullmatch(r"[A-Z]{3}", account.currency):
        errors.setdefault("currency", []).append(_("Enter a three-letter currency code such as USD."))
    if account.owner_id and account.owner and not account.owner.has_app_access:
        errors.setdefault("owner", []).append(_("The owner must be an active CSM or manager."))
    if account.pk and account.parent_id:
        # Walk up the chain: a parent may not be the account itself or one of its children.
        seen = {account.pk}
        parent_id = account.parent_id
        while parent_id:
            if parent_id in seen:
                errors.setdefault("parent", []).append(
                    _("An account cannot be its own parent, directly or through another.")
                )
                break
            seen.add(parent_id)
            parent_id = Account.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()
    try:
        account.full_clean(exclude=["mrr", "last_touch_at", "created_at", "updated_at"])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            if field == "__all__" and errors:
                continue  # a database constraint, already explained next to its field
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def account_create(
    *,
    name: str,
    domain: str,
    segment: str,
    contract_start: dt.date,
    owner: User | None = None,
    external_id: str | None = None,
    tier: str = "bronze",
    plan: str = "",
    lifecycle_stage: str = LifecycleStage.ONBOARDING,
    renewal_date: dt.date | None = None,
    acquisition_cost: Decimal | None = None,
    currency: str | None = None,
    parent: Account | None = None,
) -> Account:
    """Create an account after checking every field; raises ValidationError by field."""
    account = Account(
        name=(name or "").strip(),
        domain=domain_normalize(domain),
        external_id=(external_id or "").strip() or None,
        segment=segment,
        tier=tier,
        plan=(plan or "").strip(),
        lifecycle_stage=lifecycle_stage,
        owner=owner,
        contract_start=contract_start,
        renewal_date=renewal_date,
        acquisition_cost=acquisition_cost,
        currency=(currency or settings.REPORTING_CURRENCY).upper(),
        parent=parent,
    )
    _validate_account(account)
    account.save()
    from onboarding.services import plan_start_for_new_account  # here: onboarding imports accounts

    plan_start_for_new_account(account=account)  # the segment's onboarding plan, from every entry path
    return account


@transaction.atomic
def account_update(*, account: Account, data: dict[str, Any]) -> Account:
    """Change the given fields of an account (only those in ACCOUNT_FIELDS)."""
    unknown = set(data) - set(ACCOUNT_FIELDS)
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in unknown})
    account = Account.objects.select_for_update().get(pk=account.pk)
    previous_owner_id = account.owner_id
    for field, value in data.items():
        if field == "domain":
            value = domain_normalize(value)
        elif field == "external_id":
            value = (value or "").strip() or None
        elif field == "currency":
            value = (value or "").upper()
        setattr(account, field, value)
    _validate_account(account)
    account.save()
    if account.owner_id != previous_owner_id:  # the admin's form, the API and imports
        audit_record(
            actor=None,  # the request's user
            action=AuditAction.OWNER_REASSIGN,
            target=account,
            details={"from_owner_id": previous_owner_id, "to_owner_id": account.owner_id},
        )
    return account


@transaction.atomic
def account_reassign_owner(*, account: Account, owner: User, by: User) -> Account:
    """Give an account to another CSM. Only managers and admins may do this."""
    if not by.sees_all_accounts:
        raise PermissionError("Only managers can reassign accounts.")
    if not (owner.is_active and owner.role in (Role.CSM, Role.MANAGER, Role.ADMIN)):
        raise ValidationError({"owner": _("Choose an active CSM or manager.")})
    previous_owner_id = Account.objects.filter(pk=account.pk).values_list("owner_id", flat=True).first()
    Account.objects.filter(pk=account.pk).update(owner=owner, updated_at=timezone.now())
    account.owner = owner
    if previous_owner_id != owner.pk:
        audit_record(
            actor=by,
            action=AuditAction.OWNER_REASSIGN,
            target=account,
            details={"from_owner_id": previous_owner_id, "to_owner_id": owner.pk, "to_owner": owner.email},
        )
    return account


@transaction.atomic
def contact_create(
    *,
    account: Account,
    name: str,
    email: str,
    role: str = "user",
    language: str = "en",
    accepts_surveys: bool = True,
) -> Contact:
    contact = Contact(
        account=account,
        name=(name or "").strip(),
        email=(email or "").strip().lower(),
        role=role,
        language=language,
        accepts_surveys=accepts_surveys,
    )
    errors: dict[str, list[str]] = {}
    if contact.email and Contact.objects.filter(account=account, email__iexact=contact.email).exists():
        errors["email"] = [_("This account already has a contact with this email.")]
    try:
        contact.full_clean(exclude=["created_at"])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            if field == "__all__" and "email" in errors:
                continue  # the case-insensitive unique email constraint, explained by field
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    contact.save()
    return contact


def fx_rate_for(*, currency: str, day: dt.date) -> Decimal:
    """Reporting-currency units per unit of ``currency`` on ``day``."""
    currency = currency.upper()
    if currency == settings.REPORTING_CURRENCY:
        return Decimal("1")
    rate = (
        ExchangeRate.objects.filter(currency=currency, valid_from__lte=day)
        .order_by("-valid_from")
        .values_list("rate", flat=True)
        .first()
    )
    if rate is None:
        raise ValidationError(
            {
                "currency": _(
                    "No exchange rate from %(currency)s to %(reporting)s on or before %(day)s; "
                    "add one in the admin."
                )
                % {"currency": currency, "reporting": settings.REPORTING_CURRENCY, "day": day}
            }
        )
    return rate


def _later_movements_error(
    later: list[tuple[dt.date, str, Decimal]], total: Decimal
) -> tuple[str, str] | None:
    """(field, message) if the movements dated after a new one would break the rules, given
    the MRR ``total`` just after it: never below zero, and each kind still fits (a churn still
    removes everything, an expansion or contraction still finds MRR, a reactivation none)."""
    for day, kind, amount in later:
        before, total = total, total + amount
        if total < 0:
            return "amount", _("This change would take MRR below zero on a later date (%(day)s).") % {
                "day": day
            }
        if (
            kind == MovementKind.NEW
            or (kind == MovementKind.REACTIVATION and before != 0)
            or (kind in (MovementKind.EXPANSION, MovementKind.CONTRACTION) and before <= 0)
            or (kind == MovementKind.CONTRACTION and total <= 0)
            or (kind == MovementKind.CHURN and total != 0)
        ):
            return "date", _(
                "This change conflicts with the later %(kind)s on %(day)s; date it after that "
                "or correct the history first."
            ) % {"kind": MovementKind(kind).label, "day": day}
    return None


@transaction.atomic
def mrr_movement_record(
    *,
    account: Account,
    kind: str,
    date: dt.date,
    amount: Decimal | None = None,
    currency: str | None = None,
    churn_reason: str = "",
    note: str = "",
) -> MrrMovement:
    """Record a dated MRR change and keep the account consistent with it.

    ``amount`` is the size of the change (always positive) in ``currency`` (default: the
    account's). A churn may omit it: it then removes all MRR the account had on ``date``.
    The rules: "new" only for an account that never had MRR; "reactivation" only after a
    churn; expansion and contraction only while active; MRR never goes below zero on any day.
    """
    account = Account.objects.select_for_update().get(pk=account.pk)
    if kind not in MovementKind.values:
        raise ValidationError({"kind": _("Choose new, expansion, contraction, churn or reactivation.")})
    currency = (currency or account.currency).upper()
    existing = list(account.movements.order_by("date", "pk").values_list("date", "kind", "amount"))
    before = sum((a for d, _k, a in existing if d <= date), Decimal("0"))
    rate = fx_rate_for(currency=currency, day=date)

    if amount is None:
        if kind != MovementKind.CHURN:
            raise ValidationError({"amount": _("Enter the amount of the change.")})
        signed = -before
        original = (before / rate).quantize(Decimal("0.01"))
    else:
        amount = Decimal(amount)
        if amount <= 0:
            raise ValidationError({"amount": _("Enter an amount above zero.")})
        original = amount
        magnitude = (amount * rate).quantize(Decimal("0.01"))
        signed = -magnitude if kind in NEGATIVE_KINDS else magnitude

    errors: dict[str, str] = {}
    if kind == MovementKind.NEW and existing:
        errors["kind"] = _("This account already has revenue history; use expansion or reactivation.")
    elif kind == MovementKind.REACTIVATION and (before != 0 or not any(d <= date for d, _k, _a in existing)):
        errors["kind"] = _("Only a churned account can be reactivated.")
    elif kind in (MovementKind.EXPANSION, MovementKind.CONTRACTION) and before <= 0:
        errors["kind"] = _("The account has no MRR on that date; use new or reactivation.")
    elif kind == MovementKind.CONTRACTION and before + signed <= 0:
        errors["amount"] = _("A contraction must leave some MRR; record a churn instead.")
    elif kind == MovementKind.CHURN:
        if before <= 0:
            errors["kind"] = _("The account has no MRR on that date to churn.")
        elif before + signed != 0:
            errors["amount"] = _("A churn removes all MRR (%(mrr)s) on that date.") % {"mrr": before}
        if churn_reason not in ChurnReason.values:
            errors["churn_reason"] = _("Choose why the account churned.")
    if not errors:
        later = _later_movements_error([m for m in existing if m[0] > date], before + signed)
        if later:
            errors[later[0]] = later[1]
    if errors:
        raise ValidationError(errors)

    movement = MrrMovement.objects.create(
        account=account,
        kind=kind,
        date=date,
        amount=signed,
        original_amount=original,
        original_currency=currency,
        fx_rate=rate,
        note=(note or "").strip(),
    )
    if kind == MovementKind.CHURN:
        account.churned_at = date
        account.churn_reason = churn_reason
        account.lifecycle_stage = LifecycleStage.CHURNED
    elif kind == MovementKind.REACTIVATION:
        account.churned_at = None
        account.churn_reason = ""
        account.lifecycle_stage = LifecycleStage.ADOPTION
    account.mrr = _mrr_today(account_id=account.pk)
    account.save(update_fields=["mrr", "churned_at", "churn_reason", "lifecycle_stage", "updated_at"])
    return movement


def _mrr_today(*, account_id: int) -> Decimal:
    today = timezone.localdate()
    total = MrrMovement.objects.filter(account_id=account_id, date__lte=today).aggregate(
        total=Coalesce(Sum("amount"), Decimal("0"))
    )["total"]
    return Decimal(total).quantize(Decimal("0.01")) + 0  # SQLite sums as floats: −2.8E-17, not 0


def accounts_refresh_mrr(*, day: dt.date | None = None) -> int:
    """Bring every account's cached MRR in line with its movements up to ``day``.

    One UPDATE for all accounts; safe to run any number of times (beat runs it nightly so
    future-dated movements take effect on their day). Returns the number of rows changed.
    """
    from django.db.models import OuterRef, Subquery

    day = day or timezone.localdate()
    total = (
        MrrMovement.objects.filter(account=OuterRef("pk"), date__lte=day)
        .order_by()
        .values("account")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    # SQLite sums decimals as floats (0.30 − 0.10 − 0.20 = −2.8E-17 breaks mrr >= 0): round
    # to cents, and + 0 turns the −0.0 that rounding leaves into 0.
    return Account.objects.update(mrr=Round(Coalesce(Subquery(total), Decimal("0")), 2) + Decimal("0"))


@transaction.atomic
def touchpoint_log(
    *,
    account: Account,
    author: User | None,
    kind: str,
    summary: str,
    occurred_at: dt.datetime | None = None,
    contact: Contact | None = None,
) -> Touchpoint:
    """Log a call, meeting, email, note, QBR or support contact on the account's timeline."""
    now = timezone.now()
    occurred_at = occurred_at or now
    errors: dict[str, str] = {}
    if kind not in TouchpointKind.values:
        errors["kind"] = _("Choose call, meeting, email, note, QBR or support.")
    if not (summary or "").strip():
        errors["summary"] = _("Write what happened.")
    elif len(summary) > 5000:
        errors["summary"] = _("Keep the summary under 5,000 characters.")
    if occurred_at > now + dt.timedelta(days=1):
        errors["occurred_at"] = _("A touchpoint cannot be in the future.")
    if contact is not None and contact.account_id != account.pk:
        errors["contact"] = _("Choose a contact of this account.")
    if errors:
        raise ValidationError(errors)
    touchpoint = Touchpoint.objects.create(
        account=account,
        author=author,
        kind=kind,
        summary=summary.strip(),
        occurred_at=occurred_at,
        contact=contact,
    )
    Account.objects.filter(pk=account.pk).update(
        last_touch_at=Greatest(Coalesce(F("last_touch_at"), occurred_at), occurred_at)
    )
    return touchpoint


CONTACT_FIELDS = ("name", "email", "role", "language", "accepts_surveys")


@transaction.atomic
def contact_update(*, contact: Contact, data: dict[str, Any]) -> Contact:
    """Change the given fields of a contact (only those in CONTACT_FIELDS), normalised like
    contact_create; raises ValidationError by field."""
    unknown = set(data) - set(CONTACT_FIELDS)
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in unknown})
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    for field, value in data.items():
        if field in ("name", "email") and isinstance(value, str):
            value = value.strip().lower() if field == "email" else value.strip()
        setattr(contact, field, value)
    contact.full_clean(exclude=["created_at"])
    contact.save()
    return contact


@transaction.atomic
def touchpoints_delete(*, touchpoints) -> int:
    """Delete touchpoints and set each affected account's last touch to its newest remaining one."""
    from django.db.models import OuterRef, Subquery

    touchpoints = Touchpoint.objects.filter(pk__in=[tp.pk for tp in touchpoints])
    account_ids = set(touchpoints.values_list("account_id", flat=True))
    deleted, _detail = touchpoints.delete()
    newest = (
        Touchpoint.objects.filter(account=OuterRef("pk")).order_by("-occurred_at").values("occurred_at")[:1]
    )
    Account.objects.filter(pk__in=account_ids).update(last_touch_at=Subquery(newest))
    return deleted
