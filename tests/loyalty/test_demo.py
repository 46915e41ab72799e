"""seed_demo's loyalty programme: a ledger that passes the consistency checks, a catalog,
redemptions in every state, referrals (one flagged) and advocacy asks; programme metrics
with figures; and nothing for the nightly jobs to catch up on."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command

from accounts.models import Account
from loyalty import selectors, services
from loyalty.models import (
    AdvocacyAsk,
    LedgerEntry,
    PointsBalance,
    Redemption,
    Referral,
    Reward,
    TierChange,
)
from team.models import User

from .helpers import assert_ledger_consistent

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 18)


def _seed(**extra):
    options = {"accounts": 80, "events-per-account": 20, "seed": 11, "csms": 2, "today": TODAY.isoformat()}
    options.update(extra)
    args = [item for key, value in options.items() for item in (f"--{key}", str(value))]
    call_command("seed_demo", *args, "--quiet", stdout=io.StringIO())


def test_seeded_ledger_passes_the_consistency_checks():
    _seed()
    checked = assert_ledger_consistent()
    assert checked == PointsBalance.objects.count() > 20
    assert Reward.objects.count() >= 4 and len(set(Reward.objects.values_list("kind", flat=True))) >= 4
    kinds = set(LedgerEntry.objects.values_list("kind", flat=True))
    assert {"earn", "redeem", "refund"} <= kinds
    events = set(LedgerEntry.objects.exclude(event="").values_list("event", flat=True))
    assert {"survey_answered", "milestone_completed", "renewal"} <= events
    # every credit is younger than the expiry period: nothing to expire or warn about for weeks
    assert services.expiring_by(day=TODAY + dt.timedelta(days=14)) == {}
    assert not LedgerEntry.objects.filter(created_at__date__gte=TODAY).exists()


def test_redemptions_referrals_and_asks_in_every_state():
    _seed()
    statuses = set(Redemption.objects.values_list("status", flat=True))
    assert {"pending", "fulfilled", "rejected"} <= statuses
    assert Redemption.objects.filter(status="pending").count() >= 1
    referrals = set(Referral.objects.values_list("status", flat=True))
    assert {"submitted", "qualified", "flagged"} <= referrals
    flagged = Referral.objects.get(status="flagged")
    assert "self_referral" in flagged.flags
    for referral in Referral.objects.filter(status="converted"):
        assert referral.converted_account.created_at > referral.submitted_at
        assert LedgerEntry.objects.filter(idempotency_key=f"referral:{referral.pk}:converted").exists()
    asks = set(AdvocacyAsk.objects.values_list("status", flat=True))
    assert {"done", "asked"} <= asks
    for ask in AdvocacyAsk.objects.filter(status="done"):
        assert LedgerEntry.objects.filter(idempotency_key=f"advocacy:{ask.pk}:done").exists()
    # stock: what is held or delivered came out of it
    for reward in Reward.objects.exclude(stock=None):
        assert reward.stock >= 0


def test_programme_metrics_show_figures_and_tiers_moved_up_as_services_do():
    _seed()
    manager = User.objects.get(email="manager@demo.example")
    metrics = selectors.programme_metrics(user=manager)
    assert metrics["issued"] > metrics["redeemed"] > 0 and metrics["outstanding"] > 0
    assert 0 < metrics["redemption_rate"] < 1
    assert metrics["members"] > 0 and metrics["member_nps"] is not None
    assert metrics["referrals"] > 0
    for change in TierChange.objects.all():
        assert services._rank(change.to_tier) > services._rank(change.from_tier)
    assert Account.objects.filter(pk__in=TierChange.objects.values("account_id")).exists()
    # the live services carry on from the seeded ledger
    account = Account.objects.get(pk=PointsBalance.objects.order_by("-balance").first().account_id)
    before = account.points.balance
    services.points_adjust(account=account, points=10, reason="goodwill", by=manager)
    assert PointsBalance.objects.get(account=account).balance == before + 10
    assert_ledger_consistent()


def test_redemptions_never_take_more_than_the_stock(monkeypatch):
    from loyalty import demo

    scarce = [(name, kind, min(cost, 300), 1, None, text) for name, kind, cost, _s, _l, text in demo.REWARDS]
    monkeypatch.setattr(demo, "REWARDS", scarce)
    _seed()
    for reward in Reward.objects.all():
        held = reward.redemptions.exclude(status__in=["rejected", "returned"]).count()
        assert reward.stock == 1 - held >= 0
    assert_ledger_consistent()
