"""contact_update and touchpoints_delete: the rules the admin, import and API share."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Contact, Touchpoint
from accounts.services import contact_update, touchpoint_log, touchpoints_delete
from tests.factories import ContactFactory


def test_contact_update_normalises_and_refuses_a_taken_email(alice_account):
    ContactFactory(account=alice_account, email="taken@customer.example")
    contact = ContactFactory(account=alice_account, email="me@customer.example")
    contact_update(contact=contact, data={"name": "  Ada  ", "email": " ADA@Customer.Example "})
    contact.refresh_from_db()
    assert (contact.name, contact.email) == ("Ada", "ada@customer.example")
    with pytest.raises(ValidationError) as exc:
        contact_update(contact=contact, data={"email": "TAKEN@customer.example"})
    assert exc.value.message_dict
    contact.refresh_from_db()
    assert contact.email == "ada@customer.example"


def test_contact_update_refuses_unknown_fields_and_bad_choices(alice_account, bob_account):
    contact = ContactFactory(account=alice_account)
    with pytest.raises(ValidationError) as exc:
        contact_update(contact=contact, data={"account": bob_account})
    assert "account" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        contact_update(contact=contact, data={"role": "overlord"})
    assert "role" in exc.value.message_dict
    assert Contact.objects.get(pk=contact.pk).account == alice_account


def test_deleting_touchpoints_moves_last_touch_back(alice, alice_account):
    now = timezone.now()
    old = touchpoint_log(
        account=alice_account,
        author=alice,
        kind="call",
        summary="old",
        occurred_at=now - dt.timedelta(days=5),
    )
    new = touchpoint_log(account=alice_account, author=alice, kind="call", summary="new", occurred_at=now)
    touchpoints_delete(touchpoints=[new])
    alice_account.refresh_from_db()
    assert alice_account.last_touch_at == old.occurred_at
    assert touchpoints_delete(touchpoints=[old]) == 1
    alice_account.refresh_from_db()
    assert alice_account.last_touch_at is None
    assert not Touchpoint.objects.exists()
