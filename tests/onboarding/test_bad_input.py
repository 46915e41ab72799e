"""Bad input on every form: a clear message next to the field (200 for htmx, 422 for a plain
post), never a 500, and nothing half-saved."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from onboarding import services
from onboarding.models import (
    Milestone,
    MilestoneTemplate,
    OnboardingPlan,
    PlanTemplate,
    ShareLink,
    SuccessCriterion,
)
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def logged_in(client, alice):
    client.force_login(alice)
    return client


def _snapshot(plan):
    return (
        list(
            Milestone.objects.filter(plan=plan)
            .order_by("pk")
            .values_list("name", "due_date", "weight", "status", "position")
        ),
        list(SuccessCriterion.objects.filter(plan=plan).values_list("metric", "target")),
        OnboardingPlan.objects.filter(pk=plan.pk)
        .values_list("start_date", "template_id", "expectations")
        .get(),
    )


def _post_both(client, url, data, message, *, status_plain=422):
    """The same bad post, as htmx (200, errors in place) and as a plain form (422, whole page)."""
    hx = client.post(url, data, headers=HX)
    assert hx.status_code == 200, hx.status_code
    assert message in hx.content.decode(), hx.content.decode()[:3000]
    plain = client.post(url, data)
    assert plain.status_code == status_plain
    assert message in plain.content.decode()
    return hx, plain


MILESTONE_CASES = [
    (
        {"new-name": "", "new-due_date": "2025-02-01", "new-owner_side": "csm", "new-weight": "1"},
        "This field is required.",
    ),
    (
        {"new-name": "X", "new-due_date": "someday", "new-owner_side": "csm", "new-weight": "1"},
        "Enter a valid date.",
    ),
    (
        {"new-name": "X", "new-due_date": "2024-12-01", "new-owner_side": "csm", "new-weight": "1"},
        "The due date cannot be before the contract start (2025-01-01).",
    ),
    (
        {"new-name": "X", "new-due_date": "2025-02-01", "new-owner_side": "csm", "new-weight": "0"},
        "greater than or equal to 1",
    ),
    (
        {"new-name": "X", "new-due_date": "2025-02-01", "new-owner_side": "csm", "new-weight": "101"},
        "less than or equal to 100",
    ),
    (
        {"new-name": "X", "new-due_date": "2025-02-01", "new-owner_side": "boss", "new-weight": "1"},
        "Select a valid choice.",
    ),
    (
        {"new-name": "X" * 151, "new-due_date": "2025-02-01", "new-owner_side": "csm", "new-weight": "1"},
        "at most 150",
    ),
]


@pytest.mark.parametrize(("data", "message"), MILESTONE_CASES)
def test_add_milestone_bad_input(logged_in, plan, data, message):
    before = _snapshot(plan)
    _post_both(logged_in, reverse("onboarding:milestone_add", args=[plan.account_id]), data, message)
    assert _snapshot(plan) == before


def test_edit_milestone_bad_input_keeps_the_row_in_edit_mode(logged_in, plan):
    milestone = plan.milestones.get(name="Data connected")
    before = _snapshot(plan)
    p = f"m{milestone.pk}"
    data = {
        f"{p}-name": "Renamed",
        f"{p}-due_date": "2024-01-01",
        f"{p}-owner_side": "customer",
        f"{p}-weight": "2",
    }
    hx, _plain = _post_both(
        logged_in,
        reverse("onboarding:milestone_edit", args=[milestone.pk]),
        data,
        "The due date cannot be before the contract start (2025-01-01).",
    )
    assert f'id="milestone-{milestone.pk}"' in hx.content.decode() and "Renamed" in hx.content.decode()
    assert _snapshot(plan) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"status": "done", "done_on": ""}, "Enter the date it was done."),
        (
            {"status": "done", "done_on": (timezone.localdate() + dt.timedelta(days=3)).isoformat()},
            "cannot be done in the future",
        ),
        ({"status": "done", "done_on": "2024-06-01"}, "cannot be done before the contract start"),
        ({"status": "done", "done_on": "yesterday"}, "Enter a valid date."),
        ({"status": "blocked", "blocked_reason": ""}, "Say what it is blocked on."),
        ({"status": "exploded"}, "Select a valid choice."),
    ],
)
def test_status_bad_input(logged_in, plan, data, message):
    milestone = plan.milestones.get(name="Kick-off call")
    before = _snapshot(plan)
    hx, _plain = _post_both(
        logged_in, reverse("onboarding:milestone_status", args=[milestone.pk]), data, message
    )
    assert 'role="alert"' in hx.content.decode()
    assert _snapshot(plan) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"newc-metric": "", "newc-target": "10"}, "This field is required."),
        ({"newc-metric": "Users", "newc-target": ""}, "This field is required."),
        ({"newc-metric": "Users", "newc-target": "lots"}, "Enter a number."),
        (
            {"newc-metric": "Users", "newc-target": "10", "newc-baseline": "1e400"},
            "Ensure that there are no more than",
        ),
        (
            {"newc-metric": "Users", "newc-target": "10", "newc-due_date": "2024-01-01"},
            "cannot be before the contract start",
        ),
    ],
)
def test_criterion_bad_input(logged_in, plan, data, message):
    before = _snapshot(plan)
    _post_both(logged_in, reverse("onboarding:criterion_add", args=[plan.account_id]), data, message)
    assert _snapshot(plan) == before


def test_criterion_edit_bad_input(logged_in, plan):
    criterion = services.criterion_add(plan=plan, data={"metric": "Users", "target": "10"})
    p = f"c{criterion.pk}"
    _post_both(
        logged_in,
        reverse("onboarding:criterion_edit", args=[criterion.pk]),
        {f"{p}-metric": "", f"{p}-target": "12"},
        "This field is required.",
    )
    criterion.refresh_from_db()
    assert (criterion.metric, criterion.target) == ("Users", 10)


def test_review_without_criteria_is_refused(logged_in, plan):
    _post_both(
        logged_in,
        reverse("onboarding:criteria_review", args=[plan.account_id]),
        {"note": "x"},
        "Add a success criterion before reviewing them.",
    )
    assert OnboardingPlan.objects.get(pk=plan.pk).criteria_reviewed_on is None


def test_expectations_too_long(logged_in, plan):
    _post_both(
        logged_in,
        reverse("onboarding:expectations", args=[plan.account_id]),
        {"expectations": "x" * 5001},
        "Ensure this value has at most 5000 characters",
    )
    assert OnboardingPlan.objects.get(pk=plan.pk).expectations == ""


def test_plan_level_forms_bad_input(logged_in, plan, bob_account):
    before = _snapshot(plan)
    pk = plan.account_id
    cases = [
        ("onboarding:shift", {"start_date": "2024-12-25"}, "cannot start before the contract start"),
        ("onboarding:shift", {"start_date": "not a date"}, "Enter a valid date."),
        ("onboarding:switch", {"template": ""}, "This field is required."),
        ("onboarding:switch", {"template": "999999"}, "Select a valid choice."),
        ("onboarding:share_create", {"language": "klingon"}, "Select a valid choice."),
        (
            "onboarding:share_create",
            {"language": "en", "contact": ContactFactory(account=bob_account).pk},
            "Select a valid choice.",
        ),
    ]
    for name, data, message in cases:
        response = logged_in.post(reverse(name, args=[pk]), data)
        assert response.status_code == 422, (name, data)
        assert message in response.content.decode(), (name, data)
    assert _snapshot(plan) == before
    assert not ShareLink.objects.exists()


def test_shift_that_would_put_a_due_date_before_the_contract_start(logged_in, alice):
    account = AccountFactory(owner=alice, contract_start=dt.date(2025, 1, 10))
    plan = services.plan_start(account=account, start_date=dt.date(2025, 1, 20))
    services.milestone_add(plan=plan, data={"name": "Early", "due_date": dt.date(2025, 1, 12)})
    response = logged_in.post(reverse("onboarding:shift", args=[account.pk]), {"start_date": "2025-01-10"})
    assert response.status_code == 422
    assert "“Early” would fall due on 2025-01-02, before the contract start" in response.content.decode()
    assert Milestone.objects.get(plan=plan).due_date == dt.date(2025, 1, 12)
    assert OnboardingPlan.objects.get(pk=plan.pk).start_date == dt.date(2025, 1, 20)


def test_start_plan_bad_input(logged_in, alice):
    account = AccountFactory(owner=alice, contract_start=dt.date(2025, 5, 1))
    url = reverse("onboarding:start", args=[account.pk])
    for data, message in [
        ({"start_date": "2025-04-30"}, "The plan cannot start before the contract start (2025-05-01)."),
        ({"start_date": ""}, "This field is required."),
        ({"start_date": "2025-05-01", "template": "abc"}, "Select a valid choice."),
    ]:
        response = logged_in.post(url, data)
        assert response.status_code == 422
        assert message in response.content.decode()
    assert not OnboardingPlan.objects.filter(account=account).exists()


def test_template_forms_bad_input(client, carol, template):
    client.force_login(carol)
    auto = PlanTemplate.objects.get(segment="smb", auto_assign=True)
    cases = [
        ({"name": ""}, "This field is required."),
        ({"name": "test ONBOARDING"}, "Another template already has this name."),
        ({"name": "Auto", "auto_assign": "on"}, "the template needs a segment or an account plan"),
        (
            {"name": "Auto", "auto_assign": "on", "is_active": "on", "segment": "smb"},
            f"“{auto.name}” already starts",
        ),
        ({"name": "Odd", "segment": "galaxy"}, "Select a valid choice."),
    ]
    for data, message in cases:
        response = client.post(reverse("onboarding:template_create"), data)
        assert response.status_code == 422, data
        assert message in response.content.decode(), data
    assert PlanTemplate.objects.count() == 4
    url = reverse("onboarding:tmilestone_add", args=[template.pk])
    for data, message in [
        (
            {"newt-name": "X", "newt-due_day": "731", "newt-owner_side": "csm", "newt-weight": "1"},
            "less than or equal to 730",
        ),
        (
            {"newt-name": "", "newt-due_day": "3", "newt-owner_side": "csm", "newt-weight": "1"},
            "This field is required.",
        ),
        (
            {"newt-name": "X", "newt-due_day": "-1", "newt-owner_side": "csm", "newt-weight": "1"},
            "greater than or equal to 0",
        ),
    ]:
        _post_both(client, url, data, message)
    assert MilestoneTemplate.objects.filter(template=template).count() == 4


def test_service_refuses_what_the_forms_cannot_send(plan, template):
    from django.core.exceptions import ValidationError

    milestone = plan.milestones.first()
    with pytest.raises(ValidationError) as excinfo:
        services.milestone_update(milestone=milestone, data={"plan": plan.pk + 1000})
    assert "plan" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        services.milestone_update(milestone=milestone, data={"status": "done"})
    assert excinfo.value.message_dict == {"status": ["This field cannot be changed here."]}
    with pytest.raises(ValidationError):
        services.milestone_update(milestone=milestone, data={"weight": "heavy"})
    with pytest.raises(ValidationError):
        services.template_milestone_update(milestone=template.milestones.first(), data={"due_day": 2.5})
