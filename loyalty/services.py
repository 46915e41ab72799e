"""Every write of the loyalty programme, in a transaction.

Ledger arithmetic: an account's balance is the sum of its entries; lifetime points are the sum
of its earned entries and adjustments. ``PointsBalance`` caches both and is only written here,
under ``SELECT ... FOR UPDATE`` of its row, in the same transaction as the entry; the database
refuses a balance (or an entry's ``balance_after``) below zero.

Expiry, oldest first: spending consumes the oldest points first, so the points due to expire by
day D are max(0, Σ credits expiring on or before D − Σ points already spent, expired or held),
where credits are earned points and positive adjustments, and refunds give spent points back.

Lock order, everywhere: reward row, then the balance row.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import Account, Contact, Tier
from accounts.services import domain_normalize
from audit.models import AuditAction
from audit.services import audit_record

from . import conf
from .models import (
    ASK_EVENT,
    OPEN_REDEMPTION,
    AdvocacyAsk,
    AskKind,
    AskStatus,
    EarnEvent,
    EarnRule,
    EntryKind,
    FraudFlag,
    LedgerEntry,
    LinkKind,
    MemberLink,
    PointsBalance,
    Redemption,
    RedemptionChannel,
    RedemptionStatus,
    Referral,
    ReferralStatus,
    Reward,
    TierChange,
    TierRule,
)

log = logging.getLogger(__name__)

TIER_ORDER = [Tier.BRONZE, Tier.SILVER, Tier.GOLD, Tier.PLATINUM]
CREDIT_KINDS = (EntryKind.EARN, EntryKind.ADJUST)
MAX_POINTS = 10_000_000


# ---------------------------------------------------------------- ledger


def _lock_balance(account_id: int) -> PointsBalance:
    """The account's balance row, locked until the transaction ends (created on first use)."""
    try:
        return PointsBalance.objects.select_for_update().get(account_id=account_id)
    except PointsBalance.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            PointsBalance.objects.create(account_id=account_id)
    except IntegrityError:
        pass  # created by a concurrent transaction; lock that one
    return PointsBalance.objects.select_for_update().get(account_id=account_id)


def _stored(text: str, **values) -> str:
    """A reason kept on a record, in the site's language (a customer's request may come in theirs)."""
    with translation.override(settings.LANGUAGE_CODE):
        return _(text) % values


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


def months_between(start: dt.date, end: dt.date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


def _expiry_for(day: dt.date) -> dt.date | None:
    months = conf.expire_months()
    return add_months(day, months) if months else None


def _append(
    *,
    account: Account,
    points: int,
    kind: str,
    reason: str,
    idempotency_key: str,
    source: str = "",
    event: str = "",
    contact: Contact | None = None,
    by=None,
    created_at: dt.datetime | None = None,
    balance: PointsBalance | None = None,
) -> tuple[LedgerEntry, bool]:
    """Append one entry (or return the one already recorded under the key): (entry, created).

    Must run inside a transaction. Raises ValidationError if the balance would go below zero.
    """
    balance = balance or _lock_balance(account.pk)
    existing = LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing, False
    new_balance = balance.balance + points
    if new_balance < 0:
        raise ValidationError(
            {
                "points": _("Not enough points: the balance is %(balance)s, this needs %(needed)s.")
                % {"balance": f"{balance.balance:,}", "needed": f"{-points:,}"}
            }
        )
    created_at = created_at or timezone.now()
    credit = kind == EntryKind.EARN or (kind == EntryKind.ADJUST and points > 0)
    try:
        with transaction.atomic():  # a savepoint: the key's unique index may refuse the row
            entry = LedgerEntry.objects.create(
                account=account,
                contact=contact,
                kind=kind,
                event=event,
                points=points,
                balance_after=new_balance,
                reason=reason[:500],
                source=source[:200],
                idempotency_key=idempotency_key,
                created_at=created_at,
                expires_on=_expiry_for(timezone.localdate(created_at)) if credit else None,
                created_by=by,
            )
    except IntegrityError:
        # The same key written meanwhile by a transaction that did not hold this balance's lock
        # (another account's): the first one stands, nothing is added.
        existing = LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing, False
    balance.balance = new_balance
    if kind in CREDIT_KINDS:
        balance.lifetime = max(0, balance.lifetime + points)
    balance.save(update_fields=["balance", "lifetime", "updated_at"])
    return entry, True


def _cap_room(*, rule: EarnRule, account: Account, when: dt.datetime) -> int:
    """Points the account may still earn for the rule's event at ``when`` (caps per period)."""
    local = timezone.localtime(when)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    windows = [
        (rule.cap_per_day, day_start),
        (rule.cap_per_month, day_start.replace(day=1)),
        (rule.cap_per_year, day_start.replace(month=1, day=1)),
    ]
    windows = [(cap, start) for cap, start in windows if cap is not None]
    if not windows:
        return rule.points
    earliest = min(start for _cap, start in windows)
    sums = LedgerEntry.objects.filter(
        account=account, event=rule.event, kind=EntryKind.EARN, created_at__gte=earliest
    ).aggregate(
        **{
            f"w{i}": Coalesce(Sum("points", filter=Q(created_at__gte=start)), 0)
            for i, (_cap, start) in enumerate(windows)
        }
    )
    room = rule.points
    for i, (cap, _start) in enumerate(windows):
        room = min(room, max(0, cap - sums[f"w{i}"]))
    return room


@dataclass(frozen=True)
class AwardResult:
    entry: LedgerEntry | None  # None: no active rule covers the event, or a cap leaves no room
    created: bool  # False when the key had been awarded before (the first entry is returned)


def points_award_for_event(
    *,
    account: Account,
    event: str,
    source: str,
    idempotency_key: str,
    contact: Contact | None = None,
    reason: str = "",
) -> LedgerEntry | None:
    """Award the points of the event's earn rule, once per idempotency key, within the caps.

    Returns the entry (the existing one when the key was seen before), or None when no active
    rule covers the event or a cap leaves no room.
    """
    return points_award(
        account=account,
        event=event,
        source=source,
        idempotency_key=idempotency_key,
        contact=contact,
        reason=reason,
    ).entry


@transaction.atomic
def points_award(
    *,
    account: Account,
    event: str,
    source: str,
    idempotency_key: str,
    contact: Contact | None = None,
    reason: str = "",
) -> AwardResult:
    """``points_award_for_event``, also saying whether this call wrote the entry. Safe against
    the same event arriving twice at once: the account's balance row is locked first, and the
    key's unique index settles a race between two accounts."""
    if event not in EarnEvent.values:
        raise ValidationError({"event": _("Unknown event.")})
    if not idempotency_key or len(idempotency_key) > 255:
        raise ValidationError({"idempotency_key": _("Give a key of 1 to 255 characters.")})
    balance = _lock_balance(account.pk)
    existing = LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return AwardResult(existing, False)
    rule = EarnRule.objects.filter(event=event, is_active=True).first()
    if rule is None:
        return AwardResult(None, False)
    now = timezone.now()
    points = _cap_room(rule=rule, account=account, when=now)
    if points <= 0:
        return AwardResult(None, False)
    label = EarnEvent(event).label
    entry, created = _append(
        account=account,
        points=points,
        kind=EntryKind.EARN,
        event=event,
        reason=reason or str(label),
        idempotency_key=idempotency_key,
        source=source,
        contact=contact,
        created_at=now,
        balance=balance,
    )
    if created:
        _tier_raise_if_due(account=account, lifetime=balance.lifetime)
    return AwardResult(entry, created)


@transaction.atomic
def points_adjust(
    *, account: Account, points: int, reason: str, by, idempotency_key: str | None = None
) -> LedgerEntry:
    """A manager's manual correction, with a required reason; recorded with who made it."""
    if not getattr(by, "sees_all_accounts", False):
        raise PermissionDenied(_("Only managers can adjust points."))
    errors = {}
    if not isinstance(points, int) or points == 0:
        errors["points"] = _("Enter a whole number of points other than zero (negative to take points away).")
    elif abs(points) > MAX_POINTS:
        errors["points"] = _("Adjust by at most %(max)s points at a time.") % {"max": f"{MAX_POINTS:,}"}
    if not (reason or "").strip():
        errors["reason"] = _("Say why the points change.")
    if errors:
        raise ValidationError(errors)
    key = idempotency_key or f"adjust:{account.pk}:{timezone.now().isoformat()}:{by.pk}"
    entry, _created = _append(
        account=account,
        points=points,
        kind=EntryKind.ADJUST,
        reason=reason.strip(),
        idempotency_key=key,
        by=by,
    )
    if _created:
        audit_record(
            actor=by,
            action=AuditAction.POINTS_ADJUST,
            target=account,
            details={"points": points, "reason": reason.strip(), "ledger_entry_id": entry.pk},
        )
    if points > 0:
        _tier_raise_if_due(account=account, lifetime=PointsBalance.objects.get(account=account).lifetime)
    return entry


@transaction.atomic
def balance_rebuild(*, account: Account) -> PointsBalance:
    """Recompute the cached balance and lifetime points from the ledger."""
    balance = _lock_balance(account.pk)
    totals = LedgerEntry.objects.filter(account=account).aggregate(
        balance=Coalesce(Sum("points"), 0),
        lifetime=Coalesce(Sum("points", filter=Q(kind__in=CREDIT_KINDS)), 0),
    )
    balance.balance = totals["balance"]
    balance.lifetime = max(0, totals["lifetime"])
    balance.save(update_fields=["balance", "lifetime", "updated_at"])
    return balance


# ---------------------------------------------------------------- redemptions


def _require_manager(user, message: str) -> None:
    if not getattr(user, "sees_all_accounts", False):
        raise PermissionDenied(message)


@transaction.atomic
def redemption_request(
    *,
    account: Account,
    reward: Reward,
    by=None,
    contact: Contact | None = None,
    channel: str = RedemptionChannel.STAFF,
) -> Redemption:
    """Hold the reward's points (and one unit of stock) and queue it for a manager's approval."""
    reward = Reward.objects.select_for_update().get(pk=reward.pk)
    today = timezone.localdate()
    if (
        not reward.is_active
        or (reward.active_from and reward.active_from > today)
        or (reward.active_until and reward.active_until < today)
    ):
        raise ValidationError({"reward": _("This reward is not available now.")})
    if reward.stock is not None and reward.stock <= 0:
        raise ValidationError({"reward": _("This reward is out of stock.")})
    if contact is not None and contact.account_id != account.pk:
        raise ValidationError({"contact": _("Choose a contact of this account.")})
    balance = _lock_balance(account.pk)
    if reward.per_account_limit is not None:
        taken = Redemption.objects.filter(
            account=account, reward=reward, status__in=[*OPEN_REDEMPTION, RedemptionStatus.FULFILLED]
        ).count()
        if taken >= reward.per_account_limit:
            raise ValidationError(
                {
                    "reward": _("This account has reached the limit of %(n)s for this reward.")
                    % {"n": reward.per_account_limit}
                }
            )
    if balance.balance < reward.cost:
        raise ValidationError(
            {
                "reward": _("Not enough points: the balance is %(balance)s and this reward costs %(cost)s.")
                % {"balance": f"{balance.balance:,}", "cost": f"{reward.cost:,}"}
            }
        )
    redemption = Redemption.objects.create(
        account=account, contact=contact, reward=reward, points=reward.cost, requested_by=by, channel=channel
    )
    entry, _created = _append(
        account=account,
        points=-reward.cost,
        kind=EntryKind.REDEEM,
        reason=_stored(gettext_noop("Held for %(reward)s"), reward=reward.name),
        idempotency_key=f"redemption:{redemption.pk}:hold",
        source=f"loyalty.redemption:{redemption.pk}",
        contact=contact,
        by=by,
        balance=balance,
    )
    redemption.hold_entry = entry
    redemption.save(update_fields=["hold_entry"])
    if reward.stock is not None:
        reward.stock -= 1
        reward.save(update_fields=["stock"])
    return redemption


def _locked_redemption(redemption: Redemption) -> Redemption:
    return Redemption.objects.select_for_update().select_related("reward", "account").get(pk=redemption.pk)


@transaction.atomic
def redemption_approve(*, redemption: Redemption, by, note: str = "") -> Redemption:
    _require_manager(by, _("Only managers can approve redemptions."))
    redemption = _locked_redemption(redemption)
    if redemption.status != RedemptionStatus.PENDING:
        raise ValidationError({"status": _("Only a redemption waiting for approval can be approved.")})
    redemption.status = RedemptionStatus.APPROVED
    redemption.decided_by = by
    redemption.decided_at = timezone.now()
    redemption.decision_note = (note or "").strip()[:500]
    redemption.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    audit_record(
        actor=by,
        action=AuditAction.REDEMPTION_APPROVE,
        target=redemption,
        details={
            "account_id": redemption.account_id,
            "reward": redemption.reward.name,
            "points": redemption.points,
            "note": redemption.decision_note,
        },
    )
    return redemption


def _give_back(redemption: Redemption, *, by, status: str, note: str) -> Redemption:
    reward = Reward.objects.select_for_update().get(pk=redemption.reward_id)
    entry, _created = _append(
        account=redemption.account,
        points=redemption.points,
        kind=EntryKind.REFUND,
        reason=_("Returned: %(reward)s") % {"reward": reward.name},
        idempotency_key=f"redemption:{redemption.pk}:refund",
        source=f"loyalty.redemption:{redemption.pk}",
        contact=redemption.contact,
        by=by,
    )
    if reward.stock is not None:
        reward.stock += 1
        reward.save(update_fields=["stock"])
    redemption.status = status
    redemption.refund_entry = entry
    redemption.decided_by = by
    redemption.decided_at = timezone.now()
    redemption.decision_note = note[:500]
    redemption.save(update_fields=["status", "refund_entry", "decided_by", "decided_at", "decision_note"])
    return redemption


@transaction.atomic
def redemption_reject(*, redemption: Redemption, by, note: str) -> Redemption:
    """Refuse a pending redemption (or return an approved one that cannot be fulfilled): the
    points come back and the stock is restored."""
    _require_manager(by, _("Only managers can reject redemptions."))
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say why, so the CSM can tell the customer.")})
    redemption = _locked_redemption(redemption)
    if redemption.status == RedemptionStatus.PENDING:
        status = RedemptionStatus.REJECTED
    elif redemption.status == RedemptionStatus.APPROVED:
        status = RedemptionStatus.RETURNED
    else:
        raise ValidationError({"status": _("This redemption is already closed.")})
    return _give_back(redemption, by=by, status=status, note=note)


@transaction.atomic
def redemption_fulfil(*, redemption: Redemption, by, code: str = "", notes: str = "") -> Redemption:
    _require_manager(by, _("Only managers can fulfil redemptions."))
    redemption = _locked_redemption(redemption)
    if redemption.status != RedemptionStatus.APPROVED:
        raise ValidationError({"status": _("Approve the redemption before fulfilling it.")})
    code, notes = (code or "").strip(), (notes or "").strip()
    if not code and not notes:
        raise ValidationError({"code": _("Enter the code, or notes on how it was delivered.")})
    if len(code) > 200:
        raise ValidationError({"code": _("Keep the code under 200 characters.")})
    redemption.status = RedemptionStatus.FULFILLED
    redemption.fulfilment_code = code
    redemption.fulfilment_notes = notes[:2000]
    redemption.fulfilled_at = timezone.now()
    redemption.save(update_fields=["status", "fulfilment_code", "fulfilment_notes", "fulfilled_at"])
    return redemption


# ---------------------------------------------------------------- expiry


def expiring_by(*, day: dt.date, account_ids: list[int] | None = None) -> dict[int, int]:
    """{account id: points due to expire on or before ``day``}, oldest first, in one query."""
    rows = LedgerEntry.objects.all()
    if account_ids is not None:
        rows = rows.filter(account_id__in=account_ids)
    rows = (
        rows.values("account_id")
        .annotate(
            credits=Coalesce(
                Sum("points", filter=Q(points__gt=0, kind__in=CREDIT_KINDS, expires_on__lte=day)), 0
            ),
            spent=Coalesce(
                Sum(
                    "points",
                    filter=Q(kind__in=[EntryKind.REDEEM, EntryKind.REFUND, EntryKind.EXPIRE])
                    | Q(kind=EntryKind.ADJUST, points__lt=0),
                ),
                0,
            ),
        )
        .filter(credits__gt=0)
        .order_by()
    )
    due = {}
    for row in rows:
        amount = row["credits"] + row["spent"]  # spent is negative
        if amount > 0:
            due[row["account_id"]] = amount
    return due


@transaction.atomic
def _expire_account(*, account_id: int, day: dt.date) -> LedgerEntry | None:
    balance = _lock_balance(account_id)
    amount = expiring_by(day=day, account_ids=[account_id]).get(account_id, 0)
    amount = min(amount, balance.balance)
    if amount <= 0:
        return None
    entry, _created = _append(
        account=Account(pk=account_id),
        points=-amount,
        kind=EntryKind.EXPIRE,
        reason=_("Points earned before %(day)s expired") % {"day": add_months(day, -conf.expire_months())},
        idempotency_key=f"expire:{account_id}:{day.isoformat()}",
        balance=balance,
    )
    return entry


def points_expire(*, day: dt.date | None = None) -> int:
    """Nightly: write the expiry entries of every account with points due on or before ``day``.
    Safe to run again (one key per account and day). Returns the number of entries written."""
    day = day or timezone.localdate()
    written = 0
    for account_id in expiring_by(day=day):
        if _expire_account(account_id=account_id, day=day):
            written += 1
    return written


def _recipients(account_ids: list[int]) -> dict[int, list[Contact]]:
    """Champions and decision makers first; any contact when the account has neither."""
    found: dict[int, list[Contact]] = {}
    for contact in Contact.objects.filter(account_id__in=account_ids).order_by("account_id", "role", "pk"):
        found.setdefault(contact.account_id, []).append(contact)
    result = {}
    for account_id, contacts in found.items():
        leaders = [c for c in contacts if c.role in ("champion", "decision_maker")]
        result[account_id] = leaders or contacts[:1]
    return result


def points_expiry_warn(*, day: dt.date | None = None) -> int:
    """Nightly: email each account with points expiring within the warning window (14 days),
    once per expiry day. Returns the number of accounts warned."""
    day = day or timezone.localdate()
    horizon = day + dt.timedelta(days=conf.warning_days())
    due_now = expiring_by(day=day)
    due_then = expiring_by(day=horizon)
    amounts = {
        aid: pts - due_now.get(aid, 0) for aid, pts in due_then.items() if pts - due_now.get(aid, 0) > 0
    }
    if not amounts:
        return 0
    # The first day within the window on which the points expire (the warning names it).
    first_day = dict(
        LedgerEntry.objects.filter(
            account_id__in=amounts, expires_on__gt=day, expires_on__lte=horizon, points__gt=0
        )
        .values("account_id")
        .annotate(first=models_min("expires_on"))
        .values_list("account_id", "first")
        .order_by()
    )
    recipients = _recipients(list(amounts))
    accounts = Account.objects.in_bulk(list(amounts))
    sent = 0
    for account_id, points in amounts.items():
        expires_on = first_day.get(account_id) or horizon
        contacts = recipients.get(account_id, [])
        if not contacts:
            continue
        with transaction.atomic():
            balance = _lock_balance(account_id)
            if balance.expiry_warned_for is not None and balance.expiry_warned_for >= expires_on:
                continue  # already warned for this expiry day
            balance.expiry_warned_for = expires_on
            balance.save(update_fields=["expiry_warned_for", "updated_at"])
            for contact in contacts:
                link = member_link_get(account=accounts[account_id], contact=contact, kind=LinkKind.REWARDS)
                body = render_to_string(
                    "loyalty/email/expiry_warning.txt",
                    {
                        "contact": contact,
                        "account": accounts[account_id],
                        "points": points,
                        "expires_on": expires_on,
                        "url": conf.base_url() + link.get_absolute_url(),
                    },
                )
                message = EmailMessage(
                    subject=_("%(points)s of your reward points expire on %(day)s")
                    % {"points": f"{points:,}", "day": expires_on},
                    body=body,
                    to=[contact.email],
                )
                transaction.on_commit(message.send)
        sent += 1
    return sent


def models_min(field: str):
    from django.db.models import Min

    return Min(field)


# ---------------------------------------------------------------- tiers


def _rank(tier: str) -> int:
    return TIER_ORDER.index(tier) if tier in TIER_ORDER else 0


def tier_target(
    *, lifetime: int, contract_start: dt.date | None, rules: list[TierRule], today: dt.date
) -> str:
    """The highest tier the account qualifies for: by lifetime points or by months as a customer."""
    months = 0
    if contract_start and contract_start <= today:
        months = months_between(contract_start, today)
    best = Tier.BRONZE
    for rule in rules:
        by_points = rule.min_lifetime_points is not None and lifetime >= rule.min_lifetime_points
        by_tenure = rule.min_tenure_months is not None and months >= rule.min_tenure_months
        if (by_points or by_tenure) and _rank(rule.tier) > _rank(best):
            best = rule.tier
    return best


@transaction.atomic
def account_tier_set(*, account: Account, tier: str, reason: str) -> bool:
    """Set the account's tier (the loyalty programme owns this field) and record the change on
    the timeline. Returns False when it already had that tier."""
    if tier not in Tier.values:
        raise ValidationError({"tier": _("Choose bronze, silver, gold or platinum.")})
    current = Account.objects.select_for_update().filter(pk=account.pk).values_list("tier", flat=True).first()
    if current is None or current == tier:
        return False
    Account.objects.filter(pk=account.pk).update(tier=tier, updated_at=timezone.now())
    _lock_balance(account.pk)  # the loyalty record the history hangs off
    TierChange.objects.create(account_id=account.pk, from_tier=current, to_tier=tier, reason=reason[:300])
    account.tier = tier
    return True


def _tier_raise_if_due(*, account: Account, lifetime: int) -> None:
    """Moving up is immediate: called after points are earned."""
    rules = list(TierRule.objects.all())
    if not rules:
        return
    current = Account.objects.filter(pk=account.pk).values_list("tier", "contract_start").first()
    if current is None:
        return
    target = tier_target(
        lifetime=lifetime, contract_start=current[1], rules=rules, today=timezone.localdate()
    )
    if _rank(target) > _rank(current[0]):
        account_tier_set(
            account=account, tier=target, reason=_("Reached %(n)s lifetime points") % {"n": f"{lifetime:,}"}
        )
        PointsBalance.objects.filter(account_id=account.pk).update(tier_below_since=None)


@dataclass
class TierReport:
    raised: int = 0
    lowered: int = 0
    in_grace: int = 0


def tiers_evaluate(*, day: dt.date | None = None) -> TierReport:
    """Nightly: move every account to the tier it qualifies for — up at once, down only after
    it has qualified for less for the grace period. Safe to run again the same day."""
    day = day or timezone.localdate()
    report = TierReport()
    rules = list(TierRule.objects.all())
    if not rules:
        return report
    grace = dt.timedelta(days=conf.tier_grace_days())
    rows = Account.objects.values_list(
        "pk", "tier", "contract_start", "points__lifetime", "points__tier_below_since"
    )
    for pk, tier, start, lifetime, below_since in rows.iterator(chunk_size=2000):
        target = tier_target(lifetime=lifetime or 0, contract_start=start, rules=rules, today=day)
        if _rank(target) > _rank(tier):
            with transaction.atomic():
                account_tier_set(account=Account(pk=pk), tier=target, reason=_("Qualifies for a higher tier"))
                PointsBalance.objects.filter(account_id=pk).update(tier_below_since=None)
            report.raised += 1
        elif _rank(target) < _rank(tier):
            if below_since is None:
                with transaction.atomic():
                    _lock_balance(pk)
                    PointsBalance.objects.filter(account_id=pk).update(tier_below_since=day)
                report.in_grace += 1
            elif day - below_since >= grace:
                with transaction.atomic():
                    account_tier_set(
                        account=Account(pk=pk),
                        tier=target,
                        reason=_("Qualified for a lower tier since %(day)s (grace period over)")
                        % {"day": below_since},
                    )
                    PointsBalance.objects.filter(account_id=pk).update(tier_below_since=None)
                report.lowered += 1
            else:
                report.in_grace += 1
        elif below_since is not None:
            PointsBalance.objects.filter(account_id=pk).update(tier_below_since=None)
    return report


# ---------------------------------------------------------------- links and referrals


@transaction.atomic
def member_link_get(*, account: Account, kind: str, contact: Contact | None = None) -> MemberLink:
    """The account's (or contact's) link of a kind, created on first use."""
    if contact is not None and contact.account_id != account.pk:
        raise ValidationError({"contact": _("Choose a contact of this account.")})
    link = MemberLink.objects.filter(kind=kind, account=account, contact=contact).first()
    if link is not None:
        return link
    try:
        with transaction.atomic():
            return MemberLink.objects.create(kind=kind, account=account, contact=contact)
    except IntegrityError:
        return MemberLink.objects.get(kind=kind, account=account, contact=contact)


def _email_domain(email: str) -> str:
    return domain_normalize(email.rsplit("@", 1)[-1]) if "@" in (email or "") else ""


def referral_fraud_flags(
    *, link: MemberLink, domain: str, contact_email: str, ip: str | None, now: dt.datetime
) -> list[str]:
    """Every fraud rule the referral trips."""
    flags = []
    own_domains = {link.account.domain.lower()}
    if link.contact is not None:
        own_domains.add(_email_domain(link.contact.email))
    if domain in own_domains or _email_domain(contact_email) in own_domains:
        flags.append(FraudFlag.SELF_REFERRAL)
    if Account.objects.filter(domain__iexact=domain).exists():
        flags.append(FraudFlag.ALREADY_CUSTOMER)
    if Referral.objects.filter(domain=domain).exclude(status=ReferralStatus.REJECTED).exists():
        flags.append(FraudFlag.DUPLICATE)
    since = now - dt.timedelta(days=1)
    limit = conf.referral_daily_limit()
    by_link = Referral.objects.filter(link=link, submitted_at__gte=since).count()
    by_ip = Referral.objects.filter(submitted_ip=ip, submitted_at__gte=since).count() if ip else 0
    if by_link >= limit or by_ip >= limit:
        flags.append(FraudFlag.VELOCITY)
    return [str(flag) for flag in flags]


_DOMAIN_OK = __import__("re").compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@transaction.atomic
def referral_submit(
    *,
    link: MemberLink,
    company_name: str,
    domain: str,
    contact_email: str,
    contact_name: str = "",
    note: str = "",
    ip: str | None = None,
) -> Referral:
    """Record a referral from a public link, run the fraud rules, and flag it for a manager
    when any rule trips."""
    if link.kind != LinkKind.REFERRAL or not link.is_active:
        raise ValidationError({"link": _("This referral link is no longer active.")})
    MemberLink.objects.select_for_update().filter(pk=link.pk).first()  # one submission at a time per link
    domain = domain_normalize(domain)
    errors = {}
    if not (company_name or "").strip():
        errors["company_name"] = _("Enter the company's name.")
    if not _DOMAIN_OK.match(domain):
        errors["domain"] = _("Enter the company's website, such as example.com.")
    contact_email = (contact_email or "").strip().lower()
    referral = Referral(
        link=link,
        referrer_account=link.account,
        referrer_contact=link.contact,
        company_name=(company_name or "").strip()[:200],
        domain=domain,
        contact_name=(contact_name or "").strip()[:200],
        contact_email=contact_email,
        note=(note or "").strip(),
        submitted_ip=ip or None,
    )
    try:
        referral.full_clean(
            exclude=[
                "flags",
                "status",
                "link",
                "referrer_account",
                "referrer_contact",
                "domain",
                "company_name",
            ]
        )
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, messages[0])
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    referral.submitted_at = now
    referral.flags = referral_fraud_flags(
        link=link, domain=domain, contact_email=contact_email, ip=ip, now=now
    )
    referral.status = ReferralStatus.FLAGGED if referral.flags else ReferralStatus.SUBMITTED
    referral.save()
    return referral


@transaction.atomic
def referral_review(*, referral: Referral, by, decision: str, note: str = "") -> Referral:
    """Qualify or reject a referral. Flagged ones wait for a manager; a qualified referral whose
    company is already an account (created while it waited) converts at once."""
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if referral.status == ReferralStatus.FLAGGED:
        _require_manager(by, _("A flagged referral waits for a manager."))
    if referral.status not in (ReferralStatus.SUBMITTED, ReferralStatus.FLAGGED, ReferralStatus.QUALIFIED):
        raise ValidationError({"decision": _("This referral is already closed.")})
    if decision not in ("qualify", "reject"):
        raise ValidationError({"decision": _("Choose qualify or reject.")})
    note = (note or "").strip()
    if decision == "reject" and not note:
        raise ValidationError({"note": _("Say why the referral is rejected.")})
    referral.status = ReferralStatus.QUALIFIED if decision == "qualify" else ReferralStatus.REJECTED
    referral.reviewed_by = by
    referral.reviewed_at = timezone.now()
    referral.review_note = note[:500]
    referral.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    if referral.status == ReferralStatus.QUALIFIED:
        account = Account.objects.filter(domain__iexact=referral.domain, referred_by__isnull=True).first()
        if account is not None and account.created_at >= referral.submitted_at:
            _convert(referral, account)
    return referral


def _convert(referral: Referral, account: Account) -> Referral:
    from api.services import webhooks_emit

    referral.status = ReferralStatus.CONVERTED
    referral.converted_account = account
    referral.converted_at = timezone.now()
    referral.save(update_fields=["status", "converted_account", "converted_at"])
    entry = points_award_for_event(
        account=referral.referrer_account,
        event=EarnEvent.REFERRAL_CONVERTED,
        source=f"loyalty.referral:{referral.pk}",
        idempotency_key=f"referral:{referral.pk}:converted",
        contact=referral.referrer_contact,
        reason=_("Referred %(company)s, now a customer") % {"company": account.name},
    )
    points_award_for_event(
        account=account,
        event=EarnEvent.WELCOME_CREDIT,
        source=f"loyalty.referral:{referral.pk}",
        idempotency_key=f"referral:{referral.pk}:welcome",
        reason=_("Welcome: referred by %(company)s") % {"company": referral.referrer_account.name},
    )
    referrer = referral.referrer_account
    webhooks_emit(
        event="referral.converted",
        payload={
            "referral": {
                "id": referral.pk,
                "company_name": referral.company_name,
                "domain": referral.domain,
                "submitted_at": referral.submitted_at,
                "converted_at": referral.converted_at,
            },
            "account": {"id": account.pk, "name": account.name, "external_id": account.external_id},
            "referrer_account": {
                "id": referrer.pk,
                "name": referrer.name,
                "external_id": referrer.external_id,
            },
            "points": entry.points if entry else 0,
        },
    )
    return referral


@transaction.atomic
def referral_convert_for_account(*, account: Account) -> Referral | None:
    """A new account whose domain was referred converts the oldest open referral for it
    (submitted or qualified; flagged ones wait for a manager). Called after any account is
    created: page, admin, API or import."""
    referral = (
        Referral.objects.select_for_update()
        .filter(
            domain__iexact=account.domain, status__in=[ReferralStatus.SUBMITTED, ReferralStatus.QUALIFIED]
        )
        .order_by("submitted_at", "pk")
        .first()
    )
    if referral is None or Referral.objects.filter(converted_account=account).exists():
        return None
    return _convert(referral, account)


# ---------------------------------------------------------------- advocacy


@transaction.atomic
def advocacy_ask_create(*, contact: Contact, kind: str, by, notes: str = "") -> AdvocacyAsk:
    errors = {}
    if kind not in AskKind.values:
        errors["kind"] = _("Choose a review, case study, reference call, testimonial or talk.")
    elif AdvocacyAsk.objects.filter(
        contact=contact, kind=kind, status__in=[AskStatus.ASKED, AskStatus.ACCEPTED]
    ).exists():
        errors["kind"] = _("This contact already has an open ask of this kind.")
    if len(notes or "") > 2000:
        errors["notes"] = _("Keep the notes under 2,000 characters.")
    if errors:
        raise ValidationError(errors)
    return AdvocacyAsk.objects.create(contact=contact, kind=kind, asked_by=by, notes=(notes or "").strip())


ASK_MOVES = {
    AskStatus.ASKED: {AskStatus.ACCEPTED, AskStatus.DONE, AskStatus.DECLINED},
    AskStatus.ACCEPTED: {AskStatus.DONE, AskStatus.DECLINED},
}


@transaction.atomic
def advocacy_ask_update(
    *, ask: AdvocacyAsk, status: str, by, link: str = "", notes: str | None = None
) -> AdvocacyAsk:
    """Move an ask along; done earns the advocate's account the points of its event."""
    ask = AdvocacyAsk.objects.select_for_update().select_related("contact__account").get(pk=ask.pk)
    if status not in ASK_MOVES.get(ask.status, set()):
        raise ValidationError(
            {
                "status": _("An ask that is %(status)s cannot become %(new)s.")
                % {
                    "status": ask.get_status_display().lower(),
                    "new": dict(AskStatus.choices).get(status, status),
                }
            }
        )
    ask.status = status
    if link:
        ask.link = link
    if notes is not None:
        ask.notes = notes.strip()
    if status == AskStatus.DONE:
        ask.done_at = timezone.now()
    try:
        ask.full_clean(exclude=["account", "contact", "asked_by"])
    except ValidationError as exc:
        raise ValidationError({k: v[0] for k, v in exc.message_dict.items()}) from None
    ask.save()
    if status == AskStatus.DONE:
        points_award_for_event(
            account=ask.account,
            event=ASK_EVENT[ask.kind],
            source=f"loyalty.advocacyask:{ask.pk}",
            idempotency_key=f"advocacy:{ask.pk}:done",
            contact=ask.contact,
            reason=_("%(kind)s by %(name)s") % {"kind": ask.get_kind_display(), "name": ask.contact.name},
        )
    return ask


def counts_by_status(qs, field: str = "status") -> dict[str, int]:
    return dict(qs.order_by().values_list(field).annotate(n=Count("pk")).values_list(field, "n"))
