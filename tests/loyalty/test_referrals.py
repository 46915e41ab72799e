"""Referrals: the public form, every fraud rule, and conversion from each account entry path."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from accounts.services import account_create
from loyalty import services
from loyalty.models import LedgerEntry, LinkKind, ReferralStatus
from tests.factories import AccountFactory, ContactFactory

from .factories import MemberLinkFactory, ReferralFactory
from .helpers import rule

pytestmark = pytest.mark.django_db


@pytest.fixture
def link(alice_account):
    contact = ContactFactory(account=alice_account, email="pat@alpha.example")
    return services.member_link_get(account=alice_account, contact=contact, kind=LinkKind.REFERRAL)


def submit(link, **overrides):
    data = {
        "company_name": "Zeta Corp",
        "domain": "https://www.Zeta.example/",
        "contact_email": "cto@zeta.example",
    }
    data.update(overrides)
    return services.referral_submit(link=link, ip="203.0.113.5", **data)


def test_public_form_records_a_clean_referral(client, link):
    response = client.post(
        link.get_absolute_url(),
        {"company_name": "Zeta Corp", "domain": "zeta.example", "contact_email": "cto@zeta.example"},
        follow=True,
    )
    assert "What happens next" in response.content.decode()
    referral = link.referrals.get()
    assert (referral.status, referral.domain, referral.flags) == (
        ReferralStatus.SUBMITTED,
        "zeta.example",
        [],
    )


def test_public_form_bad_input_shows_field_errors_and_writes_nothing(client, link):
    response = client.post(
        link.get_absolute_url(), {"company_name": "", "domain": "not a domain", "contact_email": "x"}
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert set(form.errors) >= {"company_name", "contact_email"}
    response = client.post(
        link.get_absolute_url(),
        {"company_name": "Z", "domain": "not a domain", "contact_email": "a@b.example"},
    )
    assert response.status_code == 422 and "domain" in response.context["form"].errors
    assert not link.referrals.exists()


def test_self_referral_is_flagged(link):
    assert "self_referral" in submit(link, domain="alpha.example", contact_email="x@alpha.example").flags
    assert "self_referral" in submit(link, domain="other.example", contact_email="pat@alpha.example").flags


def test_already_a_customer_is_flagged(link, bob_account):
    referral = submit(link, domain=bob_account.domain, contact_email=f"x@{bob_account.domain}")
    assert referral.flags == ["already_customer"] and referral.status == ReferralStatus.FLAGGED


def test_same_company_twice_is_flagged(link):
    assert submit(link).flags == []
    assert submit(link).flags == ["duplicate"]


def test_velocity_per_link_and_per_address(link, settings):
    settings.LOYALTY_REFERRAL_DAILY_LIMIT = 2
    flags = [submit(link, domain=f"c{i}.example", contact_email=f"a@c{i}.example").flags for i in range(3)]
    assert flags == [[], [], ["velocity"]]
    other = MemberLinkFactory()
    r = services.referral_submit(
        link=other, company_name="Q", domain="q.example", contact_email="a@q.example", ip="203.0.113.5"
    )
    assert r.flags == ["velocity"]


def test_conversion_on_account_create_awards_referrer_once(
    link, alice_account, django_capture_on_commit_callbacks
):
    rule("referral_converted", 1000)
    referral = submit(link)
    with django_capture_on_commit_callbacks(execute=True):
        account = account_create(
            name="Zeta", domain="zeta.example", segment="smb", contract_start=dt.date(2026, 1, 1)
        )
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.CONVERTED and referral.converted_account == account
    entry = LedgerEntry.objects.get(account=alice_account, event="referral_converted")
    assert entry.points == 1000 and entry.contact == link.contact
    services.referral_convert_for_account(account=account)
    assert LedgerEntry.objects.filter(account=alice_account, event="referral_converted").count() == 1


def test_conversion_through_the_api(client, carol, link, alice_account, django_capture_on_commit_callbacks):
    rule("referral_converted", 500)
    submit(link)
    client.force_login(carol)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/accounts/",
            {"name": "Zeta", "domain": "zeta.example", "segment": "smb", "contract_start": "2026-01-01"},
            content_type="application/json",
        )
    assert response.status_code == 201, response.content
    assert link.referrals.get().status == ReferralStatus.CONVERTED
    assert LedgerEntry.objects.get(account=alice_account, event="referral_converted").points == 500


def test_conversion_through_the_admin(admin_client, link, alice_account, django_capture_on_commit_callbacks):
    rule("referral_converted", 700)
    submit(link)
    page = admin_client.get(reverse("admin:accounts_account_add")).content.decode()
    management = dict(
        re.findall(r'name="([\w-]+-(?:TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)"[^>]*value="(\d*)"', page)
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:accounts_account_add"),
            {
                **management,
                "name": "Zeta",
                "domain": "zeta.example",
                "segment": "smb",
                "tier": "bronze",
                "lifecycle_stage": "onboarding",
                "contract_start": "2026-01-01",
                "currency": "USD",
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert LedgerEntry.objects.get(account=alice_account, event="referral_converted").points == 700


def test_flagged_referral_waits_for_a_manager(client, alice, carol, link, bob_account):
    referral = submit(link, domain=bob_account.domain, contact_email=f"x@{bob_account.domain}")
    client.force_login(alice)
    url = reverse("loyalty:referral", args=[referral.pk])
    assert client.post(url, {"decision": "qualify"}).status_code == 403
    client.force_login(carol)
    bad = client.post(url, {"decision": "reject", "note": ""})
    assert bad.status_code == 422 and "Say why" in bad.content.decode()
    assert client.post(url, {"decision": "reject", "note": "Existing customer"}).status_code == 302
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.REJECTED


def test_flagged_referral_does_not_convert_automatically(link, django_capture_on_commit_callbacks):
    submit(link)
    dup = submit(link)  # flagged duplicate
    with django_capture_on_commit_callbacks(execute=True):
        AccountFactory(domain="zeta.example")
    dup.refresh_from_db()
    assert dup.status == ReferralStatus.FLAGGED
    assert link.referrals.filter(status=ReferralStatus.CONVERTED).count() == 1


def test_referral_list_query_count_is_constant(client, carol, django_assert_max_num_queries):
    client.force_login(carol)
    ReferralFactory.create_batch(2)
    with django_assert_max_num_queries(8) as few:
        client.get(reverse("loyalty:referrals"))
    ReferralFactory.create_batch(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("loyalty:referrals")).status_code == 200
