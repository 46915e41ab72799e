"""Every database constraint of accounts and team holds even when the services are bypassed.

Each case writes straight through the ORM (``create``, ``bulk_create``, ``update``) and
expects the database itself to refuse the row.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from accounts.models import Account, Contact, ExchangeRate, MrrMovement, Touchpoint
from team.models import User
from tests.factories import AccountFactory, ContactFactory, MrrMovementFactory, UserFactory

pytestmark = pytest.mark.django_db

# SQLite and PostgreSQL both name the violated constraint in the error message.
CHOICE_CONSTRAINT = {
    "segment": "account_segment_valid",
    "tier": "account_tier_valid",
    "lifecycle_stage": "account_stage_valid",
    "role": "contact_role_valid",
    "language": "contact_language_valid",
}


def account_row(**overrides) -> Account:
    """An unsaved, valid account; each test breaks one thing."""
    values = {
        "name": "Row Co",
        "domain": "row.example",
        "segment": "smb",
        "tier": "bronze",
        "lifecycle_stage": "adoption",
        "contract_start": dt.date(2025, 1, 1),
        "currency": "USD",
    }
    values.update(overrides)
    return Account(**values)


# ---------------------------------------------------------------- account


def test_a_valid_account_row_is_accepted():
    Account.objects.bulk_create([account_row()])
    assert Account.objects.filter(domain="row.example").exists()


def test_domain_is_unique_whatever_its_case():
    AccountFactory(domain="example.com")
    with pytest.raises(IntegrityError, match="account_domain_ci_unique"), transaction.atomic():
        Account.objects.create(**vars_of(account_row(domain="EXAMPLE.com")))
    with pytest.raises(IntegrityError, match="account_domain_ci_unique"), transaction.atomic():
        Account.objects.bulk_create([account_row(domain="Example.Com")])
    other = AccountFactory(domain="other.example")
    with pytest.raises(IntegrityError, match="account_domain_ci_unique"), transaction.atomic():
        Account.objects.filter(pk=other.pk).update(domain="eXample.com")
    assert Account.objects.filter(domain__iexact="example.com").count() == 1


def test_external_id_is_unique_but_many_accounts_may_have_none():
    Account.objects.bulk_create(
        [
            account_row(domain="a.example", external_id=None),
            account_row(domain="b.example", external_id=None),
            account_row(domain="c.example", external_id="crm-1"),
        ]
    )
    assert Account.objects.filter(external_id__isnull=True).count() == 2
    with pytest.raises(IntegrityError, match="external_id"), transaction.atomic():
        Account.objects.bulk_create([account_row(domain="d.example", external_id="crm-1")])
    with pytest.raises(IntegrityError, match="external_id"), transaction.atomic():
        Account.objects.filter(domain="a.example").update(external_id="crm-1")


def test_mrr_is_never_negative():
    account = AccountFactory()
    with pytest.raises(IntegrityError, match="account_mrr_non_negative"), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(mrr=Decimal("-0.01"))
    with pytest.raises(IntegrityError, match="account_mrr_non_negative"), transaction.atomic():
        Account.objects.bulk_create([account_row(mrr=Decimal("-5"))])
    Account.objects.filter(pk=account.pk).update(mrr=Decimal("0"))


def test_acquisition_cost_is_never_negative():
    with pytest.raises(IntegrityError, match="account_acquisition_cost_non_negative"), transaction.atomic():
        Account.objects.bulk_create([account_row(acquisition_cost=Decimal("-1"))])


def test_a_churned_account_needs_a_churn_reason():
    account = AccountFactory()
    with pytest.raises(IntegrityError, match="account_churn_reason_when_churned"), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(churned_at=dt.date(2025, 6, 1), churn_reason="")
    with pytest.raises(IntegrityError, match="account_churn_reason_when_churned"), transaction.atomic():
        Account.objects.bulk_create([account_row(churned_at=dt.date(2025, 6, 1))])
    Account.objects.filter(pk=account.pk).update(churned_at=dt.date(2025, 6, 1), churn_reason="price")
    account.refresh_from_db()
    assert account.churn_reason == "price"


def test_renewal_is_not_before_the_contract_start():
    with pytest.raises(IntegrityError, match="account_renewal_after_start"), transaction.atomic():
        Account.objects.bulk_create(
            [account_row(contract_start=dt.date(2025, 1, 2), renewal_date=dt.date(2025, 1, 1))]
        )
    account = AccountFactory(contract_start=dt.date(2025, 1, 1), renewal_date=dt.date(2026, 1, 1))
    with pytest.raises(IntegrityError, match="account_renewal_after_start"), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(renewal_date=dt.date(2024, 12, 31))
    # The same day is allowed.
    Account.objects.filter(pk=account.pk).update(renewal_date=dt.date(2025, 1, 1))


def test_an_account_is_not_its_own_parent():
    account = AccountFactory()
    with pytest.raises(IntegrityError, match="account_not_own_parent"), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(parent_id=account.pk)


@pytest.mark.parametrize(
    ("field", "value"),
    [("segment", "galactic"), ("tier", "diamond"), ("lifecycle_stage", "sleeping")],
)
def test_account_choices_are_enforced(field, value):
    with pytest.raises(IntegrityError, match=CHOICE_CONSTRAINT[field]), transaction.atomic():
        Account.objects.bulk_create([account_row(**{field: value})])
    account = AccountFactory()
    with pytest.raises(IntegrityError, match=CHOICE_CONSTRAINT[field]), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(**{field: value})


# ---------------------------------------------------------------- contact


def test_contact_email_is_unique_per_account_whatever_its_case():
    first = ContactFactory(email="ann@customer.example")
    with pytest.raises(IntegrityError, match="contact_email_per_account_unique"), transaction.atomic():
        Contact.objects.create(account=first.account, name="Ann again", email="ANN@Customer.Example")
    # Another account may have a contact with the same address.
    Contact.objects.create(account=AccountFactory(), name="Ann", email="Ann@customer.example")
    assert Contact.objects.filter(email__iexact="ann@customer.example").count() == 2


@pytest.mark.parametrize(("field", "value"), [("role", "overlord"), ("language", "xx")])
def test_contact_choices_are_enforced(field, value):
    account = AccountFactory()
    with pytest.raises(IntegrityError, match=CHOICE_CONSTRAINT[field]), transaction.atomic():
        Contact.objects.create(account=account, name="X", email="x@customer.example", **{field: value})


# ---------------------------------------------------------------- MRR movements and rates


@pytest.mark.parametrize(
    ("kind", "amount"),
    [
        ("new", Decimal("-100")),
        ("new", Decimal("0")),
        ("expansion", Decimal("-1")),
        ("reactivation", Decimal("-1")),
        ("contraction", Decimal("100")),
        ("contraction", Decimal("0")),
        ("churn", Decimal("100")),
        ("bogus", Decimal("100")),
        ("bogus", Decimal("-100")),
    ],
)
def test_movement_sign_matches_its_kind(kind, amount):
    account = AccountFactory()
    with pytest.raises(IntegrityError, match="movement_sign_matches_kind"), transaction.atomic():
        MrrMovement.objects.create(
            account=account,
            kind=kind,
            date=dt.date(2025, 1, 1),
            amount=amount,
            original_amount=abs(amount),
            original_currency="USD",
        )


@pytest.mark.parametrize(
    ("kind", "amount"),
    [
        ("new", Decimal("100")),
        ("expansion", Decimal("1")),
        ("reactivation", Decimal("1")),
        ("contraction", Decimal("-1")),
        ("churn", Decimal("-100")),
    ],
)
def test_movement_with_the_right_sign_is_accepted(kind, amount):
    MrrMovementFactory(kind=kind, amount=amount)
    assert MrrMovement.objects.get().amount == amount


def test_an_update_cannot_flip_a_movement_sign():
    movement = MrrMovementFactory(kind="new", amount=Decimal("100"))
    with pytest.raises(IntegrityError, match="movement_sign_matches_kind"), transaction.atomic():
        MrrMovement.objects.filter(pk=movement.pk).update(amount=Decimal("-100"))
    with pytest.raises(IntegrityError, match="movement_sign_matches_kind"), transaction.atomic():
        MrrMovement.objects.filter(pk=movement.pk).update(kind="churn")


def test_movement_exchange_rate_is_positive():
    with pytest.raises(IntegrityError, match="movement_fx_rate_positive"), transaction.atomic():
        MrrMovementFactory(fx_rate=Decimal("0"))


def test_exchange_rate_is_positive_and_one_per_currency_and_day():
    ExchangeRate.objects.create(currency="EUR", valid_from=dt.date(2025, 1, 1), rate=Decimal("1.1"))
    with pytest.raises(IntegrityError, match=r"fx_rate_unique_day|currency"), transaction.atomic():
        ExchangeRate.objects.create(currency="EUR", valid_from=dt.date(2025, 1, 1), rate=Decimal("1.2"))
    with pytest.raises(IntegrityError, match="fx_rate_positive"), transaction.atomic():
        ExchangeRate.objects.create(currency="GBP", valid_from=dt.date(2025, 1, 1), rate=Decimal("-1"))


# ---------------------------------------------------------------- touchpoints


def test_touchpoint_needs_a_valid_kind_and_a_summary():
    account = AccountFactory()
    with pytest.raises(IntegrityError, match="touchpoint_kind_valid"), transaction.atomic():
        Touchpoint.objects.create(account=account, kind="carrier_pigeon", summary="Coo")
    with pytest.raises(IntegrityError, match="touchpoint_summary_required"), transaction.atomic():
        Touchpoint.objects.create(account=account, kind="call", summary="")


# ---------------------------------------------------------------- users


def test_user_email_is_unique_whatever_its_case():
    UserFactory(email="alice@staff.example")
    with pytest.raises(IntegrityError, match="team_user_email_ci_unique"), transaction.atomic():
        User.objects.create(email="ALICE@Staff.Example")
    with pytest.raises(IntegrityError, match="team_user_email_ci_unique"), transaction.atomic():
        User.objects.bulk_create([User(email="Alice@staff.example")])
    other = UserFactory(email="other@staff.example")
    with pytest.raises(IntegrityError, match="team_user_email_ci_unique"), transaction.atomic():
        User.objects.filter(pk=other.pk).update(email="alice@STAFF.example")


def test_user_role_must_be_a_known_role():
    with pytest.raises(IntegrityError, match="team_user_role_valid"), transaction.atomic():
        User.objects.create(email="x@staff.example", role="overlord")
    user = UserFactory()
    with pytest.raises(IntegrityError, match="team_user_role_valid"), transaction.atomic():
        User.objects.filter(pk=user.pk).update(role="root")
    User.objects.filter(pk=user.pk).update(role="")  # no role is allowed (no app access)


def vars_of(account: Account) -> dict:
    """The concrete field values of an unsaved account, for ``objects.create``."""
    return {
        f.attname: getattr(account, f.attname)
        for f in Account._meta.concrete_fields
        if not f.primary_key and getattr(account, f.attname) is not None
    }
