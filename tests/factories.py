"""factory_boy factories: every test builds its own data; none depends on demo data."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import Account, Contact, MrrMovement, Touchpoint, UsageEvent
from team.models import Role, User

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@staff.example")
    full_name = factory.Faker("name")
    role = Role.CSM
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Account {n:05d}")
    domain = factory.Sequence(lambda n: f"account{n}.example.com")
    segment = "smb"
    tier = "bronze"
    plan = "Growth"
    lifecycle_stage = "adoption"
    owner = factory.SubFactory(UserFactory)
    contract_start = dt.date(2025, 1, 1)
    renewal_date = dt.date(2027, 1, 1)
    currency = "USD"
    mrr = Decimal("0")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@customer.example")
    role = "user"
    language = "en"


class MrrMovementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MrrMovement

    account = factory.SubFactory(AccountFactory)
    kind = "new"
    date = dt.date(2025, 1, 1)
    amount = Decimal("100.00")
    original_amount = factory.LazyAttribute(lambda o: abs(o.amount))
    original_currency = "USD"


class TouchpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Touchpoint

    account = factory.SubFactory(AccountFactory)
    author = factory.LazyAttribute(lambda o: o.account.owner)
    kind = "call"
    summary = factory.Faker("sentence")
    occurred_at = factory.LazyFunction(timezone.now)


class UsageEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UsageEvent

    account = factory.SubFactory(AccountFactory)
    name = "report.viewed"
    occurred_at = factory.LazyFunction(timezone.now)
