"""Loyalty factories: rewards, links, referrals, asks (entries go through the services)."""

import factory

from loyalty.models import AdvocacyAsk, LinkKind, MemberLink, Referral, Reward
from tests.factories import AccountFactory, ContactFactory, UserFactory


class RewardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reward

    name = factory.Sequence(lambda n: f"Gift card {n}")
    kind = "gift_card"
    cost = 100
    stock = None


class MemberLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MemberLink

    kind = LinkKind.REFERRAL
    account = factory.SubFactory(AccountFactory)
    contact = factory.SubFactory(ContactFactory, account=factory.SelfAttribute("..account"))


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Referral

    link = factory.SubFactory(MemberLinkFactory)
    referrer_account = factory.SelfAttribute("link.account")
    referrer_contact = factory.SelfAttribute("link.contact")
    company_name = factory.Sequence(lambda n: f"Prospect {n}")
    domain = factory.Sequence(lambda n: f"prospect{n}.example")
    contact_email = factory.LazyAttribute(lambda o: f"buyer@{o.domain}")


class AdvocacyAskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdvocacyAsk

    contact = factory.SubFactory(ContactFactory)
    kind = "review"
    asked_by = factory.SubFactory(UserFactory)
