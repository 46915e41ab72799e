"""The CSM's task inbox: ordering, counts in the navigation, and complete / snooze / reassign in
place with htmx, with the portfolio's access rules (another CSM's task is a 404)."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from health.models import Task
from tests.factories import AccountFactory

INBOX = reverse("health:inbox")


def task(account, title, due_in, priority=2, owner=None, **extra):
    return Task.objects.create(
        account=account,
        title=title,
        owner=owner or account.owner,
        due_date=timezone.localdate() + dt.timedelta(days=due_in),
        priority=priority,
        **extra,
    )


def titles(response) -> list[str]:
    return [t.title for t in response.context["page"].object_list]


def test_inbox_order_overdue_first_then_due_date_then_priority(client, alice, alice_account):
    task(alice_account, "later low", 5, priority=1)
    task(alice_account, "later urgent", 5, priority=4)
    task(alice_account, "overdue a week", -7, priority=1)
    task(alice_account, "overdue a day urgent", -1, priority=4)
    task(alice_account, "overdue a day normal", -1, priority=2)
    task(alice_account, "today", 0, priority=2)
    task(alice_account, "tomorrow high", 1, priority=3)
    task(alice_account, "snoozed", 3, snoozed_until=timezone.localdate() + dt.timedelta(days=3))
    task(alice_account, "woken", -2, snoozed_until=timezone.localdate())
    task(alice_account, "done", -3, status="done", completed_at=timezone.now())
    client.force_login(alice)
    response = client.get(INBOX)
    assert titles(response) == [
        "overdue a week",
        "woken",
        "overdue a day urgent",
        "overdue a day normal",
        "today",
        "tomorrow high",
        "later urgent",
        "later low",
    ]
    html = response.content.decode()
    assert "8 to do · 4 overdue · 1 snoozed" in html
    assert re.search(r'id="nav-task-count"[^>]*>8<', html)
    assert titles(client.get(INBOX, {"view": "snoozed"})) == ["snoozed"]
    assert titles(client.get(INBOX, {"view": "done"})) == ["done"]


def test_csm_sees_only_own_tasks_manager_may_look_at_anyones(
    client, alice, bob, carol, alice_account, bob_account
):
    task(alice_account, "alice's", 1)
    task(bob_account, "bob's", 1)
    client.force_login(alice)
    assert titles(client.get(INBOX)) == ["alice's"]
    assert titles(client.get(INBOX, {"owner": bob.pk})) == ["alice's"]  # the owner filter is for managers
    client.force_login(carol)
    assert titles(client.get(INBOX)) == []
    response = client.get(INBOX, {"owner": bob.pk})
    assert titles(response) == ["bob's"] and "Tasks of Bob Baker" in response.content.decode()


def test_no_role_is_forbidden_and_anonymous_goes_to_login(client, charlie):
    assert client.get(INBOX).status_code == 302
    client.force_login(charlie)
    assert client.get(INBOX).status_code == 403


def htmx_post(client, name, pk, data=None):
    return client.post(reverse(f"health:{name}", args=[pk]), data or {}, headers={"HX-Request": "true"})


def test_complete_in_place_updates_the_row_and_the_nav_count(client, alice, alice_account):
    first = task(alice_account, "Call the champion", -1)
    task(alice_account, "Send the deck", 2)
    client.force_login(alice)
    response = htmx_post(client, "task_complete", first.pk)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith(f'<li id="task-{first.pk}"')
    assert "Done." in html and "Undo" in html
    assert re.search(r'id="nav-task-count"[^>]*hx-swap-oob="true"[^>]*>1<', html)
    first.refresh_from_db()
    assert (first.status, first.completed_by) == ("done", alice) and first.completed_at
    # completing twice is refused with a message in the row, not a 500
    again = htmx_post(client, "task_complete", first.pk)
    assert again.status_code == 200 and "not open any more" in again.content.decode()
    # undo
    htmx_post(client, "task_reopen", first.pk)
    first.refresh_from_db()
    assert first.status == "open" and first.completed_at is None


def test_snooze_in_place_hides_the_task_until_the_day(client, alice, alice_account):
    item = task(alice_account, "Chase the PO", -2)
    until = timezone.localdate() + dt.timedelta(days=3)
    client.force_login(alice)
    response = htmx_post(client, "task_snooze", item.pk, {"until": until.isoformat()})
    assert "Snoozed until" in response.content.decode()
    item.refresh_from_db()
    assert (item.snoozed_until, item.due_date) == (until, until)
    assert titles(client.get(INBOX)) == []
    assert titles(client.get(INBOX, {"view": "snoozed"})) == ["Chase the PO"]
    bad = htmx_post(client, "task_snooze", item.pk, {"until": "yesterday"})
    assert bad.status_code == 200 and "Enter a valid date." in bad.content.decode()
    past = htmx_post(client, "task_snooze", item.pk, {"until": timezone.localdate().isoformat()})
    assert "Choose a day after today." in past.content.decode()


def test_reassign_in_place_to_another_csm(client, alice, bob, charlie, alice_account):
    item = task(alice_account, "Prepare the QBR", 3)
    client.force_login(alice)
    refused = htmx_post(client, "task_reassign", item.pk, {"owner": charlie.pk})
    assert "Choose a CSM or manager." in refused.content.decode()
    response = htmx_post(client, "task_reassign", item.pk, {"owner": bob.pk})
    assert "Reassigned to Bob Baker." in response.content.decode()
    item.refresh_from_db()
    assert item.owner == bob
    # now it is bob's: alice can no longer touch it
    assert htmx_post(client, "task_complete", item.pk).status_code == 404


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("task_complete", {}),
        ("task_snooze", {"until": "2099-01-01"}),
        ("task_reassign", {}),
        ("task_reopen", {}),
    ],
)
def test_another_csms_task_is_404(client, alice, bob, bob_account, name, data):
    item = task(bob_account, "Bob's call", 1)
    client.force_login(alice)
    if name == "task_reassign":
        data = {"owner": alice.pk}
    assert htmx_post(client, name, item.pk, data).status_code == 404
    assert client.post(reverse(f"health:{name}", args=[item.pk]), data).status_code == 404
    item.refresh_from_db()
    assert (item.status, item.owner, item.snoozed_until) == ("open", bob, None)


def test_manager_can_work_any_task(client, carol, bob, bob_account):
    item = task(bob_account, "Bob's call", 1)
    client.force_login(carol)
    assert htmx_post(client, "task_complete", item.pk).status_code == 200
    item.refresh_from_db()
    assert item.status == "done" and item.completed_by == carol


def test_actions_work_without_javascript(client, alice, alice_account):
    item = task(alice_account, "Plain form", 1)
    client.force_login(alice)
    response = client.post(reverse("health:task_complete", args=[item.pk]))
    assert response.status_code == 302 and response["Location"] == INBOX
    response = client.get(INBOX)
    assert "Done." in response.content.decode()
    item.refresh_from_db()
    assert item.status == "done"
    assert client.get(reverse("health:task_complete", args=[item.pk])).status_code == 405


def test_inbox_query_count_does_not_grow_with_tasks(client, alice, django_assert_max_num_queries):
    accounts = [AccountFactory(owner=alice) for _ in range(3)]
    for i in range(3):
        task(accounts[i], f"t{i}", i - 1)
    client.force_login(alice)
    with django_assert_max_num_queries(9) as small:
        client.get(INBOX)
    for i in range(40):
        task(accounts[i % 3], f"more {i}", i % 7 - 3, alert=None)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(INBOX)
    assert len(response.context["page"].object_list) == 43


def test_action_query_count_is_constant(client, alice, alice_account, django_assert_max_num_queries):
    items = [task(alice_account, f"t{i}", 1) for i in range(3)]
    client.force_login(alice)
    with django_assert_max_num_queries(12):
        htmx_post(client, "task_complete", items[0].pk)
    with django_assert_max_num_queries(12):
        htmx_post(client, "task_snooze", items[1].pk, {"until": "2099-01-01"})


def test_nav_count_on_every_page_in_one_query(client, alice, alice_account):
    for i in range(5):
        task(alice_account, f"t{i}", i - 2)
    client.force_login(alice)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("accounts:portfolio")).content.decode()
    assert len([q for q in queries.captured_queries if "health_task" in q["sql"]]) == 1
    assert re.search(r'id="nav-task-count" class="nav-count has-overdue"[^>]*>5<', html)
    assert "2 overdue" in html
