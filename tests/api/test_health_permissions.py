"""The permission matrix for the health resources on /api/v1/ (scores, alerts, tasks, playbooks):
no token, read-only token, a CSM's token on an own and on another portfolio's account, a manager's
token. Another portfolio's records answer 404 (or 400 naming the field, when the account is in
the body), exactly as if they did not exist; nothing is written."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from health.models import AccountHealth, Alert, AlertRule, Playbook, PlaybookStep, Task


@pytest.fixture
def world(alice_account, bob_account):
    """For alice's and bob's accounts: a current score, an open alert, a task; and a playbook."""
    today = timezone.localdate()
    rule = AlertRule.objects.create(name="Quiet account", kind="no_touch", threshold=30, severity="high")
    playbook = Playbook.objects.create(name="Win back")
    PlaybookStep.objects.create(playbook=playbook, position=1, title="Call the sponsor", due_in_days=2)
    rows = {}
    for who, account in (("own", alice_account), ("other", bob_account)):
        AccountHealth.objects.create(account=account, day=today, score=35, grade="red", grade_order=1)
        alert = Alert.objects.create(account=account, rule=rule, severity="high", details="Quiet")
        task = Task.objects.create(account=account, owner=account.owner, title="Check in", due_date=today)
        rows[who] = {"account": account.pk, "alert": alert.pk, "task": task.pk, "playbook": playbook.pk}
    return rows


def _snooze_day() -> str:
    return (timezone.localdate() + dt.timedelta(days=3)).isoformat()


# (method, address, body) with {account}, {alert}, {task}, {playbook} filled from one side of `world`
READS = [
    ("get", "/api/v1/health-scores/{account}/", None),
    ("get", "/api/v1/alerts/{alert}/", None),
    ("get", "/api/v1/tasks/{task}/", None),
]
WRITES = [
    ("post", "/api/v1/alerts/{alert}/snooze/", {"until": "SNOOZE"}),
    ("post", "/api/v1/alerts/{alert}/resolve/", {"outcome": "saved", "note": "Called"}),
    ("patch", "/api/v1/tasks/{task}/", {"status": "done"}),
]
BODY_ACCOUNT_WRITES = [  # the account is named in the body: another portfolio's is a field error
    ("post", "/api/v1/tasks/", {"account": "{account}", "title": "Follow up", "due_date": "2030-01-01"}),
    ("post", "/api/v1/playbooks/{playbook}/apply/", {"account": "{account}"}),
]
LISTS = ["/api/v1/health-scores/", "/api/v1/alerts/", "/api/v1/tasks/", "/api/v1/playbooks/"]


def _fill(method, url, body, ids):
    url = url.format(**ids)
    if body is not None:
        body = {
            key: (
                int(value.format(**ids))
                if isinstance(value, str) and value.startswith("{")
                else _snooze_day()
                if value == "SNOOZE"
                else value
            )
            for key, value in body.items()
        }
    return method, url, body


def _call(client, method, url, body):
    return getattr(client, method)(url, body, format="json") if body is not None else client.get(url)


@pytest.mark.parametrize(
    "spec",
    [("get", url, None) for url in LISTS] + READS + WRITES + BODY_ACCOUNT_WRITES,
    ids=lambda spec: f"{spec[0]} {spec[1]}",
)
def test_no_token_is_401(world, spec):
    response = _call(APIClient(), *_fill(*spec, world["own"]))
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert Task.objects.count() == 2 and Alert.objects.filter(status="open").count() == 2


def test_read_only_token_reads_and_cannot_write(client_for, alice, world):
    client = client_for(alice, scope="read")
    for spec in READS:
        method, url, body = _fill(*spec, world["own"])
        assert _call(client, method, url, body).status_code == 200, url
    for spec in WRITES + BODY_ACCOUNT_WRITES:
        method, url, body = _fill(*spec, world["own"])
        response = _call(client, method, url, body)
        assert response.status_code == 403, url
        assert "read-only" in response.json()["detail"]
    assert Alert.objects.filter(status="open").count() == 2
    assert Task.objects.count() == 2 and not Task.objects.filter(status="done").exists()


def test_csm_token_lists_only_own_portfolio(client_for, alice, alice_account, world):
    client = client_for(alice, scope="read")
    assert [r["account"] for r in client.get("/api/v1/health-scores/").json()["results"]] == [
        alice_account.pk
    ]
    assert [r["id"] for r in client.get("/api/v1/alerts/").json()["results"]] == [world["own"]["alert"]]
    assert [r["id"] for r in client.get("/api/v1/tasks/").json()["results"]] == [world["own"]["task"]]
    other = world["other"]["account"]
    assert client.get("/api/v1/alerts/", {"account": other}).json()["results"] == []
    assert client.get("/api/v1/tasks/", {"account": other}).json()["results"] == []


@pytest.mark.parametrize("spec", READS + WRITES, ids=lambda spec: f"{spec[0]} {spec[1]}")
def test_csm_token_on_own_account_succeeds(client_for, alice, world, spec):
    method, url, body = _fill(*spec, world["own"])
    response = _call(client_for(alice), method, url, body)
    assert response.status_code == 200, response.json()


@pytest.mark.parametrize("spec", READS + WRITES, ids=lambda spec: f"{spec[0]} {spec[1]}")
def test_csm_token_on_another_portfolio_is_404(client_for, alice, world, spec):
    method, url, body = _fill(*spec, world["other"])
    response = _call(client_for(alice), method, url, body)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert Alert.objects.get(pk=world["other"]["alert"]).status == "open"
    assert Task.objects.get(pk=world["other"]["task"]).status == "open"


@pytest.mark.parametrize("spec", BODY_ACCOUNT_WRITES, ids=lambda spec: f"{spec[0]} {spec[1]}")
def test_csm_token_naming_another_portfolios_account_is_a_field_error(
    client_for, alice, bob_account, world, spec
):
    before = Task.objects.count()
    method, url, body = _fill(*spec, world["other"])
    response = _call(client_for(alice), method, url, body)
    assert response.status_code == 400
    assert "account" in response.json()["errors"]
    assert Task.objects.count() == before
    method, url, body = _fill(*spec, world["own"])
    assert _call(client_for(alice), method, url, body).status_code == 201


@pytest.mark.parametrize(
    "spec", READS + WRITES + BODY_ACCOUNT_WRITES, ids=lambda spec: f"{spec[0]} {spec[1]}"
)
def test_manager_token_works_on_every_portfolio(client_for, carol, world, spec):
    method, url, body = _fill(*spec, world["other"])
    response = _call(client_for(carol), method, url, body)
    assert response.status_code in (200, 201), response.json()


def test_manager_token_lists_every_portfolio(client_for, carol, world):
    client = client_for(carol, scope="read")
    for url in ("/api/v1/health-scores/", "/api/v1/alerts/", "/api/v1/tasks/"):
        assert client.get(url).json()["count"] == 2, url


def test_token_of_someone_without_a_role_is_403(client_for, alice, world):
    client = client_for(alice)
    alice.role = ""
    alice.save()
    for url in LISTS:
        assert client.get(url).status_code == 403, url


def test_health_score_explanation_is_documented_shape(client_for, alice, alice_account, world):
    """An account scored but with no snapshot yet answers the full documented shape, with nulls."""
    body = client_for(alice).get(f"/api/v1/health-scores/{alice_account.pk}/").json()
    assert set(body) == {
        "account",
        "day",
        "score",
        "grade",
        "score_before_cap",
        "cap",
        "change_7d",
        "change_30d",
        "measures",
        "no_data",
        "since_last_week",
        "history",
    }
    assert body["score"] is None and body["history"] == []


def test_playbook_list_and_apply(client_for, alice, alice_account, world):
    """Active playbooks with their steps; applying one makes each step a task for the owner, due
    its days from today. A switched-off playbook is not there (404)."""
    client = client_for(alice)
    playbook = Playbook.objects.get(pk=world["own"]["playbook"])
    PlaybookStep.objects.create(
        playbook=playbook, position=2, title="Send the plan", due_in_days=5, priority=3
    )
    listed = {p["name"]: p for p in client.get("/api/v1/playbooks/").json()["results"]}
    assert [s["title"] for s in listed["Win back"]["steps"]] == ["Call the sponsor", "Send the plan"]
    response = client.post(
        f"/api/v1/playbooks/{playbook.pk}/apply/", {"account": alice_account.pk}, format="json"
    )
    assert response.status_code == 201
    today = timezone.localdate()
    assert [(t["title"], t["owner"], t["due_date"], t["priority"]) for t in response.json()] == [
        ("Call the sponsor", alice.email, (today + dt.timedelta(days=2)).isoformat(), 2),
        ("Send the plan", alice.email, (today + dt.timedelta(days=5)).isoformat(), 3),
    ]
    assert Task.objects.filter(account=alice_account, playbook=playbook).count() == 2
    playbook.is_active = False
    playbook.save()
    assert client.get(f"/api/v1/playbooks/{playbook.pk}/").status_code == 404
    response = client.post(
        f"/api/v1/playbooks/{playbook.pk}/apply/", {"account": alice_account.pk}, format="json"
    )
    assert response.status_code == 404
    assert Task.objects.filter(account=alice_account, playbook=playbook).count() == 2
