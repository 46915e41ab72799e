"""Who may see and change what: a CSM only their own accounts' plans (another CSM's is a 404,
by page and by htmx partial, and nothing changes); managers everything and the templates; a
login without a role gets 403; the API the same through tokens."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from onboarding import services
from onboarding.models import Milestone, OnboardingPlan, SuccessCriterion

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def bob_things(bob_plan, bob):
    milestone = bob_plan.milestones.get(name="Kick-off call")
    criterion = services.criterion_add(plan=bob_plan, data={"metric": "Weekly users", "target": "50"})
    link = services.share_link_create(plan=bob_plan, by=bob)
    return bob_plan, milestone, criterion, link


def _requests(plan, milestone, criterion, link):
    pk, m, c = plan.account_id, milestone.pk, criterion.pk
    today = timezone.localdate().isoformat()
    return [
        ("get", reverse("onboarding:plan", args=[pk]), {}),
        ("get", reverse("onboarding:expectations", args=[pk]), {}),
        ("post", reverse("onboarding:expectations", args=[pk]), {"expectations": "hacked"}),
        ("post", reverse("onboarding:start", args=[pk]), {"start_date": today}),
        ("post", reverse("onboarding:switch", args=[pk]), {"template": plan.template_id}),
        ("post", reverse("onboarding:shift", args=[pk]), {"start_date": today}),
        ("post", reverse("onboarding:delete", args=[pk]), {}),
        ("post", reverse("onboarding:milestone_add", args=[pk]), {"new-name": "x", "new-due_date": today}),
        ("post", reverse("onboarding:criterion_add", args=[pk]), {"newc-metric": "x", "newc-target": "1"}),
        ("post", reverse("onboarding:criteria_review", args=[pk]), {}),
        ("post", reverse("onboarding:share_create", args=[pk]), {"language": "en"}),
        ("post", reverse("onboarding:share_revoke", args=[link.pk]), {}),
        ("get", reverse("onboarding:milestone", args=[m]), {}),
        ("get", reverse("onboarding:milestone_edit", args=[m]), {}),
        ("post", reverse("onboarding:milestone_edit", args=[m]), {f"m{m}-name": "hacked"}),
        ("post", reverse("onboarding:milestone_status", args=[m]), {"status": "done", "tick": "1"}),
        ("post", reverse("onboarding:milestone_move", args=[m]), {"direction": "down"}),
        ("post", reverse("onboarding:milestone_remove", args=[m]), {}),
        ("get", reverse("onboarding:criterion_edit", args=[c]), {}),
        (
            "post",
            reverse("onboarding:criterion_edit", args=[c]),
            {f"c{c}-metric": "hacked", f"c{c}-target": "1"},
        ),
        ("post", reverse("onboarding:criterion_remove", args=[c]), {}),
    ]


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "partial"])
def test_another_csms_plan_is_404_everywhere_and_nothing_changes(client, alice, bob_things, htmx):
    plan, milestone, criterion, link = bob_things
    client.force_login(alice)
    for method, url, data in _requests(plan, milestone, criterion, link):
        response = getattr(client, method)(url, data, headers=HX if htmx else {})
        assert response.status_code == 404, (method, url, response.status_code)
    milestone.refresh_from_db()
    assert (milestone.name, milestone.status, milestone.position) == ("Kick-off call", "not_started", 0)
    assert OnboardingPlan.objects.get(pk=plan.pk).expectations == ""
    assert SuccessCriterion.objects.get(pk=criterion.pk).metric == "Weekly users"
    assert Milestone.objects.filter(plan=plan).count() == 4
    link.refresh_from_db()
    assert link.revoked_at is None


def test_csm_board_lists_only_their_own_plans(client, alice, plan, bob_plan):
    client.force_login(alice)
    response = client.get(reverse("onboarding:board"), {"status": "all"})
    names = [p.account.name for p in response.context["plans"]]
    assert names == ["Alpha Industries"]
    assert "Bravo Logistics" not in response.content.decode()
    assert response.context["counts"]["all"] == 1


def test_manager_sees_and_changes_every_plan(client, carol, bob_things):
    plan, milestone, _criterion, _link = bob_things
    client.force_login(carol)
    assert client.get(reverse("onboarding:plan", args=[plan.account_id])).status_code == 200
    response = client.post(
        reverse("onboarding:milestone_status", args=[milestone.pk]),
        {"status": "done", "tick": "1"},
        headers=HX,
    )
    assert response.status_code == 200
    milestone.refresh_from_db()
    assert milestone.status == "done" and milestone.done_by == carol
    names = {
        p.account.name for p in client.get(reverse("onboarding:board"), {"status": "all"}).context["plans"]
    }
    assert names == {"Bravo Logistics"}


def test_no_role_is_403_and_anonymous_goes_to_login(client, charlie, plan):
    urls = [
        reverse("onboarding:board"),
        reverse("onboarding:plan", args=[plan.account_id]),
        reverse("onboarding:templates"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response.url
    client.force_login(charlie)
    for url in urls:
        assert client.get(url).status_code == 403


def test_templates_are_for_managers(client, alice, carol, template):
    urls = [
        ("get", reverse("onboarding:templates"), {}),
        ("get", reverse("onboarding:template_create"), {}),
        ("post", reverse("onboarding:template_create"), {"name": "Mine"}),
        ("get", reverse("onboarding:template", args=[template.pk]), {}),
        ("post", reverse("onboarding:tmilestone_add", args=[template.pk]), {"newt-name": "x"}),
        ("post", reverse("onboarding:tmilestone_remove", args=[template.milestones.first().pk]), {}),
    ]
    client.force_login(alice)
    for method, url, data in urls:
        assert getattr(client, method)(url, data).status_code == 403, url
    assert template.milestones.count() == 4
    client.force_login(carol)
    assert client.get(reverse("onboarding:templates")).status_code == 200


def test_api_hides_another_portfolio_and_read_only_tokens_cannot_write(api_client_for, alice, bob_things):
    plan, milestone, _c, _l = bob_things
    client = api_client_for(alice)
    assert client.get(f"/api/v1/onboarding-plans/{plan.pk}/").status_code == 404
    assert client.get(f"/api/v1/onboarding-milestones/{milestone.pk}/").status_code == 404
    response = client.patch(
        f"/api/v1/onboarding-milestones/{milestone.pk}/",
        {"status": "done", "done_on": "2025-02-01"},
        format="json",
    )
    assert response.status_code == 404
    assert client.get("/api/v1/onboarding-plans/").json()["count"] == 0
    assert client.get("/api/v1/onboarding-milestones/").json()["count"] == 0
    bob_read = api_client_for(plan.account.owner, scope="read")
    response = bob_read.patch(
        f"/api/v1/onboarding-milestones/{milestone.pk}/", {"status": "in_progress"}, format="json"
    )
    assert response.status_code == 403
    milestone.refresh_from_db()
    assert milestone.status == "not_started"
