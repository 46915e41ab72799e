"""The health API: scores with their explanation and history, alerts, tasks (read, create, update
status), with the portfolio's rules: another CSM's account, alert or task is a 404."""

import datetime as dt

import pytest
from django.utils import timezone

from health.models import Alert, AlertRule, Task
from health.services import health_scores_recompute
from tests.factories import AccountFactory

from .conftest import set_score


@pytest.fixture
def scored(alice, bob, touch_card):
    mine = AccountFactory(owner=alice, name="Mine")
    theirs = AccountFactory(owner=bob, name="Theirs")
    set_score(mine, 30)
    set_score(theirs, 90)
    health_scores_recompute()
    return mine, theirs


def test_scores_list_and_explanation(client, alice, scored):
    mine, theirs = scored
    client.force_login(alice)
    listing = client.get("/api/v1/health-scores/").json()
    assert [(r["account"], r["score"], r["grade"]) for r in listing["results"]] == [(mine.pk, 30, "red")]
    detail = client.get(f"/api/v1/health-scores/{mine.pk}/").json()
    assert (detail["score"], detail["grade"], detail["cap"]) == (30, "red", None)
    assert [(m["key"], m["raw"], m["score"], m["points"]) for m in detail["measures"]] == [
        ("days_since_touch", 70.0, 30.0, 30.0)
    ]
    assert sum(m["points"] for m in detail["measures"]) == detail["score"]
    assert detail["history"] == [{"day": timezone.localdate().isoformat(), "score": 30}]
    assert client.get(f"/api/v1/health-scores/{theirs.pk}/").status_code == 404


def test_alerts_read_snooze_resolve(client, alice, bob, scored):
    mine, theirs = scored
    (alert,) = Alert.objects.filter(account=mine)
    client.force_login(alice)
    assert [a["id"] for a in client.get("/api/v1/alerts/", {"open": "true"}).json()["results"]] == [alert.pk]
    until = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    snoozed = client.post(
        f"/api/v1/alerts/{alert.pk}/snooze/", {"until": until}, content_type="application/json"
    )
    assert snoozed.status_code == 200 and snoozed.json()["status"] == "snoozed"
    bad = client.post(
        f"/api/v1/alerts/{alert.pk}/resolve/", {"outcome": "maybe"}, content_type="application/json"
    )
    assert bad.status_code == 400 and "outcome" in bad.json()["errors"]
    done = client.post(
        f"/api/v1/alerts/{alert.pk}/resolve/",
        {"outcome": "saved", "note": "Call booked"},
        content_type="application/json",
    )
    assert done.json()["outcome"] == "saved"
    other = Alert.objects.create(
        account=theirs, rule=AlertRule.objects.get(name="Detractor answer"), severity="high"
    )
    assert client.get(f"/api/v1/alerts/{other.pk}/").status_code == 404
    assert (
        client.post(
            f"/api/v1/alerts/{other.pk}/resolve/", {"outcome": "saved"}, content_type="application/json"
        ).status_code
        == 404
    )


def test_tasks_create_complete_snooze_reassign(client, alice, bob, alice_account, bob_account):
    client.force_login(alice)
    due = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    body = {"account": alice_account.pk, "title": "Send the SSO docs", "due_date": due, "priority": 3}
    created = client.post("/api/v1/tasks/", body, content_type="application/json")
    assert created.status_code == 201, created.json()
    task = Task.objects.get(pk=created.json()["id"])
    assert (task.owner, task.created_by, task.priority) == (alice, alice, 3)
    refused = client.post(
        "/api/v1/tasks/",
        {"account": bob_account.pk, "title": "x", "due_date": due},
        content_type="application/json",
    )
    assert refused.status_code == 400 and "account" in refused.json()["errors"]
    done = client.patch(f"/api/v1/tasks/{task.pk}/", {"status": "done"}, content_type="application/json")
    assert done.json()["status"] == "done"
    reopened = client.patch(f"/api/v1/tasks/{task.pk}/", {"status": "open"}, content_type="application/json")
    assert reopened.json()["status"] == "open"
    later = (timezone.localdate() + dt.timedelta(days=7)).isoformat()
    snoozed = client.patch(
        f"/api/v1/tasks/{task.pk}/", {"snoozed_until": later}, content_type="application/json"
    )
    assert snoozed.json()["snoozed_until"] == later
    moved = client.patch(
        f"/api/v1/tasks/{task.pk}/", {"owner": "bob@staff.example"}, content_type="application/json"
    )
    assert moved.json()["owner"] == "bob@staff.example"
    # now bob's: alice can no longer see or change it
    assert client.get(f"/api/v1/tasks/{task.pk}/").status_code == 404
    assert (
        client.patch(
            f"/api/v1/tasks/{task.pk}/", {"status": "done"}, content_type="application/json"
        ).status_code
        == 404
    )


def test_manager_sees_every_task_and_no_role_is_refused(client, carol, charlie, alice_account, bob_account):
    Task.objects.create(
        account=alice_account, owner=alice_account.owner, title="a", due_date=timezone.localdate()
    )
    Task.objects.create(
        account=bob_account, owner=bob_account.owner, title="b", due_date=timezone.localdate()
    )
    client.force_login(carol)
    assert client.get("/api/v1/tasks/").json()["count"] == 2
    client.force_login(charlie)
    assert client.get("/api/v1/tasks/").status_code == 403
