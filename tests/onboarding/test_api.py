"""/api/v1/: templates (read), plans (read, with progress and time-to-value) and milestones
(read, update status) — through tokens, for the token's portfolio, with 400s by field."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from api.models import WebhookDelivery
from onboarding import services
from onboarding.models import Milestone

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api_client_for, alice):
    return api_client_for(alice)


def test_templates_are_listed_with_their_ordered_milestones(api, template):
    body = api.get("/api/v1/onboarding-templates/").json()
    assert body["count"] == 4  # three defaults and the test template
    mine = next(t for t in body["results"] if t["id"] == template.pk)
    assert [m["name"] for m in mine["milestones"]] == [
        "Kick-off call",
        "Data connected",
        "First report live",
        "Value review",
    ]
    assert mine["milestones"][2] | {"id": 0} == {
        "id": 0,
        "position": 2,
        "name": "First report live",
        "description": "",
        "due_day": 20,
        "owner_side": "customer",
        "weight": 3,
        "delivers_value": True,
        "celebrate": True,
    }
    assert api.get("/api/v1/onboarding-templates/?segment=smb").json()["count"] == 1
    assert api.post("/api/v1/onboarding-templates/", {"name": "x"}, format="json").status_code == 405


def test_plan_shows_progress_status_and_time_to_value(api, plan):
    services.milestone_status_set(
        milestone=plan.milestones.get(name="First report live"), status="done", done_on=dt.date(2025, 1, 21)
    )
    services.criterion_add(plan=plan, data={"metric": "Weekly users", "target": "50", "current": "60"})
    body = api.get(f"/api/v1/onboarding-plans/{plan.pk}/").json()
    assert body["account"] == plan.account_id and body["template"] == plan.template_id
    assert body["progress"]["percent"] == 30
    assert body["progress"]["time_to_value_days"] == 20
    assert body["progress"]["schedule"] == "behind"  # the kick-off was due on 4 Jan 2025
    assert (body["progress"]["milestones"], body["progress"]["done"]) == (4, 1)
    assert [m["status"] for m in body["milestones"]] == ["not_started", "not_started", "done", "not_started"]
    assert body["criteria"][0]["achieved"] is True
    listed = api.get("/api/v1/onboarding-plans/", {"account": plan.account_id}).json()
    assert listed["count"] == 1 and listed["results"][0]["progress"] == body["progress"]
    assert api.get("/api/v1/onboarding-plans/", {"completed": "true"}).json()["count"] == 0


def test_patch_status_done_moves_progress_and_raises_the_webhook(api, plan, alice):
    from api.models import Webhook

    Webhook.objects.create(name="CRM", url="http://127.0.0.1:9/", events=["milestone.completed"])
    milestone = plan.milestones.get(name="Data connected")
    today = timezone.localdate().isoformat()
    response = api.patch(
        f"/api/v1/onboarding-milestones/{milestone.pk}/", {"status": "done", "done_on": today}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["done_on"], body["done_by"], body["overdue"]) == (
        "done",
        today,
        alice.email,
        False,
    )
    assert WebhookDelivery.objects.get().payload["milestone"]["id"] == milestone.pk
    assert api.get(f"/api/v1/onboarding-plans/{plan.pk}/").json()["progress"]["percent"] == 20

    response = api.patch(
        f"/api/v1/onboarding-milestones/{milestone.pk}/",
        {"status": "blocked", "blocked_reason": "IT"},
        format="json",
    )
    assert response.json()["status"] == "blocked" and response.json()["done_on"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "done"}, "done_on"),
        ({"status": "done", "done_on": None}, "done_on"),
        ({"status": "done", "done_on": "2999-01-01"}, "done_on"),
        ({"status": "done", "done_on": "2020-01-01"}, "done_on"),
        ({"status": "done", "done_on": "soon"}, "done_on"),
        ({"status": "blocked"}, "blocked_reason"),
        ({"status": "finished"}, "status"),
        ({"status": "in_progress", "blocked_reason": "x" * 501}, "blocked_reason"),
    ],
)
def test_bad_status_changes_are_400_by_field_and_change_nothing(api, plan, body, field):
    milestone = plan.milestones.get(name="Kick-off call")
    response = api.patch(f"/api/v1/onboarding-milestones/{milestone.pk}/", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert Milestone.objects.get(pk=milestone.pk).status == "not_started"


def test_a_milestone_cannot_move_to_another_accounts_plan(api, plan, bob_plan):
    milestone = plan.milestones.first()
    response = api.patch(
        f"/api/v1/onboarding-milestones/{milestone.pk}/", {"plan": bob_plan.pk}, format="json"
    )
    assert response.status_code == 400
    assert "cannot move to another account's plan" in response.json()["errors"]["plan"][0]
    assert Milestone.objects.get(pk=milestone.pk).plan_id == plan.pk
    ok = api.patch(
        f"/api/v1/onboarding-milestones/{milestone.pk}/",
        {"plan": plan.pk, "status": "in_progress"},
        format="json",
    )
    assert ok.status_code == 200


def test_read_only_fields_are_not_changed_through_the_api(api, plan):
    milestone = plan.milestones.first()
    api.patch(
        f"/api/v1/onboarding-milestones/{milestone.pk}/", {"name": "Renamed", "weight": 99}, format="json"
    )
    milestone.refresh_from_db()
    assert (milestone.name, milestone.weight) == ("Kick-off call", 1)


def test_milestone_filters(api, plan):
    late = api.get("/api/v1/onboarding-milestones/", {"plan": plan.pk, "overdue": "true"}).json()
    assert late["count"] == 4  # everything was due in early 2025
    assert api.get("/api/v1/onboarding-milestones/", {"owner_side": "customer"}).json()["count"] == 2
    assert (
        api.get(
            "/api/v1/onboarding-milestones/", {"account": plan.account_id, "delivers_value": "true"}
        ).json()["count"]
        == 1
    )
    assert api.get("/api/v1/onboarding-milestones/", {"plan": "abc"}).status_code == 400


def test_list_query_counts_do_not_grow(api, alice, template, django_assert_max_num_queries):
    from tests.factories import AccountFactory

    def add(n):
        for _ in range(n):
            plan = services.plan_start(account=AccountFactory(owner=alice), template=template)
            services.criterion_add(plan=plan, data={"metric": "m", "target": "1"})

    add(1)
    counts = {}
    for url in (
        "/api/v1/onboarding-plans/",
        "/api/v1/onboarding-milestones/",
        "/api/v1/onboarding-templates/",
    ):
        with django_assert_max_num_queries(8) as captured:
            assert api.get(url).status_code == 200
        counts[url] = len(captured.captured_queries)
    add(8)
    for url, count in counts.items():
        with django_assert_max_num_queries(count):
            api.get(url)
