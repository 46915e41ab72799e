"""The demo data generator: deterministic, consistent with the services' rules, and fast to skip."""

import datetime as dt
import hashlib
import io
import re
from collections import defaultdict
from decimal import Decimal

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, F, Max
from django.db.models.functions import Lower

from accounts import demo, services
from accounts.models import (
    Account,
    Contact,
    ExchangeRate,
    LifecycleStage,
    MovementKind,
    MrrMovement,
    Touchpoint,
    UsageEvent,
)
from feedback.models import Campaign, CampaignRound, FollowUp, Invitation, Response
from health.models import Task
from loyalty.models import (
    AdvocacyAsk,
    LedgerEntry,
    MemberLink,
    PointsBalance,
    Redemption,
    Referral,
    Reward,
    TierChange,
)
from onboarding.models import Milestone, OnboardingPlan
from team.models import Role, User

from ..conftest import requires_postgres

TODAY = dt.date(2026, 3, 18)
SMALL = {"accounts": 40, "events_per_account": 30, "seed": 7, "csms": 2, "today": TODAY.isoformat()}


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", *_flags({**SMALL, **options}), "--quiet", stdout=out)
    return out.getvalue()


def _flags(options: dict) -> list[str]:
    flags = []
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if value is True:
            flags.append(flag)
        elif value is not False:
            flags += [flag, str(value)]
    return flags


ACCOUNT_VALUES = (
    "name", "domain", "external_id", "segment", "tier", "plan", "lifecycle_stage", "contract_start",
    "renewal_date", "churned_at", "churn_reason", "acquisition_cost", "mrr", "currency", "last_touch_at",
    "created_at",
)  # fmt: skip


def digest() -> str:
    """Every generated value, by natural keys (no auto ids, no wall-clock times, no salted hashes)."""
    domain = dict(Account.objects.values_list("pk", "domain"))
    email = dict(User.objects.values_list("pk", "email"))
    contact = dict(Contact.objects.values_list("pk", "email"))
    tables = [
        User.objects.values_list("email", "full_name", "role", "is_staff", "is_superuser"),
        ExchangeRate.objects.values_list("currency", "valid_from", "rate"),
        (
            (*row[:-2], email.get(row[-2]), domain.get(row[-1]))
            for row in Account.objects.values_list(*ACCOUNT_VALUES, "owner", "parent")
        ),
        (
            (domain[row[0]], *row[1:])
            for row in Contact.objects.values_list(
                "account", "name", "email", "role", "language", "accepts_surveys", "created_at"
            )
        ),
        (
            (domain[row[0]], *row[1:])
            for row in MrrMovement.objects.values_list(
                "account", "kind", "date", "amount", "original_amount", "original_currency", "fx_rate", "note"
            )
        ),
        (
            (domain[row[0]], email.get(row[1]), row[2], row[3], row[4], contact.get(row[5]))
            for row in Touchpoint.objects.values_list(
                "account", "author", "kind", "occurred_at", "summary", "contact"
            )
        ),
        (
            (domain[row[0]], contact.get(row[1]), row[2], row[3], sorted(row[4].items()))
            for row in UsageEvent.objects.values_list(
                "account", "contact", "name", "occurred_at", "properties"
            )
        ),
    ]
    tables += history_tables(domain, email, contact)
    return hashlib.sha256(repr([sorted(map(repr, rows)) for rows in tables]).encode()).hexdigest()


def _no_ids(text: str) -> str:
    """Idempotency keys and sources name records by id; ids are not part of the data."""
    return re.sub(r":\d+", ":#", text)


def history_tables(domain: dict, email: dict, contact: dict) -> list:
    """Onboarding, surveys and loyalty by natural keys (invitation and member-link tokens are
    secrets, random by design, so they are left out)."""
    campaign = dict(Campaign.objects.values_list("pk", "name"))
    reward = dict(Reward.objects.values_list("pk", "name"))
    return [
        (
            (domain[r[0]], *r[1:])
            for r in Milestone.objects.values_list(
                "plan__account", "name", "status", "done_on", "done_at", "blocked_reason", "due_date"
            )
        ),
        OnboardingPlan.objects.values_list("account__domain", "progress", "next_due_on", "completed_at"),
        (
            (*r[:-1], email.get(r[-1]))
            for r in Campaign.objects.values_list(
                "name", "status", "trigger", "send_at", "launched_at", "created_at", "created_by"
            )
        ),
        CampaignRound.objects.values_list(
            "campaign__name", "number", "scheduled_at", "status", "finished_at"
        ),
        (
            (campaign[r[0]], r[1], contact[r[2]], *r[3:-1], _no_ids(r[-1]))
            for r in Invitation.objects.values_list(
                "campaign",
                "round__number",
                "contact",
                "status",
                "skip_reason",
                "sent_at",
                "message_id",
                "opened_at",
                "reminder_status",
                "reminded_at",
                "language",
                "source",
            )
        ),
        (
            (contact[r[0]], campaign[r[1]], *r[2:])
            for r in Response.objects.values_list(
                "contact",
                "campaign",
                "kind",
                "score",
                "band",
                "follow_up",
                "comment",
                "language",
                "answered_at",
            )
        ),
        (
            (contact[r[0]], r[1], r[2], r[3], r[4], r[5], email.get(r[6]))
            for r in FollowUp.objects.values_list(
                "response__contact",
                "response__answered_at",
                "opened_at",
                "closed_at",
                "outcome",
                "note",
                "owner",
            )
        ),
        (
            (domain[r[0]], *r[1:-1], email.get(r[-1]))
            for r in Task.objects.values_list(
                "account", "title", "due_date", "status", "notes", "created_at", "completed_at", "owner"
            )
        ),
        Reward.objects.values_list("name", "kind", "cost", "stock"),
        (
            (domain[r[0]], *r[1:6], _no_ids(r[6]), _no_ids(r[7]), *r[8:])
            for r in LedgerEntry.objects.values_list(
                "account",
                "kind",
                "event",
                "points",
                "balance_after",
                "reason",
                "source",
                "idempotency_key",
                "created_at",
                "expires_on",
            )
        ),
        ((domain[r[0]], *r[1:]) for r in PointsBalance.objects.values_list("account", "balance", "lifetime")),
        (
            (domain[r[0]], *r[1:])
            for r in TierChange.objects.values_list("account", "from_tier", "to_tier", "changed_at")
        ),
        (
            (domain[r[0]], reward[r[1]], *r[2:])
            for r in Redemption.objects.values_list(
                "account",
                "reward",
                "points",
                "status",
                "requested_at",
                "decided_at",
                "fulfilled_at",
                "fulfilment_code",
            )
        ),
        (
            (domain[r[0]], *r[1:])
            for r in Referral.objects.values_list(
                "referrer_account", "domain", "status", "flags", "submitted_at"
            )
        ),
        (
            (contact[r[0]], *r[1:])
            for r in AdvocacyAsk.objects.values_list("contact", "kind", "status", "asked_at", "done_at")
        ),
    ]


def wipe() -> None:
    for model in (FollowUp, Response, Invitation, CampaignRound, Campaign, Task, OnboardingPlan):
        model.objects.all().delete()
    Redemption.objects.all().delete()
    for model in (AdvocacyAsk, Referral, MemberLink, LedgerEntry, TierChange, PointsBalance, Reward):
        model.objects.all().delete()
    UsageEvent.objects.all().delete()
    Touchpoint.objects.all().delete()
    MrrMovement.objects.all().delete()
    Contact.objects.all().delete()
    Account.objects.update(parent=None)
    Account.objects.all().delete()
    ExchangeRate.objects.all().delete()
    User.objects.all().delete()


@pytest.mark.django_db
def test_same_seed_same_data_and_another_seed_other_data():
    seed()
    first = digest()
    assert Account.objects.count() == 40 and UsageEvent.objects.exists()
    wipe()
    seed()
    assert digest() == first
    wipe()
    seed(seed=8)
    assert digest() != first


@pytest.mark.django_db
def test_the_portfolio_comes_with_its_history():
    output = seed()
    assert OnboardingPlan.objects.exists() and Milestone.objects.filter(status="done").exists()
    assert Campaign.objects.count() >= 3 and Response.objects.exists() and FollowUp.objects.exists()
    assert LedgerEntry.objects.exists() and Reward.objects.exists() and Redemption.objects.exists()
    assert "Surveys:" in output and "Loyalty:" in output and "Onboarding:" in output
    # a second run adds accounts (and their onboarding), not a second survey or loyalty history
    campaigns, entries = Campaign.objects.count(), LedgerEntry.objects.count()
    seed(accounts=5)
    assert (Campaign.objects.count(), LedgerEntry.objects.count()) == (campaigns, entries)


@pytest.mark.django_db
def test_history_is_limited_to_a_sample_of_accounts_at_scale():
    from accounts.demo import seed_demo

    report = seed_demo(
        accounts=30, events_per_account=5, seed=3, extra_csms=1, today=TODAY, history_accounts=10
    )
    assert report.feedback.accounts == 10
    assert Response.objects.values("account").distinct().count() <= 10
    assert PointsBalance.objects.count() <= 10
    assert report.onboarding.plans == OnboardingPlan.objects.count() > 0
    wipe()
    # onboarding for at most ten times as many: every second account here (30 > 10 x 2)
    report = seed_demo(
        accounts=30, events_per_account=5, seed=3, extra_csms=1, today=TODAY, history_accounts=2
    )
    first = Account.objects.order_by("pk").first().pk
    planned = set(OnboardingPlan.objects.values_list("account_id", flat=True))
    assert planned and all((pk - first) % 2 == 0 for pk in planned)
    assert report.feedback.accounts == 2


@pytest.mark.django_db
def test_every_movement_history_obeys_the_services_rules():
    seed(accounts=60)
    today = TODAY
    history = defaultdict(list)
    for movement in MrrMovement.objects.order_by("date", "pk"):
        history[movement.account_id].append(movement)
    accounts = {account.pk: account for account in Account.objects.all()}
    assert set(history) == set(accounts)
    for account_id, movements in history.items():
        account = accounts[account_id]
        assert movements[0].kind == MovementKind.NEW
        total, churned = Decimal("0"), False
        for movement in movements:
            assert movement.original_currency == account.currency
            if movement.kind in (MovementKind.NEW, MovementKind.EXPANSION, MovementKind.REACTIVATION):
                assert movement.amount > 0
            else:
                assert movement.amount < 0
            if movement.kind != MovementKind.CHURN:
                assert movement.amount.copy_abs() == (movement.original_amount * movement.fx_rate).quantize(
                    Decimal("0.01")
                )
            assert movement.fx_rate == services.fx_rate_for(currency=account.currency, day=movement.date)
            if movement.kind == MovementKind.NEW:
                assert movement is movements[0]
            elif movement.kind == MovementKind.REACTIVATION:
                assert churned and total == 0
            elif movement.kind in (MovementKind.EXPANSION, MovementKind.CONTRACTION):
                assert total > 0
            total += movement.amount
            assert total >= 0
            if movement.kind == MovementKind.CHURN:
                assert total == 0
            churned = movement.kind == MovementKind.CHURN or (churned and total == 0)
            assert movement.date <= today
        # the cached MRR is what services keep: the sum of the movements up to today
        assert account.mrr == total
        if account.lifecycle_stage == LifecycleStage.CHURNED:
            assert movements[-1].kind == MovementKind.CHURN
            assert account.mrr == 0 and account.churn_reason and account.churned_at == movements[-1].date
            assert account.renewal_date is None
        else:
            assert account.mrr > 0 and not account.churn_reason and account.churned_at is None
            assert today <= account.renewal_date <= today + dt.timedelta(days=366)
            assert (account.renewal_date.month, account.renewal_date.day) in {
                (account.contract_start.month, account.contract_start.day),
                (2, 28),
            }


@pytest.mark.django_db
def test_data_invariants():
    seed(accounts=60)
    # Currencies other than USD come with their exchange rates.
    for currency in Account.objects.exclude(currency="USD").values_list("currency", flat=True):
        assert ExchangeRate.objects.filter(currency=currency, valid_from__lte=TODAY - dt.timedelta(days=1100))
    # last_touch_at is the newest touchpoint, authored by the owner.
    newest = dict(
        Touchpoint.objects.values("account").annotate(m=Max("occurred_at")).values_list("account", "m")
    )
    for account in Account.objects.all():
        assert account.last_touch_at == newest.get(account.pk)
    by_others = Touchpoint.objects.exclude(author_id=F("account__owner_id"))
    assert not by_others.exclude(author=None, account__owner=None).exists()
    # 2 to 8 contacts, unique emails per account, a champion each, a few not accepting surveys.
    sizes = Account.objects.annotate(n=Count("contacts")).values_list("n", flat=True)
    assert min(sizes) >= 2 and max(sizes) <= 8
    emails = Contact.objects.annotate(e=Lower("email")).values_list("account_id", "e")
    assert len(set(emails)) == len(emails)
    assert Contact.objects.filter(role="champion").count() == 60
    assert set(Contact.objects.values_list("language", flat=True)) <= {"en", "tr", "zh-hant"}
    # Usage events over the 26 weeks before today, most by a contact of the account.
    events = UsageEvent.objects.all()
    first = events.order_by("occurred_at").first().occurred_at.date()
    last = events.order_by("-occurred_at").first().occurred_at.date()
    assert TODAY - dt.timedelta(days=demo.USAGE_DAYS + 1) <= first and last < TODAY
    with_contact = events.exclude(contact=None)
    assert with_contact.count() > 0.8 * events.count()
    assert not with_contact.exclude(contact__account_id=F("account_id")).exists()
    weekdays = [when.weekday() for when in events.values_list("occurred_at", flat=True)]
    assert weekdays.count(2) > 3 * weekdays.count(6)  # Wednesdays are busier than Sundays


@pytest.mark.django_db
def test_demo_logins_work_with_the_published_password():
    output = seed()
    for email, role in (
        ("csm@demo.example", Role.CSM),
        ("manager@demo.example", Role.MANAGER),
        ("admin@demo.example", Role.ADMIN),
    ):
        user = User.objects.get(email=email)
        assert user.role == role and user.is_active
        assert check_password(demo.DEMO_PASSWORD, user.password)
        assert email in output
    admin = User.objects.get(email="admin@demo.example")
    assert admin.is_staff and admin.is_superuser
    assert demo.DEMO_PASSWORD in output
    # The accounts are spread over the demo CSM and the two extra CSMs.
    owners = Account.objects.exclude(owner=None).values("owner__email").annotate(n=Count("id"))
    assert {row["owner__email"] for row in owners} == {
        "csm@demo.example",
        "csm2@demo.example",
        "csm3@demo.example",
    }
    assert User.objects.get(email="csm@demo.example").owned_accounts.count() >= 5


@pytest.mark.django_db
def test_if_empty_is_a_no_op_once_there_are_accounts():
    seed(if_empty=True)
    before = digest(), Account.objects.count(), UsageEvent.objects.count()
    output = seed(if_empty=True, seed=99)
    assert "already has accounts" in output
    assert (digest(), Account.objects.count(), UsageEvent.objects.count()) == before


@pytest.mark.django_db
def test_a_second_run_without_if_empty_adds_accounts_after_the_first():
    seed(accounts=10)
    seed(accounts=10)
    assert Account.objects.count() == 20
    assert User.objects.filter(email="csm@demo.example").count() == 1
    assert Account.objects.values("domain").distinct().count() == 20


@pytest.mark.django_db
def test_seeded_accounts_accept_further_changes_through_the_services():
    seed(accounts=20, today=dt.date.today().isoformat())
    account = Account.objects.filter(mrr__gt=0).first()
    before = account.mrr
    services.mrr_movement_record(
        account=account, kind=MovementKind.EXPANSION, date=dt.date.today(), amount=Decimal("10")
    )
    account.refresh_from_db()
    assert account.mrr > before
    churned = Account.objects.filter(lifecycle_stage=LifecycleStage.CHURNED).first()
    if churned:
        services.mrr_movement_record(
            account=churned, kind=MovementKind.REACTIVATION, date=dt.date.today(), amount=Decimal("50")
        )


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db
def test_bulk_load_on_postgres_gives_the_same_rows_and_keeps_indexes_and_keys(monkeypatch):
    seed()
    expected = digest()
    wipe()

    def shape():
        with connection.cursor() as cursor:
            tables = (
                "accounts_usageevent",
                "accounts_touchpoint",
                "accounts_contact",
                "accounts_mrrmovement",
            )
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid::regclass::text = ANY(%s) ORDER BY 1, 2",
                [list(tables)],
            )
            constraints = cursor.fetchall()
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY 1", [list(tables)]
            )
            return constraints, cursor.fetchall()

    before = shape()
    monkeypatch.setattr(demo, "BULK_LOAD_ROWS", 0)  # drop and rebuild indexes and keys even for a few rows
    seed()
    assert digest() == expected
    assert shape() == before
