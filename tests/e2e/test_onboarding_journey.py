"""Journey (issue 5): a new account gets its segment's onboarding plan; the CSM finds it on the
onboarding board, ticks milestones on the plan page (inline, without a page load), which moves
the progress, sends one celebration and sets the time-to-value; the CSM shares the plan; the
customer opens the link on a phone-sized screen; the CSM revokes it and the link dies."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.utils import timezone

from accounts.services import account_create
from cs_app.celery import app as celery_app
from onboarding.models import Celebration, Milestone, OnboardingPlan
from tests.factories import PASSWORD, ContactFactory, UserFactory

from .conftest import log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def eager_celery():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True  # the celebration is sent in the live server's thread
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def onboarding(transactional_db):
    # A browser test flushes the database: the data migration's default templates come back.
    import importlib

    from django.apps import apps

    importlib.import_module("onboarding.migrations.0002_default_templates").create(apps, None)
    alice = UserFactory(email="alice@staff.example", full_name="Alice Archer", role="csm")
    account = account_create(
        name="Zeta Analytics",
        domain="zeta.example",
        segment="smb",
        owner=alice,
        contract_start=timezone.localdate() - dt.timedelta(days=5),
    )
    ContactFactory(
        account=account, name="Ayşe Demir", email="ayse@zeta.example", language="tr", role="champion"
    )
    ContactFactory(account=account, name="Sam Lee", email="sam@zeta.example", language="en")
    return alice, account


def _tick(page, name: str) -> None:
    row = page.locator("li.ms", has_text=name)
    row.get_by_role("button", name=f"Mark “{name}” done").click()
    row.locator("button.tick.is-done").wait_for()


def test_csm_ticks_milestones_and_the_customer_opens_the_shared_plan_on_a_phone(
    page, new_context, onboarding, eager_celery
):
    alice, account = onboarding
    plan = OnboardingPlan.objects.get(account=account)  # automatic: the SMB template
    assert plan.template.name == "SMB onboarding"

    log_in(page, alice.email, PASSWORD)
    page.get_by_role("link", name="Onboarding", exact=True).click()
    page.wait_for_url(re.compile(r"/onboarding/$"))
    board_row = page.locator("table.board tbody tr", has_text="Zeta Analytics")
    assert "Behind" in board_row.inner_text()  # the welcome call (day 1) is overdue
    board_row.get_by_role("link", name="Zeta Analytics").click()
    page.wait_for_url(re.compile(rf"/onboarding/accounts/{account.pk}/$"))
    assert page.locator("#plan-percent").inner_text() == "0%"

    page.evaluate("window.__samePage = true")
    _tick(page, "Welcome call")  # weight 1 of 9
    page.wait_for_function("document.querySelector('#plan-percent').innerText === '11%'")
    _tick(page, "Account set up and data imported")  # weight 2, celebrates
    page.wait_for_function("document.querySelector('#plan-percent').innerText === '33%'")
    _tick(page, "First project live")  # weight 3, delivers value, celebrates
    page.wait_for_function("document.querySelector('#plan-percent').innerText === '67%'")
    assert page.evaluate("window.__samePage") is True  # inline: no page load
    assert "5 days" in page.locator("#plan-ttv").inner_text()  # value reached on day 5
    assert "On track" in page.locator("#plan-summary").inner_text()
    assert Milestone.objects.filter(plan=plan, status="done").count() == 3

    # One congratulation per contact and celebrating milestone, in the contact's language.
    assert Celebration.objects.filter(status="sent").count() == 4
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects.count("Kilometre taşına ulaşıldı: First project live") == 1
    assert subjects.count("Milestone reached: Account set up and data imported") == 1

    # Edit a milestone inline.
    team = plan.milestones.get(name="Team invited")
    row = page.locator(f"#milestone-{team.pk}")
    row.get_by_role("link", name=re.compile("Edit")).click()
    row.get_by_label("Milestone").fill("Team invited (5 people)")
    row.get_by_role("button", name="Save").click()
    row.locator(".ms-notice").wait_for()
    assert "Team invited (5 people)" in row.inner_text()

    # Share the plan with the Turkish champion.
    page.get_by_label("For").select_option(label="Ayşe Demir (Turkish)")
    page.get_by_role("button", name="Create the link").click()
    link = page.locator("#share-url").input_value()
    assert "/onboarding/shared/" in link
    assert page.console_problems == []

    # The customer, on a phone, without logging in.
    phone = new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    customer = phone.new_page()
    problems: list[str] = []
    customer.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    customer.goto(link)
    heading = customer.get_by_role("heading", level=1)
    assert heading.inner_text() == "SMB onboarding"
    text = customer.locator("main").inner_text()
    assert "Zeta Analytics" in text
    assert "Başlangıç ilerlemesi: 5 kilometre taşından 3 tanesi tamamlandı." in text
    assert "67%" in text
    assert "Account set up and data imported" in text and "Team invited (5 people)" in text
    assert "Welcome call" not in text and "30-day check-in" not in text  # CSM-side steps stay internal
    assert "Alice" not in text
    # Fits the phone: nothing wider than the screen, the progress bar and steps are visible.
    assert customer.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert customer.locator("progress").first.is_visible()
    box = customer.locator(".public-step").first.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    customer.get_by_role("link", name="English").click()
    customer.wait_for_url(re.compile(r"lang=en"))
    assert "Onboarding progress: 3 of 5 milestones done." in customer.locator("main").inner_text()
    assert problems == []

    # The CSM revokes the link (confirming); the customer's next visit is a 404.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke the link").click()
    page.get_by_text("The link is revoked").wait_for()
    response = customer.goto(link)
    assert response.status == 404
    assert "This link does not work" in customer.locator("main").inner_text()
