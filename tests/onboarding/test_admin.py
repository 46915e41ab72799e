"""The admin: templates with their milestones inline (positions may be swapped in one save),
plans started through the service, status changes through the service, links revoked."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from onboarding import services
from onboarding.models import Milestone, MilestoneTemplate, OnboardingPlan, ShareLink

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, dave):
    client.force_login(dave)
    return client


def _inline(prefix, rows, extra=0):
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows) + extra),
        f"{prefix}-INITIAL_FORMS": str(sum(1 for r in rows if r.get("id"))),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{index}-{key}"] = value
    return data


def test_changelists_and_forms_open(admin_client, plan, alice):
    services.share_link_create(plan=plan, by=alice)
    for name in ("plantemplate", "onboardingplan", "milestone", "sharelink", "celebration"):
        assert admin_client.get(reverse(f"admin:onboarding_{name}_changelist")).status_code == 200, name
    assert (
        admin_client.get(reverse("admin:onboarding_onboardingplan_change", args=[plan.pk])).status_code == 200
    )
    assert (
        admin_client.get(reverse("admin:onboarding_plantemplate_change", args=[plan.template_id])).status_code
        == 200
    )
    assert admin_client.get(reverse("admin:onboarding_onboardingplan_add")).status_code == 200


def test_swapping_template_milestone_positions_in_one_save(admin_client, template):
    milestones = list(template.milestones.order_by("position"))
    rows = [
        {
            "id": m.pk,
            "template": template.pk,
            "position": {0: 1, 1: 0}.get(m.position, m.position),
            "name": m.name,
            "due_day": m.due_day,
            "owner_side": m.owner_side,
            "weight": m.weight,
            "description": "",
            **({"delivers_value": "on"} if m.delivers_value else {}),
        }
        for m in milestones
    ]
    rows.append(
        {
            "template": template.pk,
            "position": "9",
            "name": "Added in admin",
            "due_day": "50",
            "owner_side": "csm",
            "weight": "2",
        }
    )
    data = {"name": template.name, "segment": "", "account_plan": "", **_inline("milestones", rows)}
    response = admin_client.post(reverse("admin:onboarding_plantemplate_change", args=[template.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    names = list(template.milestones.order_by("position").values_list("name", flat=True))
    assert names == ["Data connected", "Kick-off call", "First report live", "Value review", "Added in admin"]
    assert list(template.milestones.order_by("position").values_list("position", flat=True)) == [
        0,
        1,
        2,
        3,
        4,
    ]


def test_adding_a_plan_in_the_admin_uses_the_service(admin_client, alice_account, template):
    data = {
        "account": alice_account.pk,
        "template": template.pk,
        "name": "",
        "start_date": "",
        "expectations": "Go live",
    }
    response = admin_client.post(reverse("admin:onboarding_onboardingplan_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    plan = OnboardingPlan.objects.get(account=alice_account)
    assert (plan.name, plan.start_date, plan.expectations) == (
        "Test onboarding",
        alice_account.contract_start,
        "Go live",
    )
    assert plan.milestones.count() == 4
    again = admin_client.post(reverse("admin:onboarding_onboardingplan_add"), data)
    assert again.status_code == 200 and "already exists" in again.content.decode()
    from tests.factories import AccountFactory

    fresh = AccountFactory()
    early = admin_client.post(
        reverse("admin:onboarding_onboardingplan_add"),
        {**data, "account": fresh.pk, "start_date": "2020-01-01"},
    )
    assert early.status_code == 200
    assert "The plan cannot start before the contract start (2025-01-01)." in early.content.decode()
    assert not OnboardingPlan.objects.filter(account=fresh).exists()


def test_admin_refuses_a_due_date_before_the_contract_start(admin_client, plan):
    milestones = list(plan.milestones.order_by("position"))
    rows = [
        {
            "id": m.pk,
            "plan": plan.pk,
            "position": m.position,
            "name": m.name,
            "due_date": "2024-12-01" if i == 0 else m.due_date.isoformat(),
            "owner_side": m.owner_side,
            "weight": m.weight,
        }
        for i, m in enumerate(milestones)
    ]
    data = {
        "name": plan.name,
        "expectations": "",
        **_inline("milestones", rows),
        **_inline("criteria", []),
        **_inline("share_links", []),
    }
    response = admin_client.post(reverse("admin:onboarding_onboardingplan_change", args=[plan.pk]), data)
    assert response.status_code == 200
    assert "The due date cannot be before the contract start (2025-01-01)." in response.content.decode()
    assert Milestone.objects.get(pk=milestones[0].pk).due_date == dt.date(2025, 1, 4)


def test_admin_actions_mark_done_and_revoke(admin_client, plan, alice, django_capture_on_commit_callbacks):
    milestone = plan.milestones.get(name="Kick-off call")
    response = admin_client.post(
        reverse("admin:onboarding_milestone_changelist"),
        {"action": "mark_done_today", "_selected_action": [milestone.pk]},
    )
    assert response.status_code == 302
    milestone.refresh_from_db()
    assert milestone.status == "done" and milestone.done_by.email == "dave@staff.example"
    link = services.share_link_create(plan=plan, by=alice)
    admin_client.post(
        reverse("admin:onboarding_sharelink_changelist"), {"action": "revoke", "_selected_action": [link.pk]}
    )
    assert ShareLink.objects.get(pk=link.pk).revoked_at is not None


def test_csm_cannot_open_the_admin(client, alice):
    client.force_login(alice)
    response = client.get(reverse("admin:onboarding_onboardingplan_changelist"))
    assert response.status_code == 302 and reverse("admin:login") in response.url
    assert MilestoneTemplate.objects.exists()


def test_admin_edits_keep_the_boards_order_fields(admin_client, plan):
    from onboarding.selectors import plan_summary

    milestones = list(plan.milestones.order_by("position"))
    rows = [
        {
            "id": m.pk,
            "plan": plan.pk,
            "position": m.position,
            "name": m.name,
            "due_date": "2025-03-01" if i == 0 else m.due_date.isoformat(),
            "owner_side": m.owner_side,
            "weight": m.weight,
        }
        for i, m in enumerate(milestones)
    ]
    data = {
        "name": plan.name,
        "expectations": "",
        **_inline("milestones", rows),
        **_inline("criteria", []),
        **_inline("share_links", []),
    }
    response = admin_client.post(reverse("admin:onboarding_onboardingplan_change", args=[plan.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    plan.refresh_from_db()
    assert plan.next_due_on == plan_summary(plan=plan).next_due == dt.date(2025, 1, 11)
    # and through the milestone's own admin page
    second = milestones[1]
    response = admin_client.post(
        reverse("admin:onboarding_milestone_change", args=[second.pk]),
        {
            "template_milestone": "",
            "position": second.position,
            "name": second.name,
            "description": "",
            "due_date": "2025-04-01",
            "owner_side": second.owner_side,
            "weight": second.weight,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    plan.refresh_from_db()
    assert plan.next_due_on == plan_summary(plan=plan).next_due == dt.date(2025, 1, 21)
