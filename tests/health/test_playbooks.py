"""Playbooks: ordered task templates with due-day offsets, applied when an alert opens or by hand."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from health.models import AlertRule, Playbook, PlaybookStep, Task
from health.services import health_scores_recompute, playbook_apply
from tests.account_page import account_360_html
from tests.factories import AccountFactory

from .conftest import set_score


def test_alert_applies_its_rules_playbook_for_the_owning_csm(alice, touch_card):
    account = AccountFactory(owner=alice)
    set_score(account, 20)
    health_scores_recompute()
    today = timezone.localdate()
    tasks = list(Task.objects.filter(account=account).order_by("due_date", "pk"))
    assert [(t.title, t.due_date - today, t.priority, t.owner) for t in tasks] == [
        ("Review the health score: which measures pulled it down", dt.timedelta(days=1), 3, alice),
        ("Call the champion about goals and blockers", dt.timedelta(days=3), 3, alice),
        ("Agree a recovery plan with the customer", dt.timedelta(days=7), 2, alice),
        ("Check that usage and the score have recovered", dt.timedelta(days=21), 2, alice),
    ]
    alert = tasks[0].alert
    assert alert.rule.name == "Health turned red"
    assert all(t.alert == alert and t.playbook.name == "Save an at-risk account" for t in tasks)
    assert tasks[0].notes == "Open the account and read 'Why this score'."
    assert all(t.status == "open" and t.created_at and t.snoozed_until is None for t in tasks)
    assert [t.pk for t in tasks] == sorted(t.pk for t in tasks)  # made in the playbook's step order


def test_rule_without_playbook_or_with_inactive_playbook_creates_no_tasks(alice, touch_card):
    rule = AlertRule.objects.get(name="Health turned red")
    Playbook.objects.filter(pk=rule.playbook_id).update(is_active=False)
    account = AccountFactory(owner=alice)
    set_score(account, 20)
    health_scores_recompute()
    assert account.alerts.count() == 1 and not Task.objects.exists()


def test_unowned_account_gets_unassigned_tasks(touch_card):
    account = AccountFactory(owner=None)
    set_score(account, 20)
    health_scores_recompute()
    assert Task.objects.filter(account=account, owner__isnull=True).count() == 4


def test_apply_a_playbook_by_hand_in_step_order(alice, alice_account):
    playbook = Playbook.objects.create(name="Renewal prep")
    PlaybookStep.objects.create(playbook=playbook, position=2, title="Send the renewal quote", due_in_days=10)
    PlaybookStep.objects.create(
        playbook=playbook, position=1, title="Confirm the decision maker", due_in_days=0, priority=4
    )
    tasks = playbook_apply(playbook=playbook, account=alice_account, by=alice)
    today = timezone.localdate()
    assert [(t.title, t.due_date, t.priority, t.owner, t.created_by) for t in tasks] == [
        ("Confirm the decision maker", today, 4, alice, alice),
        ("Send the renewal quote", today + dt.timedelta(days=10), 2, alice, alice),
    ]


def test_empty_or_inactive_playbook_is_refused(alice_account):
    empty = Playbook.objects.create(name="Empty")
    with pytest.raises(ValidationError, match="no steps"):
        playbook_apply(playbook=empty, account=alice_account)
    off = Playbook.objects.create(name="Off", is_active=False)
    with pytest.raises(ValidationError, match="switched off"):
        playbook_apply(playbook=off, account=alice_account)


def test_apply_and_add_tasks_from_the_account_page(client, alice, bob, alice_account):
    playbook = Playbook.objects.get(name="Turn a promoter into an advocate")
    client.force_login(bob)
    url = reverse("health:playbook_apply", args=[alice_account.pk])
    assert client.post(url, {"playbook": playbook.pk}).status_code == 404
    client.force_login(alice)
    response = client.post(url, {"playbook": playbook.pk}, follow=True)
    assert "2 tasks added from the playbook." in response.content.decode()
    due = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    response = client.post(
        reverse("health:task_create", args=[alice_account.pk]),
        {"title": "Send the SSO docs", "due_date": due, "priority": 3, "notes": "They asked on the call."},
        follow=True,
    )
    assert "Task added for Alice Archer." in response.content.decode()
    assert "Send the SSO docs" in account_360_html(client, alice_account)  # in the tasks side card
    assert Task.objects.filter(account=alice_account).count() == 3
    response = client.post(
        reverse("health:task_create", args=[alice_account.pk]), {"title": "", "due_date": due}, follow=True
    )
    assert "Could not add the task" in response.content.decode()
    assert Task.objects.filter(account=alice_account).count() == 3


def test_playbook_menu_loads_on_demand_as_partial_or_page(client, alice, bob, alice_account):
    url = reverse("health:playbook_menu", args=[alice_account.pk])
    client.force_login(alice)
    partial = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in partial and "Save an at-risk account" in partial and "Apply playbook" in partial
    page = client.get(url).content.decode()
    assert "<html" in page and "Turn a promoter into an advocate" in page
    detail = account_360_html(client, alice_account)
    assert f'hx-get="{url}"' in detail  # the account page loads the menu when it is opened
    client.force_login(bob)
    assert client.get(url).status_code == 404
