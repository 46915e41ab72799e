"""A new account whose segment has a template gets its plan automatically, from every entry
path: the service, the admin, CSV import and the API (single create, upsert, bulk)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Account
from accounts.services import account_create
from onboarding.models import Milestone, MilestoneStatus, OnboardingPlan, PlanTemplate

from .conftest import default_template
from .factories import TemplateFactory, milestone_templates

pytestmark = pytest.mark.django_db

START = dt.date(2025, 3, 3)


def _create(**overrides) -> Account:
    data = {"name": "Nova Labs", "domain": "nova.example", "segment": "smb", "contract_start": START}
    data.update(overrides)
    return account_create(**data)


def assert_has_segment_plan(account: Account, segment: str) -> OnboardingPlan:
    template = default_template(segment)
    plan = OnboardingPlan.objects.get(account=account)
    assert plan.template == template
    assert plan.start_date == account.contract_start
    milestones = list(plan.milestones.order_by("position"))
    expected = list(template.milestones.order_by("position"))
    assert [m.name for m in milestones] == [t.name for t in expected]
    assert [m.due_date for m in milestones] == [
        account.contract_start + dt.timedelta(days=t.due_day) for t in expected
    ]
    assert all(m.status == MilestoneStatus.NOT_STARTED for m in milestones)
    return plan


def test_default_templates_exist_for_every_segment_after_migrating():
    for segment in ("enterprise", "mid_market", "smb"):
        template = default_template(segment)
        assert template.milestones.count() >= 5
        assert template.milestones.filter(delivers_value=True).count() == 1
        assert template.milestones.filter(celebrate=True).exists()


@pytest.mark.parametrize("segment", ["enterprise", "mid_market", "smb"])
def test_service_creates_the_segment_plan(segment):
    account = _create(segment=segment)
    assert_has_segment_plan(account, segment)


def test_commercial_plan_template_beats_the_segment_template():
    special = TemplateFactory(
        name="Scale plan onboarding", segment="", account_plan="Scale", auto_assign=True
    )
    milestone_templates(special)
    account = _create(plan="scale")  # case-insensitive
    assert OnboardingPlan.objects.get(account=account).template == special
    other = _create(name="Other", domain="other.example", plan="Starter")
    assert OnboardingPlan.objects.get(account=other).template == default_template("smb")


def test_segment_and_plan_template_beats_either():
    both = TemplateFactory(name="SMB Scale", segment="smb", account_plan="Scale", auto_assign=True)
    milestone_templates(both)
    plan_only = TemplateFactory(name="Any Scale", segment="", account_plan="Scale", auto_assign=True)
    milestone_templates(plan_only)
    assert OnboardingPlan.objects.get(account=_create(plan="Scale")).template == both


def test_no_plan_without_a_matching_active_automatic_template():
    PlanTemplate.objects.filter(segment="smb").update(is_active=False)
    account = _create()
    assert not OnboardingPlan.objects.filter(account=account).exists()
    PlanTemplate.objects.filter(segment="smb").update(is_active=True, auto_assign=False)
    account = _create(name="Two", domain="two.example")
    assert not OnboardingPlan.objects.filter(account=account).exists()


def test_no_plan_for_accounts_created_past_onboarding():
    account = _create(lifecycle_stage="growth")
    assert not OnboardingPlan.objects.filter(account=account).exists()


def test_a_failing_account_create_leaves_no_plan_behind():
    _create()
    with pytest.raises(Exception):  # noqa: B017  (the same domain: a ValidationError)
        _create(name="Clash")
    assert OnboardingPlan.objects.count() == 1
    assert Milestone.objects.filter(plan__account__name="Clash").count() == 0


# ---------------------------------------------------------------- admin


def test_admin_add_form_creates_the_plan(client, dave):
    client.force_login(dave)
    data = {
        "name": "Gamma Systems",
        "domain": "gamma.example",
        "external_id": "",
        "owner": "",
        "parent": "",
        "segment": "enterprise",
        "tier": "bronze",
        "plan": "",
        "lifecycle_stage": "onboarding",
        "contract_start": "2025-03-01",
        "renewal_date": "2026-03-01",
        "currency": "USD",
        "acquisition_cost": "",
        "contacts-TOTAL_FORMS": "0",
        "contacts-INITIAL_FORMS": "0",
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "1000",
    }
    response = client.post(reverse("admin:accounts_account_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert_has_segment_plan(Account.objects.get(domain="gamma.example"), "enterprise")


# ---------------------------------------------------------------- CSV import


def test_csv_import_creates_plans_and_its_preview_writes_none(client, dave, alice):
    client.force_login(dave)
    content = (
        "external_id,name,domain,segment,tier,plan,lifecycle_stage,owner_email,contract_start,renewal_date,"
        "acquisition_cost,currency,parent\n"
        "CRM-7,Import One,one.example,mid_market,gold,Scale,onboarding,alice@staff.example,"
        "2025-02-01,,,USD,\n"
        "CRM-8,Import Two,two.example,smb,bronze,Starter,adoption,,2025-02-01,,,USD,\n"
    )
    upload = {
        "format": "0",
        "resource": "0",
        "import_file": SimpleUploadedFile("accounts.csv", content.encode(), content_type="text/csv"),
    }
    preview = client.post(reverse("admin:accounts_account_import"), upload)
    assert preview.status_code == 200
    assert preview.context.get("confirm_form") is not None
    assert OnboardingPlan.objects.count() == 0  # the preview is a dry run
    form = preview.context["confirm_form"]
    response = client.post(
        reverse("admin:accounts_account_process_import"),
        {
            name: form.initial[name]
            for name in ("import_file_name", "original_file_name", "format", "resource")
        },
    )
    assert response.status_code == 302
    assert_has_segment_plan(Account.objects.get(external_id="CRM-7"), "mid_market")
    assert not OnboardingPlan.objects.filter(account__external_id="CRM-8").exists()  # already adopting


# ---------------------------------------------------------------- API


API_ROW = {
    "name": "Delta Freight",
    "domain": "delta.example",
    "segment": "enterprise",
    "contract_start": "2025-04-01",
}


def test_api_create_gets_the_plan(api_client_for, carol):
    response = api_client_for(carol).post("/api/v1/accounts/", API_ROW, format="json")
    assert response.status_code == 201, response.json()
    plan = assert_has_segment_plan(Account.objects.get(pk=response.json()["id"]), "enterprise")
    body = api_client_for(carol).get(f"/api/v1/onboarding-plans/?account={plan.account_id}").json()
    assert body["count"] == 1 and body["results"][0]["template"] == plan.template_id


def test_api_upsert_and_bulk_upsert_get_plans(api_client_for, carol):
    client = api_client_for(carol)
    response = client.put(
        "/api/v1/accounts/by-external-id/CRM-42/", {**API_ROW, "segment": "smb"}, format="json"
    )
    assert response.status_code == 201
    assert_has_segment_plan(Account.objects.get(external_id="CRM-42"), "smb")
    response = client.put(
        "/api/v1/accounts/by-external-id/CRM-42/", {**API_ROW, "segment": "smb"}, format="json"
    )
    assert response.status_code == 200
    assert OnboardingPlan.objects.filter(account__external_id="CRM-42").count() == 1  # not twice
    rows = [
        {**API_ROW, "external_id": f"B-{i}", "domain": f"b{i}.example", "segment": segment}
        for i, segment in enumerate(["smb", "mid_market"])
    ]
    response = client.post("/api/v1/accounts/bulk-upsert/", {"accounts": rows}, format="json")
    assert response.status_code == 200 and response.json()["created"] == 2
    assert_has_segment_plan(Account.objects.get(external_id="B-0"), "smb")
    assert_has_segment_plan(Account.objects.get(external_id="B-1"), "mid_market")
