"""Managers build templates in the app: create, edit, add milestones inline with htmx,
reorder and remove; the new template then starts plans for its segment."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from accounts.services import account_create
from onboarding.models import OnboardingPlan, PlanTemplate

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def test_manager_builds_a_template_that_new_accounts_then_get(client, carol):
    client.force_login(carol)
    PlanTemplate.objects.filter(segment="smb").update(auto_assign=False)
    response = client.post(
        reverse("onboarding:template_create"),
        {
            "name": "SMB fast start",
            "segment": "smb",
            "auto_assign": "on",
            "is_active": "on",
            "description": "Two weeks",
        },
    )
    template = PlanTemplate.objects.get(name="SMB fast start")
    assert response.status_code == 302 and response.url == reverse("onboarding:template", args=[template.pk])
    url = reverse("onboarding:tmilestone_add", args=[template.pk])
    for name, day, value in (("Welcome", "1", ""), ("Go live", "10", "on"), ("Check-in", "14", "")):
        data = {"newt-name": name, "newt-due_day": day, "newt-owner_side": "customer", "newt-weight": "2"}
        if value:
            data["newt-delivers_value"] = "on"
        html = client.post(url, data, headers=HX).content.decode()
        assert html.lstrip().startswith('<div id="tmilestones">') and name in html
    check_in = template.milestones.get(name="Check-in")
    client.post(reverse("onboarding:tmilestone_move", args=[check_in.pk]), {"direction": "up"}, headers=HX)
    assert list(template.milestones.order_by("position").values_list("name", flat=True)) == [
        "Welcome",
        "Check-in",
        "Go live",
    ]
    form = client.get(reverse("onboarding:tmilestone_edit", args=[check_in.pk]), headers=HX).content.decode()
    assert f'name="t{check_in.pk}-name"' in form
    p = f"t{check_in.pk}"
    client.post(
        reverse("onboarding:tmilestone_edit", args=[check_in.pk]),
        {
            f"{p}-name": "Check-in call",
            f"{p}-due_day": "5",
            f"{p}-owner_side": "csm",
            f"{p}-weight": "1",
            f"{p}-celebrate": "on",
        },
        headers=HX,
    )
    check_in.refresh_from_db()
    assert (check_in.name, check_in.due_day, check_in.celebrate) == ("Check-in call", 5, True)
    welcome = template.milestones.get(name="Welcome")
    html = client.post(
        reverse("onboarding:tmilestone_remove", args=[welcome.pk]), headers=HX
    ).content.decode()
    assert "“Welcome” removed." in html

    account = account_create(
        name="Fresh", domain="fresh.example", segment="smb", contract_start=dt.date(2025, 5, 1)
    )
    plan = OnboardingPlan.objects.get(account=account)
    assert plan.template == template
    assert list(plan.milestones.values_list("name", flat=True)) == ["Check-in call", "Go live"]

    listing = client.get(reverse("onboarding:templates")).content.decode()
    assert "SMB fast start" in listing and "SMB onboarding" in listing


def test_editing_the_template_fields(client, carol, template):
    client.force_login(carol)
    url = reverse("onboarding:template", args=[template.pk])
    page = client.get(url).content.decode()
    assert "Kick-off call" in page and "Total weight 10" in page
    response = client.post(
        url, {"name": "Renamed", "segment": "enterprise", "account_plan": "Scale", "is_active": "on"}
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.name, template.segment, template.account_plan, template.auto_assign) == (
        "Renamed",
        "enterprise",
        "Scale",
        False,
    )
