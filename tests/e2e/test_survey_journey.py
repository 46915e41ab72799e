"""Journey: a CSM launches an NPS campaign and watches its progress bar reach the end; a customer
opens the mail's link on a phone, in Turkish, confirms the clicked score and explains it; the
answer is on the account and the detractor's follow-up task is in the CSM's inbox. And a survey
completed with the keyboard alone.

The sending runs in this test's process while the page polls (the real worker is exercised in
tests/integration/test_survey_dispatch.py): the launch's background job is captured, and the
test writes the outbox and sends one chunk, waits for the page to show it, then sends the rest.
"""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django.core import mail

from feedback import services_outbox as outbox
from feedback.models import CampaignRound, Response
from health.models import Task
from tests.factories import PASSWORD, AccountFactory, ContactFactory, UserFactory
from tests.feedback import factories as f

from .conftest import log_in

pytestmark = pytest.mark.browser

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}


@pytest.fixture
def portfolio(transactional_db):
    alice = UserFactory(email="alice@staff.example", full_name="Alice Archer", role="csm")
    UserFactory(email="bob@staff.example", role="csm")
    account = AccountFactory(
        owner=alice, name="Anadolu Lojistik", domain="anadolu.example", segment="enterprise"
    )
    dana = ContactFactory(account=account, name="Ayşe Yılmaz", email="ayse@anadolu.example", language="tr")
    others = [ContactFactory(account=AccountFactory(owner=alice)) for _ in range(11)]
    f.survey("nps")  # the standard surveys (a flushed database has none)
    f.survey("csat")
    f.survey("ces")
    return alice, account, dana, others


@pytest.fixture
def captured_jobs():
    """Background jobs the pages enqueue, kept for the test to run (no broker in this test)."""
    jobs: list[tuple[str, dict]] = []
    with (
        mock.patch("feedback.tasks.enqueue", side_effect=lambda task, **kw: jobs.append((task.name, kw))),
        mock.patch("health.tasks.account_health_recompute_task.apply_async"),
    ):
        yield jobs


def _link(message, score: int) -> str:
    match = re.search(r"http://127\.0\.0\.1:8000(/s/[\w-]+/)\?score=" + str(score) + r"\b", message.body)
    assert match, message.body
    return match.group(1) + f"?score={score}"


def test_launch_watch_progress_answer_on_a_phone_in_turkish_and_follow_up(
    page, new_context, portfolio, captured_jobs
):
    alice, account, dana, _others = portfolio
    log_in(page, alice.email, PASSWORD)
    page.get_by_role("link", name="Surveys").click()
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Name").fill("Q4 NPS")
    page.locator("#id_survey").select_option(label="Net Promoter Score (NPS)")
    page.get_by_role("button", name="Save and review the audience").click()
    page.wait_for_url(re.compile(r"/feedback/campaigns/\d+/$"))
    assert page.locator('[data-preview="send"]').inner_text() == "12"

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Launch").click()
    page.locator(".message.success").wait_for()
    assert [name for name, _ in captured_jobs] == ["feedback.tasks.round_start_task"]
    rnd = CampaignRound.objects.get()

    # The test plays the worker, one step at a time, while the page polls every two seconds.
    outbox.round_start(round_id=rnd.pk)
    assert outbox.invitations_send_chunk(round_id=rnd.pk, limit=5).claimed
    bar = page.locator("#progress progress")
    page.wait_for_function(
        "() => { const p = document.querySelector('#progress progress');"
        " return p && p.value === 5 && p.max === 12; }",
        timeout=15_000,
    )  # seen part-way
    assert page.locator("#progress .progress-percent").inner_text() == "41%"  # 5 of 12, rounded down
    while outbox.invitations_send_chunk(round_id=rnd.pk, limit=5).claimed:
        pass
    page.wait_for_function(
        "() => document.querySelector('#progress .progress-percent')?.innerText === '100%'", timeout=15_000
    )
    assert bar.get_attribute("value") == bar.get_attribute("max") == "12"
    assert page.locator('#progress [data-count="sent"]').inner_text() == "12"
    assert page.locator("#progress").get_attribute("hx-trigger") is None  # polling stopped
    assert page.console_problems == []

    # The customer: the mail's link, on a phone, in Turkish (the contact's language).
    message = next(m for m in mail.outbox if m.to == [dana.email])
    assert message.subject == "Bizi önerir misiniz? Söylemek için tek tıklama yeterli"
    phone = new_context(locale="tr-TR", **PHONE)
    customer = phone.new_page()
    customer.goto(_link(message, 3))
    assert customer.locator("html").get_attribute("lang") == "tr"
    assert customer.locator("input[name=score]:checked").get_attribute("value") == "3"
    assert customer.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth"
    )  # no sideways scroll
    box = customer.locator("label[for=score-3]").bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44  # a finger-sized target
    assert not Response.objects.exists()  # opening the link recorded nothing
    customer.get_by_label("Puanınızın ana nedeni nedir? Neyi daha iyi yapmalıyız?").fill(
        "Teslimat raporları çok yavaş."
    )
    customer.get_by_role("button", name="Yanıtımı gönder").click()
    customer.get_by_role("heading", name="Teşekkürler!").wait_for()
    assert "Puanınız: 3" in customer.content()

    stored = Response.objects.get()
    assert (stored.score, stored.band, stored.language, stored.follow_up) == (
        3,
        "detractor",
        "tr",
        "Teslimat raporları çok yavaş.",
    )

    # Back to the CSM: the answer is on the account, and the follow-up task is in the inbox.
    page.goto(f"/accounts/{account.pk}/")
    card = page.locator(".feedback-card")
    assert card.locator(".score-chip.band-detractor").first.inner_text() == "3"
    assert "Teslimat raporları çok yavaş." in card.inner_text()
    # The timeline arrives by htmx after the page (like the side cards): wait for its entry.
    page.locator("#timeline li.tl-item", has_text="NPS 3 (Detractor / unhappy) · Ayşe Yılmaz").wait_for()
    page.get_by_role("link", name=re.compile("^Tasks")).click()
    task = page.locator("#task-list > li", has_text="Follow up: NPS 3 from Ayşe Yılmaz")
    task.wait_for()
    assert Task.objects.get().owner == alice


def test_a_survey_completed_with_the_keyboard_alone(new_context, portfolio, captured_jobs):
    alice, _account, dana, _others = portfolio
    invitation = f.invitation(contact=dana, campaign_obj=f.campaign(by=alice, kind="nps"))
    page = new_context().new_page()
    page.goto(f"/s/{invitation.token}/?lang=en")
    for _ in range(12):  # skip link, the language switcher, then the scale
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "score":
            break
    assert page.evaluate("document.activeElement.name") == "score"
    assert page.evaluate("getComputedStyle(document.activeElement.nextElementSibling).outlineStyle") != "none"
    for _ in range(8):
        page.keyboard.press("ArrowRight")
    assert page.locator("input[name=score]:checked").get_attribute("value") == "8"
    label = page.locator("#follow-up-label")
    assert label.inner_text() == "What is the main reason for your score? What would make it a 10?"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "follow_up"
    page.keyboard.type("Good, but the mobile app lags.")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "comment"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.type") == "submit"
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Thank you!").wait_for()
    stored = Response.objects.get()
    assert (stored.score, stored.follow_up) == (8, "Good, but the mobile app lags.")
