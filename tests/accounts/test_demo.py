"""The demo data generator: deterministic, consistent with the services' rules, and fast to skip."""

import datetime as dt
import hashlib
import io
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
    return hashlib.sha256(repr([sorted(map(repr, rows)) for rows in tables]).encode()).hexdigest()


def wipe() -> None:
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
