"""A customer refers a company from their phone through the public link (no login); a manager
approves a reward redemption in the approval queue."""

import re

import pytest

from loyalty import services
from loyalty.models import LinkKind, Redemption, Referral
from tests.factories import PASSWORD, AccountFactory, ContactFactory, UserFactory

from .conftest import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def programme(transactional_db):
    alice = UserFactory(email="alice@staff.example", role="csm")
    carol = UserFactory(email="carol@staff.example", full_name="Carol Chen", role="manager")
    account = AccountFactory(owner=alice, name="Alpha Industries", domain="alpha.example")
    contact = ContactFactory(account=account, name="Pat Lee", email="pat@alpha.example")
    return {"alice": alice, "carol": carol, "account": account, "contact": contact}


def test_customer_refers_a_company_on_a_phone(new_context, programme):
    link = services.member_link_get(
        account=programme["account"], contact=programme["contact"], kind=LinkKind.REFERRAL
    )
    context = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    errors = []
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    phone.goto(link.get_absolute_url())
    assert phone.get_by_role("heading", name="Know a company we could help?").is_visible()
    assert "Alpha Industries" in phone.content() and "pat@alpha.example" not in phone.content()
    # Nothing wider than the screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.get_by_role("button", name="Send referral").click()
    assert phone.get_by_text("Please check the fields marked below.").is_visible()
    phone.get_by_label("Company name").fill("Zeta Corp")
    phone.get_by_label("Company website").fill("zeta.example")
    phone.get_by_label("Their email").fill("cto@zeta.example")
    phone.get_by_role("button", name="Send referral").click()
    phone.wait_for_url(re.compile(r"/thanks/(\?lang=\w+)?$"))
    assert phone.get_by_role("heading", name="What happens next").is_visible()
    referral = Referral.objects.get()
    assert (referral.company_name, referral.domain, referral.status) == (
        "Zeta Corp",
        "zeta.example",
        "submitted",
    )
    assert not errors


def test_manager_approves_a_redemption(page, programme):
    account = programme["account"]
    services.points_adjust(account=account, points=500, reason="welcome", by=programme["carol"])
    reward = services.Reward.objects.create(name="VIP summit ticket", kind="vip_ticket", cost=300, stock=5)
    redemption = services.redemption_request(account=account, reward=reward, by=programme["alice"])

    log_in(page, "carol@staff.example", PASSWORD)
    page.get_by_role("link", name="Rewards").first.click()
    page.get_by_role("link", name="Approval queue").click()
    page.get_by_label("Status").select_option("pending")
    page.get_by_role("link", name="VIP summit ticket").click()
    page.get_by_role("button", name="Approve").click()
    assert page.get_by_text("Approved. Fulfil it when the reward is sent.").is_visible()
    page.get_by_label("Code").fill("SUMMIT-2026-0042")
    page.get_by_role("button", name="Mark fulfilled").click()
    assert page.get_by_text("Marked as fulfilled.").is_visible()
    redemption.refresh_from_db()
    assert redemption.status == "fulfilled" and redemption.decided_by == programme["carol"]
    assert Redemption.objects.get().fulfilment_code == "SUMMIT-2026-0042"
    assert not page.console_problems
