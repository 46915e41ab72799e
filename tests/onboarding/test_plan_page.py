"""The plan page: ticking milestones and editing inline with htmx (the row and the progress come
back together), adding, reordering and removing, expectations and success criteria; a fixed
number of queries whatever the plan's size."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from onboarding import services
from onboarding.models import Milestone, OnboardingPlan, SuccessCriterion
from tests.factories import ContactFactory, TouchpointFactory

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def logged_in(client, alice):
    client.force_login(alice)
    return client


def _names(plan):
    return list(plan.milestones.order_by("position").values_list("name", flat=True))


def test_page_shows_the_plan(logged_in, plan):
    services.plan_expectations_set(plan=plan, expectations="Replace the spreadsheets.")
    services.criterion_add(
        plan=plan, data={"metric": "Weekly users", "unit": "users", "target": "50", "current": "20"}
    )
    html = logged_in.get(reverse("onboarding:plan", args=[plan.account_id])).content.decode()
    for text in (
        "Test onboarding",
        "Kick-off call",
        "Value review",
        "Replace the spreadsheets.",
        "Weekly users",
        "0%",
    ):
        assert text in html, text
    assert "Delivers value" in html and "Customer" in html
    assert html.count('class="tick"') == 4


def test_tick_returns_the_row_and_the_progress_out_of_band(logged_in, plan, alice):
    milestone = plan.milestones.get(name="First report live")  # weight 3 of 10, delivers value
    response = logged_in.post(
        reverse("onboarding:milestone_status", args=[milestone.pk]),
        {"status": "done", "tick": "1"},
        headers=HX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<li id="milestone-{milestone.pk}"')
    assert 'class="tick is-done"' in html and "Done. Well played!" in html
    assert 'id="plan-summary"' in html and 'hx-swap-oob="true"' in html
    assert 'id="plan-percent">30%<' in html
    assert "value on" in html  # time-to-value now known
    milestone.refresh_from_db()
    assert (milestone.status, milestone.done_on, milestone.done_by) == ("done", timezone.localdate(), alice)

    # Untick: back to in progress, progress back to 0.
    response = logged_in.post(
        reverse("onboarding:milestone_status", args=[milestone.pk]), {"status": "in_progress"}, headers=HX
    )
    assert 'id="plan-percent">0%<' in response.content.decode()
    assert Milestone.objects.get(pk=milestone.pk).status == "in_progress"


def test_status_form_sets_blocked_and_a_past_done_date(logged_in, plan):
    milestone = plan.milestones.get(name="Data connected")
    url = reverse("onboarding:milestone_status", args=[milestone.pk])
    html = logged_in.post(
        url, {"status": "blocked", "blocked_reason": "Waiting for IT"}, headers=HX
    ).content.decode()
    assert "Blocked: Waiting for IT" in html
    response = logged_in.post(
        url, {"status": "done", "done_on": "2025-01-09"}
    )  # plain post: back to the page
    assert response.status_code == 302 and response.url.endswith(f"#milestone-{milestone.pk}")
    milestone.refresh_from_db()
    assert (milestone.status, milestone.done_on, milestone.blocked_reason) == (
        "done",
        dt.date(2025, 1, 9),
        "",
    )


def test_inline_edit_get_form_then_save_then_cancel(logged_in, plan):
    milestone = plan.milestones.get(name="Data connected")
    form = logged_in.get(
        reverse("onboarding:milestone_edit", args=[milestone.pk]), headers=HX
    ).content.decode()
    assert f'name="m{milestone.pk}-name"' in form and 'value="Data connected"' in form
    p = f"m{milestone.pk}"
    response = logged_in.post(
        reverse("onboarding:milestone_edit", args=[milestone.pk]),
        {
            f"{p}-name": "Data connected to the warehouse",
            f"{p}-due_date": "2025-01-30",
            f"{p}-owner_side": "customer",
            f"{p}-weight": "5",
            f"{p}-delivers_value": "on",
            f"{p}-description": "Snowflake",
        },
        headers=HX,
    )
    html = response.content.decode()
    assert response.status_code == 200 and "Data connected to the warehouse" in html and "Saved." in html
    milestone.refresh_from_db()
    assert (milestone.due_date, milestone.weight, milestone.delivers_value, milestone.celebrate) == (
        dt.date(2025, 1, 30),
        5,
        True,
        False,  # unticked in the form
    )
    row = logged_in.get(reverse("onboarding:milestone", args=[milestone.pk]), headers=HX).content.decode()
    assert (
        row.lstrip().startswith(f'<li id="milestone-{milestone.pk}"')
        and '<form method="post" action="/onboarding/milestones' in row
    )
    # Without htmx the edit link opens the page with the row in edit mode.
    page = logged_in.get(reverse("onboarding:milestone_edit", args=[milestone.pk])).content.decode()
    assert f'name="m{milestone.pk}-name"' in page and "Milestones" in page


def test_add_move_and_remove(logged_in, plan):
    pk = plan.account_id
    response = logged_in.post(
        reverse("onboarding:milestone_add", args=[pk]),
        {
            "new-name": "Executive sponsor check-in",
            "new-due_date": "2025-02-20",
            "new-owner_side": "csm",
            "new-weight": "2",
        },
        headers=HX,
    )
    html = response.content.decode()
    assert "“Executive sponsor check-in” added." in html and 'id="plan-summary"' in html
    assert _names(plan)[-1] == "Executive sponsor check-in"
    added = plan.milestones.get(name="Executive sponsor check-in")

    logged_in.post(reverse("onboarding:milestone_move", args=[added.pk]), {"direction": "up"}, headers=HX)
    assert _names(plan) == [
        "Kick-off call",
        "Data connected",
        "First report live",
        "Executive sponsor check-in",
        "Value review",
    ]
    first = plan.milestones.get(name="Kick-off call")
    logged_in.post(
        reverse("onboarding:milestone_move", args=[first.pk]), {"direction": "up"}, headers=HX
    )  # no-op
    assert _names(plan)[0] == "Kick-off call"
    logged_in.post(reverse("onboarding:milestone_move", args=[first.pk]), {"direction": "down"})
    assert _names(plan)[:2] == ["Data connected", "Kick-off call"]

    response = logged_in.post(reverse("onboarding:milestone_remove", args=[added.pk]), headers=HX)
    assert "“Executive sponsor check-in” removed." in response.content.decode()
    assert _names(plan) == ["Data connected", "Kick-off call", "First report live", "Value review"]
    assert list(plan.milestones.order_by("position").values_list("position", flat=True)) == [0, 1, 2, 3]


def test_reorder_refuses_another_plans_milestone(plan, bob_plan):
    from django.core.exceptions import ValidationError

    mine = list(plan.milestones.order_by("position").values_list("pk", flat=True))
    theirs = bob_plan.milestones.first().pk
    with pytest.raises(ValidationError) as excinfo:
        services.milestones_reorder(plan=plan, order=[*mine[:-1], theirs])
    assert "cannot move to another plan" in str(excinfo.value)
    services.milestones_reorder(plan=plan, order=list(reversed(mine)))
    assert _names(plan) == ["Value review", "First report live", "Data connected", "Kick-off call"]
    assert Milestone.objects.get(pk=theirs).plan_id == bob_plan.pk


def test_expectations_inline(logged_in, plan):
    url = reverse("onboarding:expectations", args=[plan.account_id])
    form = logged_in.get(url, headers=HX).content.decode()
    assert "<textarea" in form and 'id="expectations"' in form
    html = logged_in.post(
        url, {"expectations": "  Board pack in one day.\r\nNo spreadsheets.  "}, headers=HX
    ).content.decode()
    assert "Board pack in one day.<br>No spreadsheets." in html and "Saved." in html
    assert OnboardingPlan.objects.get(pk=plan.pk).expectations == "Board pack in one day.\nNo spreadsheets."


def test_criteria_add_edit_review_and_remove(logged_in, plan, alice):
    pk = plan.account_id
    html = logged_in.post(
        reverse("onboarding:criterion_add", args=[pk]),
        {
            "newc-metric": "Hours to prepare the board pack",
            "newc-unit": "hours",
            "newc-baseline": "24",
            "newc-target": "4",
            "newc-current": "10",
        },
        headers=HX,
    ).content.decode()
    assert "Hours to prepare the board pack" in html and "Success criterion added." in html
    criterion = SuccessCriterion.objects.get(plan=plan)
    assert criterion.achieved_on is None and criterion.percent == 70  # 24 → 10 of the way to 4
    p = f"c{criterion.pk}"
    html = logged_in.post(
        reverse("onboarding:criterion_edit", args=[criterion.pk]),
        {
            f"{p}-metric": "Hours to prepare the board pack",
            f"{p}-unit": "hours",
            f"{p}-baseline": "24",
            f"{p}-target": "4",
            f"{p}-current": "3.5",
        },
        headers=HX,
    ).content.decode()
    criterion.refresh_from_db()
    assert criterion.achieved_on == timezone.localdate()  # lower is better: 3.5 ≤ 4
    assert "✓" in html

    html = logged_in.post(
        reverse("onboarding:criteria_review", args=[pk]),
        {"note": "Sponsor happy.", "log_touchpoint": "on"},
        headers=HX,
    ).content.decode()
    assert "logged as a QBR" in html
    plan.refresh_from_db()
    assert plan.criteria_reviewed_on == timezone.localdate()
    qbr = plan.account.touchpoints.get(kind="qbr")
    assert "Hours to prepare the board pack: 3.5 / 4 hours (achieved)" in qbr.summary and qbr.author == alice

    html = logged_in.post(
        reverse("onboarding:criterion_remove", args=[criterion.pk]), headers=HX
    ).content.decode()
    assert "Success criterion removed." in html
    assert not SuccessCriterion.objects.exists()


def test_switch_template_keeps_done_milestones_and_shift_moves_open_ones(logged_in, plan, alice):
    from .factories import TemplateFactory, milestone_templates

    done = plan.milestones.get(name="Kick-off call")
    services.milestone_status_set(milestone=done, status="done", done_on=dt.date(2025, 1, 3))
    other = TemplateFactory(name="Fast track")
    milestone_templates(
        other, rows=[("Kick-off call", 1, "csm", 1, False, False), ("Go live", 5, "customer", 2, True, True)]
    )
    response = logged_in.post(reverse("onboarding:switch", args=[plan.account_id]), {"template": other.pk})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.template == other and plan.name == "Fast track"
    assert _names(plan) == ["Kick-off call", "Go live"]
    assert Milestone.objects.get(pk=done.pk).status == "done"  # the very same row, kept

    go_live = plan.milestones.get(name="Go live")
    response = logged_in.post(
        reverse("onboarding:shift", args=[plan.account_id]), {"start_date": "2025-01-15"}
    )
    assert response.status_code == 302
    go_live.refresh_from_db()
    assert go_live.due_date == dt.date(2025, 1, 20)  # moved 14 days with the start
    assert Milestone.objects.get(pk=done.pk).due_date == dt.date(2025, 1, 4)  # done: not moved


def test_start_and_delete_a_plan_by_hand(logged_in, alice, template):
    from tests.factories import AccountFactory

    account = AccountFactory(owner=alice, contract_start=dt.date(2025, 6, 1))
    page = logged_in.get(reverse("onboarding:plan", args=[account.pk])).content.decode()
    assert "has no onboarding plan yet" in page
    response = logged_in.post(
        reverse("onboarding:start", args=[account.pk]), {"template": template.pk, "start_date": "2025-06-08"}
    )
    assert response.status_code == 302
    plan = OnboardingPlan.objects.get(account=account)
    assert plan.milestones.get(name="Kick-off call").due_date == dt.date(2025, 6, 11)
    response = logged_in.post(reverse("onboarding:delete", args=[account.pk]))
    assert response.status_code == 302
    assert not OnboardingPlan.objects.filter(account=account).exists()
    assert not Milestone.objects.filter(plan_id=plan.pk).exists()
    response = logged_in.post(
        reverse("onboarding:start", args=[account.pk]), {"template": "", "start_date": "2025-06-01"}
    )
    assert OnboardingPlan.objects.get(account=account).milestones.count() == 0


def _grow(plan, n):
    for i in range(n):
        services.milestone_add(
            plan=plan, data={"name": f"Extra {i}", "due_date": dt.date(2025, 2, 1), "celebrate": True}
        )
        services.criterion_add(plan=plan, data={"metric": f"Metric {i}", "target": "10"})
    for milestone in plan.milestones.all()[: n // 2]:
        services.milestone_status_set(milestone=milestone, status="done", done_on=dt.date(2025, 2, 2))


def test_plan_page_query_count_does_not_grow(
    logged_in, plan, alice, alice_account, django_assert_max_num_queries
):
    url = reverse("onboarding:plan", args=[plan.account_id])
    ContactFactory(account=alice_account)
    services.share_link_create(plan=plan, by=alice)
    with django_assert_max_num_queries(14) as small:
        logged_in.get(url)
    _grow(plan, 30)
    ContactFactory.create_batch(10, account=alice_account)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = logged_in.get(url)
    assert len(response.context["milestones"]) == 34


def test_partials_query_counts_do_not_grow(logged_in, plan, django_assert_max_num_queries):
    def start(name):
        milestone = plan.milestones.get(name=name)
        url = reverse("onboarding:milestone_status", args=[milestone.pk])
        return logged_in.post(url, {"status": "in_progress"}, headers=HX)

    with django_assert_max_num_queries(40) as small:
        start("Kick-off call")
    _grow(plan, 20)
    with django_assert_max_num_queries(len(small.captured_queries)):
        start("Extra 19")  # still not started, like the kick-off was


def test_account_360_card_and_timeline(logged_in, plan, alice, django_assert_max_num_queries):
    services.plan_expectations_set(plan=plan, expectations="Self-serve reporting for ops.")
    services.criterion_add(
        plan=plan, data={"metric": "Reports shared weekly", "target": "12", "current": "3"}
    )
    services.milestone_status_set(
        milestone=plan.milestones.get(name="First report live"),
        status="done",
        done_on=dt.date(2025, 1, 18),
        by=alice,
    )
    url = reverse("accounts:timeline", args=[plan.account_id])  # loaded by htmx with the page
    side = reverse("accounts:side", args=[plan.account_id])  # the side cards, loaded likewise
    html = logged_in.get(side, headers=HX).content.decode()
    card = html[html.index('id="onboarding"') : html.index("</section>", html.index('id="onboarding"'))]
    assert "Test onboarding" in card and "30%" in card and "Behind" in card
    assert "17 days" in card  # 1 Jan → 18 Jan
    assert "Self-serve reporting for ops." in card and "Reports shared weekly" in card
    first = logged_in.get(reverse("accounts:timeline", args=[plan.account_id]))  # the page without JS
    entries = first.context["timeline"].entries
    assert [e.title for e in entries if e.kind == "milestone"] == ["Milestone reached: First report live"]
    assert "Delivers value." in first.content.decode()
    # The card and the timeline cost the same whatever the plan's size.
    with django_assert_max_num_queries(60) as small:
        logged_in.get(url, headers=HX)
    with django_assert_max_num_queries(60) as small_side:
        logged_in.get(side, headers=HX)
    _grow(plan, 25)
    TouchpointFactory.create_batch(5, account=plan.account)
    with django_assert_max_num_queries(len(small.captured_queries)):
        logged_in.get(url, headers=HX)
    with django_assert_max_num_queries(len(small_side.captured_queries)):
        logged_in.get(side, headers=HX)


def test_card_without_a_plan_offers_to_start_one(logged_in, alice):
    from tests.factories import AccountFactory

    account = AccountFactory(owner=alice)
    html = logged_in.get(reverse("accounts:side", args=[account.pk]), headers=HX).content.decode()
    assert "No onboarding plan." in html
    assert re.search(rf'href="/onboarding/accounts/{account.pk}/">Start one', html)
