"""The account services: field errors for bad input, and nothing written when they refuse."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Account, Contact, Touchpoint
from accounts.services import (
    account_create,
    account_reassign_owner,
    account_update,
    contact_create,
    domain_normalize,
    touchpoint_log,
)
from team.models import Role
from tests.factories import AccountFactory, ContactFactory, UserFactory

pytestmark = pytest.mark.django_db

START = dt.date(2025, 1, 1)


def create(**overrides):
    values = {"name": "Example Corp", "domain": "example.com", "segment": "smb", "contract_start": START}
    values.update(overrides)
    return account_create(**values)


def field_errors(call, *args, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as exc:
        call(*args, **kwargs)
    return exc.value.message_dict


def table(model) -> list[tuple]:
    return list(model.objects.order_by("pk").values_list())


# ---------------------------------------------------------------- account_create


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("https://www.Example.com/x", "example.com"),
        ("http://EXAMPLE.com?ref=1", "example.com"),
        ("  www.example.com.  ", "example.com"),
        ("Sub.Example.CO.uk", "sub.example.co.uk"),
        ("example.com", "example.com"),
    ],
)
def test_domain_is_normalised(given, stored):
    assert domain_normalize(given) == stored
    assert create(domain=given).domain == stored
    assert Account.objects.get().domain == stored


def test_create_stores_the_account(alice):
    account = create(
        owner=alice,
        name="  Example Corp  ",
        external_id="  crm-7 ",
        tier="gold",
        plan=" Pro ",
        renewal_date=dt.date(2026, 1, 1),
        acquisition_cost=Decimal("1200"),
        currency="eur",
    )
    stored = Account.objects.get(pk=account.pk)
    assert (stored.name, stored.external_id, stored.plan, stored.currency, stored.owner) == (
        "Example Corp",
        "crm-7",
        "Pro",
        "EUR",
        alice,
    )
    assert stored.mrr == 0 and stored.lifecycle_stage == "onboarding"


def test_currency_defaults_to_the_reporting_currency(settings):
    settings.REPORTING_CURRENCY = "GBP"
    assert create().currency == "GBP"


def test_blank_external_id_is_stored_as_null_so_many_accounts_may_lack_one():
    create(domain="a.example", external_id="")
    create(domain="b.example", external_id="   ")
    assert list(Account.objects.values_list("external_id", flat=True)) == [None, None]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"domain": "not a domain"}, "domain"),
        ({"domain": "localhost"}, "domain"),
        ({"domain": ""}, "domain"),
        ({"domain": "exa_mple.com"}, "domain"),
        ({"currency": "dollars"}, "currency"),
        ({"currency": "U1D"}, "currency"),
        ({"segment": "galactic"}, "segment"),
        ({"segment": ""}, "segment"),
        ({"tier": "diamond"}, "tier"),
        ({"lifecycle_stage": "sleeping"}, "lifecycle_stage"),
        ({"acquisition_cost": Decimal("-1")}, "acquisition_cost"),
        ({"renewal_date": START - dt.timedelta(days=1)}, "renewal_date"),
    ],
)
def test_bad_input_is_a_field_error_and_nothing_is_written(overrides, field):
    errors = field_errors(create, **overrides)
    assert field in errors, errors
    assert "__all__" not in errors, errors  # every message sits next to its field
    assert Account.objects.count() == 0


def test_several_errors_are_reported_at_once():
    errors = field_errors(create, name="", domain="nope", segment="x", currency="1")
    assert {"name", "domain", "segment", "currency"} <= set(errors)


def test_a_domain_in_use_in_another_case_is_a_field_error():
    AccountFactory(domain="Example.COM")  # stored in another case, bypassing the service
    errors = field_errors(create, domain="https://www.example.com/pricing")
    assert errors == {"domain": ["Another account already uses this domain."]}
    assert Account.objects.count() == 1


def test_an_external_id_in_use_is_a_field_error():
    create(domain="a.example", external_id="crm-1")
    errors = field_errors(create, domain="b.example", external_id="crm-1")
    assert errors == {"external_id": ["Another account already uses this external id."]}
    assert Account.objects.count() == 1


def test_an_owner_without_app_access_is_refused(charlie):
    errors = field_errors(create, owner=charlie)
    assert "owner" in errors
    assert Account.objects.count() == 0


# ---------------------------------------------------------------- account_update


def test_update_changes_the_given_fields(alice):
    account = create(owner=alice)
    updated = account_update(
        account=account, data={"domain": "HTTPS://New.Example.org/", "currency": "try", "tier": "gold"}
    )
    stored = Account.objects.get(pk=account.pk)
    assert (updated.domain, stored.domain, stored.currency, stored.tier) == (
        "new.example.org",
        "new.example.org",
        "TRY",
        "gold",
    )


def test_update_keeps_its_own_domain():
    account = create(domain="example.com")
    account_update(account=account, data={"domain": "www.EXAMPLE.com", "name": "Renamed"})
    assert Account.objects.get().name == "Renamed"


@pytest.mark.parametrize("field", ["mrr", "last_touch_at", "churned_at", "churn_reason", "id", "bogus"])
def test_update_refuses_fields_it_does_not_own(field):
    account = create()
    before = table(Account)
    errors = field_errors(account_update, account=account, data={field: "x", "name": "Renamed"})
    assert list(errors) == [field]
    assert table(Account) == before


def test_update_errors_write_nothing():
    account = create()
    create(domain="taken.example")
    before = table(Account)
    errors = field_errors(
        account_update, account=account, data={"name": "Renamed", "domain": "TAKEN.example"}
    )
    assert "domain" in errors
    errors = field_errors(account_update, account=account, data={"name": "", "segment": "x"})
    assert {"name", "segment"} <= set(errors)
    assert table(Account) == before


def test_parent_cycles_are_refused():
    top = create(domain="top.example")
    middle = create(domain="middle.example", parent=top)
    leaf = create(domain="leaf.example", parent=middle)
    before = table(Account)
    for account, parent in [(top, top), (top, middle), (top, leaf), (middle, leaf)]:
        errors = field_errors(account_update, account=account, data={"parent": parent})
        assert "parent" in errors, (account, parent)
        assert "own parent" in " ".join(errors["parent"])
    assert table(Account) == before
    # A parent that makes no cycle is fine.
    other = create(domain="other.example")
    account_update(account=top, data={"parent": other})
    assert Account.objects.get(pk=top.pk).parent == other


# ---------------------------------------------------------------- account_reassign_owner


@pytest.fixture
def account(alice):
    return AccountFactory(owner=alice)


@pytest.mark.parametrize("manager", ["carol", "dave"])
def test_managers_and_admins_reassign_an_account(request, account, bob, manager):
    by = request.getfixturevalue(manager)
    result = account_reassign_owner(account=account, owner=bob, by=by)
    assert result.owner == bob
    assert Account.objects.get(pk=account.pk).owner == bob


def test_a_manager_may_take_an_account_themselves(account, carol):
    account_reassign_owner(account=account, owner=carol, by=carol)
    assert Account.objects.get(pk=account.pk).owner == carol


@pytest.mark.parametrize("csm", ["alice", "bob"])
def test_a_csm_cannot_reassign_even_their_own_account(request, account, bob, csm):
    by = request.getfixturevalue(csm)
    with pytest.raises(PermissionError):
        account_reassign_owner(account=account, owner=bob, by=by)
    assert Account.objects.get(pk=account.pk).owner.email == "alice@staff.example"


def test_an_inactive_manager_cannot_reassign(account, bob):
    former = UserFactory(role=Role.MANAGER, is_active=False)
    with pytest.raises(PermissionError):
        account_reassign_owner(account=account, owner=bob, by=former)


def test_charlie_without_a_role_cannot_reassign(account, bob, charlie):
    with pytest.raises(PermissionError):
        account_reassign_owner(account=account, owner=bob, by=charlie)


def test_the_new_owner_must_be_an_active_csm_or_manager(account, alice, carol, charlie):
    gone = UserFactory(role=Role.CSM, is_active=False)
    for owner in (charlie, gone):
        errors = field_errors(account_reassign_owner, account=account, owner=owner, by=carol)
        assert "owner" in errors
        assert Account.objects.get(pk=account.pk).owner == alice


# ---------------------------------------------------------------- contact_create


def test_contact_create_stores_a_lowercased_email(account):
    contact = contact_create(
        account=account, name=" Ann Lee ", email=" Ann@Customer.Example ", role="champion"
    )
    stored = Contact.objects.get(pk=contact.pk)
    assert (stored.name, stored.email, stored.role, stored.language) == (
        "Ann Lee",
        "ann@customer.example",
        "champion",
        "en",
    )


def test_duplicate_contact_email_in_another_case_is_a_field_error(account):
    contact_create(account=account, name="Ann", email="ann@customer.example")
    before = table(Contact)
    errors = field_errors(contact_create, account=account, name="Ann again", email="ANN@Customer.Example")
    assert errors == {"email": ["This account already has a contact with this email."]}
    assert table(Contact) == before


def test_a_stored_mixed_case_email_also_counts_as_a_duplicate(account):
    ContactFactory(account=account, email="Ben@Customer.Example")  # written around the service
    errors = field_errors(contact_create, account=account, name="Ben", email="ben@customer.example")
    assert "email" in errors, errors
    assert Contact.objects.count() == 1


def test_the_same_email_may_be_a_contact_of_another_account(account, bob_account):
    contact_create(account=account, name="Ann", email="ann@customer.example")
    contact_create(account=bob_account, name="Ann", email="ANN@customer.example")
    assert Contact.objects.filter(email="ann@customer.example").count() == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"name": ""}, "name"),
        ({"role": "overlord"}, "role"),
        ({"language": "xx"}, "language"),
    ],
)
def test_contact_field_errors(account, overrides, field):
    values = {"account": account, "name": "Ann", "email": "ann@customer.example"}
    values.update(overrides)
    assert field in field_errors(contact_create, **values)
    assert Contact.objects.count() == 0


# ---------------------------------------------------------------- touchpoint_log


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "carrier_pigeon"}, "kind"),
        ({"summary": ""}, "summary"),
        ({"summary": "   \n "}, "summary"),
        ({"summary": "x" * 5001}, "summary"),
        ({"occurred_at": timezone.now() + dt.timedelta(days=3)}, "occurred_at"),
    ],
)
def test_touchpoint_field_errors_write_nothing(account, alice, overrides, field):
    values = {"account": account, "author": alice, "kind": "call", "summary": "Talked renewal."}
    values.update(overrides)
    assert field in field_errors(touchpoint_log, **values)
    assert Touchpoint.objects.count() == 0
    assert Account.objects.get(pk=account.pk).last_touch_at is None


def test_touchpoint_contact_must_belong_to_the_account(account, bob_account, alice):
    stranger = ContactFactory(account=bob_account)
    errors = field_errors(
        touchpoint_log, account=account, author=alice, kind="call", summary="Hi", contact=stranger
    )
    assert list(errors) == ["contact"]
    assert Touchpoint.objects.count() == 0


def test_touchpoint_is_stored_with_its_contact(account, alice):
    ann = ContactFactory(account=account)
    touchpoint = touchpoint_log(
        account=account, author=alice, kind="qbr", summary="  QBR went well. ", contact=ann
    )
    stored = Touchpoint.objects.get(pk=touchpoint.pk)
    assert (stored.kind, stored.summary, stored.contact, stored.author) == (
        "qbr",
        "QBR went well.",
        ann,
        alice,
    )


def test_last_touch_is_the_newest_touchpoint_and_never_moves_back(account, alice):
    now = timezone.now().replace(microsecond=0)
    first = touchpoint_log(account=account, author=alice, kind="call", summary="Kick-off", occurred_at=now)
    assert Account.objects.get(pk=account.pk).last_touch_at == now

    older = now - dt.timedelta(days=10)
    touchpoint_log(account=account, author=alice, kind="note", summary="Backfilled note", occurred_at=older)
    assert Account.objects.get(pk=account.pk).last_touch_at == now

    newer = now + dt.timedelta(hours=2)  # later today is not "the future"
    touchpoint_log(account=account, author=alice, kind="email", summary="Follow-up", occurred_at=newer)
    assert Account.objects.get(pk=account.pk).last_touch_at == newer
    assert Touchpoint.objects.filter(account=account).count() == 3
    assert first.occurred_at == now


def test_first_touchpoint_in_the_past_sets_last_touch(account, alice):
    when = timezone.now().replace(microsecond=0) - dt.timedelta(days=40)
    touchpoint_log(account=account, author=alice, kind="meeting", summary="On site", occurred_at=when)
    assert Account.objects.get(pk=account.pk).last_touch_at == when
