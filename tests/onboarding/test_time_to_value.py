"""Time-to-value: days from the contract start to the first value milestone done — per account,
and the median by segment and signup cohort — worked out by hand; "no data" when not reached."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from onboarding import selectors, services
from onboarding.models import Milestone
from tests.factories import AccountFactory

from .factories import TemplateFactory, milestone_templates

pytestmark = pytest.mark.django_db
NOW = timezone.make_aware(dt.datetime(2026, 1, 1, 12))


def _account_with_value_on(template, owner, *, segment, start, value_after_days, n=[0]):  # noqa: B006
    n[0] += 1
    account = AccountFactory(owner=owner, segment=segment, contract_start=start, name=f"TTV {n[0]}")
    plan = services.plan_start(account=account, template=template)
    if value_after_days is not None:
        milestone = plan.milestones.get(delivers_value=True)
        services.milestone_status_set(
            milestone=milestone, status="done", done_on=start + dt.timedelta(days=value_after_days), now=NOW
        )
    return account


def test_per_account_with_and_without_a_value_milestone(alice, template):
    start = dt.date(2025, 1, 1)
    account = _account_with_value_on(template, alice, segment="smb", start=start, value_after_days=None)
    assert selectors.account_time_to_value(account=account) is None  # not reached: no data, not 0
    summary = selectors.account_onboarding_card(account=account, today=dt.date(2025, 1, 11)).summary
    assert summary.ttv_days is None and summary.value_milestones == 1 and summary.days_since_start == 10

    milestone = Milestone.objects.get(plan__account=account, delivers_value=True)
    services.milestone_status_set(milestone=milestone, status="done", done_on=dt.date(2025, 1, 15), now=NOW)
    assert selectors.account_time_to_value(account=account) == 14  # 1 Jan → 15 Jan
    # A non-value milestone done earlier does not count; an earlier value milestone would.
    other = Milestone.objects.get(plan__account=account, name="Kick-off call")
    services.milestone_status_set(milestone=other, status="done", done_on=dt.date(2025, 1, 3), now=NOW)
    assert selectors.account_time_to_value(account=account) == 14

    no_value = TemplateFactory(name="No value")
    milestone_templates(no_value, rows=[("Kick-off", 1, "csm", 1, False, False)])
    bare = AccountFactory(owner=alice, name="Bare", contract_start=start)
    services.plan_start(account=bare, template=no_value)
    card = selectors.account_onboarding_card(account=bare)
    assert card.summary.ttv_days is None and card.summary.value_milestones == 0


def test_first_value_milestone_counts_when_there_are_several(alice, template):
    Milestone_rows = [
        ("Quick win", 5, "customer", 1, True, False),
        ("Big win", 30, "customer", 1, True, False),
    ]
    two = TemplateFactory(name="Two wins")
    milestone_templates(two, rows=Milestone_rows)
    start = dt.date(2025, 2, 1)
    account = AccountFactory(owner=alice, contract_start=start, name="Wins")
    plan = services.plan_start(account=account, template=two)
    services.milestone_status_set(
        milestone=plan.milestones.get(name="Big win"), status="done", done_on=dt.date(2025, 2, 21), now=NOW
    )
    services.milestone_status_set(
        milestone=plan.milestones.get(name="Quick win"), status="done", done_on=dt.date(2025, 2, 26), now=NOW
    )
    assert selectors.account_time_to_value(account=account) == 20  # the first one reached: 21 Feb


def test_median_by_segment_and_cohort_by_hand(alice, bob, template):
    jan, feb = dt.date(2025, 1, 6), dt.date(2025, 2, 3)
    # SMB: 10, 20, 40 days → median 20; one SMB still waiting.
    for days, start in ((10, jan), (20, feb), (40, jan)):
        _account_with_value_on(template, alice, segment="smb", start=start, value_after_days=days)
    _account_with_value_on(template, alice, segment="smb", start=feb, value_after_days=None)
    # Enterprise: 30 and 51 days → median 40.5.
    _account_with_value_on(template, bob, segment="enterprise", start=jan, value_after_days=30)
    _account_with_value_on(template, bob, segment="enterprise", start=feb, value_after_days=51)
    # Mid-market: a plan without a value milestone does not count at all.
    no_value = TemplateFactory(name="No value")
    milestone_templates(no_value, rows=[("Kick-off", 1, "csm", 1, False, False)])
    services.plan_start(
        account=AccountFactory(owner=bob, segment="mid_market", contract_start=jan), template=no_value
    )

    by_segment = {g.key: g for g in selectors.time_to_value_median(by="segment")}
    assert set(by_segment) == {"enterprise", "smb"}
    assert (by_segment["smb"].median_days, by_segment["smb"].reached, by_segment["smb"].waiting) == (
        20.0,
        3,
        1,
    )
    assert (by_segment["enterprise"].median_days, by_segment["enterprise"].reached) == (40.5, 2)
    assert [g.label for g in selectors.time_to_value_median(by="segment")] == ["Enterprise", "SMB"]

    by_cohort = selectors.time_to_value_median(by="cohort")
    assert [(g.label, g.median_days, g.reached, g.waiting) for g in by_cohort] == [
        ("Jan 2025", 30.0, 3, 0),  # 10, 40, 30
        ("Feb 2025", 35.5, 2, 1),  # 20, 51; one waiting
    ]
    (overall,) = selectors.time_to_value_median(by="all")
    assert (overall.median_days, overall.reached, overall.waiting) == (30.0, 5, 1)  # 10 20 30 40 51
    report = selectors.time_to_value_report(by=("all", "segment", "cohort"))
    assert report == {
        "all": [overall],
        "segment": selectors.time_to_value_median(by="segment"),
        "cohort": by_cohort,
    }

    mine = selectors.time_to_value_median(
        by="segment", accounts=AccountFactory._meta.model.objects.filter(owner=alice)
    )
    assert [(g.key, g.median_days) for g in mine] == [("smb", 20.0)]
    owners = {g.label: g.median_days for g in selectors.time_to_value_median(by="owner")}
    assert owners == {"Alice Archer": 20.0, "Bob Baker": 40.5}


def test_median_says_no_data_when_nothing_reached_and_refuses_unknown_groupings(alice, template):
    _account_with_value_on(template, alice, segment="smb", start=dt.date(2025, 1, 1), value_after_days=None)
    (group,) = selectors.time_to_value_median(by="segment")
    assert (group.median_days, group.reached, group.waiting) == (None, 0, 1)
    with pytest.raises(ValueError, match="use one of"):
        selectors.time_to_value_median(by="planet")


def test_funnel_counts_accounts_per_milestone_and_median_days(alice, template):
    start = dt.date(2025, 1, 1)
    done_after = [  # days after the start each milestone was done, per account (None: not yet)
        (2, 9, 18, None),
        (4, 15, None, None),
        (6, None, None, None),
    ]
    for index, days in enumerate(done_after):
        account = AccountFactory(owner=alice, contract_start=start, name=f"Funnel {index}")
        plan = services.plan_start(account=account, template=template)
        for milestone, after in zip(plan.milestones.order_by("position"), days, strict=True):
            if after is not None:
                services.milestone_status_set(
                    milestone=milestone, status="done", done_on=start + dt.timedelta(days=after), now=NOW
                )
    funnel = selectors.template_funnel(template=template)
    assert funnel.plans == 3
    assert [(s.name, s.reached, s.median_days) for s in funnel.steps] == [
        ("Kick-off call", 3, 4.0),
        ("Data connected", 2, 12.0),
        ("First report live", 1, 18.0),
        ("Value review", 0, None),
    ]
    assert [round(s.percent) for s in funnel.steps] == [100, 67, 33, 0]


def test_managers_see_ttv_and_funnel_on_the_board_csms_do_not(client, alice, carol, template):
    _account_with_value_on(template, alice, segment="smb", start=dt.date(2025, 1, 6), value_after_days=12)
    client.force_login(carol)
    response = client.get("/onboarding/")  # the funnel of the template most plans use
    html = response.content.decode()
    assert "Time to value" in html and "By signup cohort" in html and "Funnel" in html
    assert response.context["ttv_overall"].median_days == 12.0
    assert response.context["funnel"].template == template
    partial = client.get(
        "/onboarding/", {"section": "funnel", "funnel": template.pk}, headers={"HX-Request": "true"}
    )
    assert partial.content.decode().lstrip().startswith('<div id="funnel">')
    client.force_login(alice)
    html = client.get("/onboarding/").content.decode()
    assert "By signup cohort" not in html
    assert (
        client.get("/onboarding/", {"section": "funnel"}, headers={"HX-Request": "true"}).status_code == 403
    )
