import itertools

from loyalty import services
from loyalty.models import EarnRule


def give(account, points: int, key: str | None = None, by=None):
    """Credit points to an account through a manager's adjustment (tests' shortcut)."""
    from tests.factories import UserFactory

    manager = by or UserFactory(role="manager")
    return services.points_adjust(
        account=account, points=points, reason="test credit", by=manager, idempotency_key=key or None
    )


def rule(event: str, points: int, **caps) -> EarnRule:
    obj, _ = EarnRule.objects.update_or_create(
        event=event,
        defaults={
            "points": points,
            "cap_per_day": None,
            "cap_per_month": None,
            "cap_per_year": None,
            "is_active": True,
            **caps,
        },
    )
    return obj


def assert_ledger_consistent() -> int:
    """The ledger never loses a point: per account, entries in time order add up to each
    ``balance_after`` (never below zero), and ``PointsBalance`` is the sum of the entries
    (lifetime: of the credits); every redemption's hold (and refund) matches its points; every
    credit expires when the rules say; every earn rule's caps hold per day, month and year; the
    tier history is a chain ending in the account's tier. Returns the number of accounts checked.
    """
    from collections import defaultdict

    from django.utils import timezone

    from accounts.models import Account
    from loyalty import conf
    from loyalty.models import (
        EntryKind,
        LedgerEntry,
        PointsBalance,
        Redemption,
        RedemptionStatus,
        TierChange,
    )
    from loyalty.services import add_months, balance_rebuild

    entries = defaultdict(list)
    for entry in LedgerEntry.objects.order_by("account_id", "created_at", "id"):
        entries[entry.account_id].append(entry)
    balances = {b.account_id: b for b in PointsBalance.objects.all()}
    assert set(entries) <= set(balances), "an account with entries has no balance row"
    months = conf.expire_months()
    rules = {r.event: r for r in EarnRule.objects.all()}
    for account_id, rows in entries.items():
        running = lifetime = 0
        earned = defaultdict(list)
        for entry in rows:
            running += entry.points
            assert running >= 0 and entry.balance_after == running, (account_id, entry.pk)
            if entry.kind in (EntryKind.EARN, EntryKind.ADJUST):
                lifetime += entry.points
            credit = entry.kind == EntryKind.EARN or (entry.kind == EntryKind.ADJUST and entry.points > 0)
            expected = add_months(timezone.localdate(entry.created_at), months) if credit and months else None
            assert entry.expires_on == expected, (account_id, entry.pk)
            if entry.kind == EntryKind.EARN:
                earned[entry.event].append(entry)
        balance = balances[account_id]
        assert (balance.balance, balance.lifetime) == (running, max(0, lifetime)), account_id
        for event, earns in earned.items():
            rule = rules.get(event)
            assert rule is not None, event
            for entry in earns:
                local = timezone.localtime(entry.created_at)
                day = local.replace(hour=0, minute=0, second=0, microsecond=0)
                for cap, start in (
                    (rule.cap_per_day, day),
                    (rule.cap_per_month, day.replace(day=1)),
                    (rule.cap_per_year, day.replace(month=1, day=1)),
                ):
                    if cap is None:
                        continue
                    window = [e for e in earns if start <= e.created_at <= entry.created_at]
                    assert sum(e.points for e in window) <= cap, (account_id, event, entry.pk)
    for account_id in list(entries)[:50]:
        rebuilt = balance_rebuild(account=Account(pk=account_id))
        assert (rebuilt.balance, rebuilt.lifetime) == (
            balances[account_id].balance,
            balances[account_id].lifetime,
        )
    for redemption in Redemption.objects.select_related("hold_entry", "refund_entry"):
        assert redemption.hold_entry is not None and redemption.hold_entry.points == -redemption.points
        assert redemption.hold_entry.account_id == redemption.account_id
        if redemption.status in (RedemptionStatus.REJECTED, RedemptionStatus.RETURNED):
            assert redemption.refund_entry.points == redemption.points
            assert redemption.refund_entry.created_at >= redemption.hold_entry.created_at
        else:
            assert redemption.refund_entry is None
    tiers = dict(Account.objects.values_list("pk", "tier"))
    chains = defaultdict(list)
    for change in TierChange.objects.order_by("changed_at", "id"):
        chains[change.account_id].append(change)
    for account_id, changes in chains.items():
        for before, after in itertools.pairwise(changes):
            assert after.from_tier == before.to_tier, account_id
        assert changes[-1].to_tier == tiers[account_id], account_id
    return len(entries)
