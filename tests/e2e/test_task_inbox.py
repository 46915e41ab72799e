"""Journey: a CSM works the task inbox in place (complete, snooze, reassign) without a page reload;
the navigation count follows."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from health.models import Task
from tests.factories import PASSWORD, AccountFactory, UserFactory

from .conftest import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def inbox(transactional_db):
    alice = UserFactory(email="alice@staff.example", full_name="Alice Archer", role="csm")
    UserFactory(email="bob@staff.example", full_name="Bob Baker", role="csm")
    account = AccountFactory(owner=alice, name="Alpha Industries")
    today = timezone.localdate()
    tasks = {}
    for title, due, priority in [
        ("Call the champion", -2, 4),
        ("Send the renewal quote", 0, 2),
        ("Prepare the QBR deck", 4, 2),
    ]:
        tasks[title] = Task.objects.create(
            account=account,
            owner=alice,
            title=title,
            due_date=today + dt.timedelta(days=due),
            priority=priority,
        )
    return alice, tasks


def test_csm_completes_snoozes_and_reassigns_in_place(page, inbox):
    alice, tasks = inbox
    log_in(page, alice.email, PASSWORD)
    count = page.locator("#nav-task-count")
    assert count.inner_text().startswith("3")
    page.get_by_role("link", name=re.compile("^Tasks")).click()
    page.wait_for_url(re.compile(r"/tasks/$"))
    rows = page.locator("#task-list > li")
    assert rows.count() == 3
    assert rows.first.locator(".task-title strong").inner_text() == "Call the champion"  # overdue first
    page.evaluate("window.__sameDocument = true")

    first = page.locator(f"#task-{tasks['Call the champion'].pk}")
    first.get_by_role("button", name="Complete").click()
    page.locator(f"#task-{tasks['Call the champion'].pk} .task-notice").wait_for()
    assert "Done." in page.locator(f"#task-{tasks['Call the champion'].pk}").inner_text()
    page.wait_for_function("document.querySelector('#nav-task-count').innerText.startsWith('2')")

    snooze_row = page.locator(f"#task-{tasks['Send the renewal quote'].pk}")
    snooze_row.get_by_label("Snooze until").select_option(index=2)
    snooze_row.get_by_role("button", name="Snooze").click()
    notice = page.locator(f"#task-{tasks['Send the renewal quote'].pk} .task-notice")
    notice.wait_for()
    assert notice.inner_text().startswith("Snoozed until")
    page.wait_for_function("document.querySelector('#nav-task-count').innerText.startsWith('1')")

    move_row = page.locator(f"#task-{tasks['Prepare the QBR deck'].pk}")
    move_row.get_by_label("Reassign to").select_option(label="Bob Baker")
    move_row.get_by_role("button", name="Reassign").click()
    notice = page.locator(f"#task-{tasks['Prepare the QBR deck'].pk} .task-notice")
    notice.wait_for()
    assert notice.inner_text() == "Reassigned to Bob Baker."
    page.wait_for_function("document.querySelector('#nav-task-count').innerText.startsWith('0')")

    assert page.evaluate("window.__sameDocument") is True  # no page load happened
    done, snoozed, moved = (Task.objects.get(pk=tasks[t].pk) for t in tasks)
    assert done.status == "done" and done.completed_by == alice
    assert snoozed.snoozed_until and snoozed.snoozed_until > timezone.localdate()
    assert moved.owner.email == "bob@staff.example"

    # undo the completion in place
    page.locator(f"#task-{done.pk}").get_by_role("button", name="Undo").click()
    page.locator(f"#task-{done.pk}").get_by_role("button", name="Complete").wait_for()
    done.refresh_from_db()
    assert done.status == "open"
    assert not page.console_problems


def test_inbox_on_a_phone(page, inbox):
    alice, _tasks = inbox
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, alice.email, PASSWORD)
    page.goto("/tasks/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page scrolls sideways on a phone ({width}px)"
    assert page.locator("#task-list > li").first.get_by_role("button", name="Complete").is_visible()
