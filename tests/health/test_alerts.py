"""Alert rules raise one open alert per account and rule; snooze, resolve, re-open; the cool-down;
answers (detractor, promoter) raise one alert each; alerts on the account timeline and page."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from accounts.models import UsageEvent
from health.models import Alert, AlertRule, Task
from health.registry import SOURCES, Source
from health.services import alert_reopen, alert_resolve, alert_snooze, health_scores_recompute
from tests.account_page import account_360_html, timeline
from tests.factories import AccountFactory

from .conftest import only_measures, past_snapshot, set_score

RED_RULE = "Health turned red"


def alerts_of(account):
    return list(Alert.objects.filter(account=account).select_related("rule").order_by("pk"))


def test_defaults_after_migrate(db):
    active = set(AlertRule.objects.filter(is_active=True).values_list("name", flat=True))
    assert active == {
        RED_RULE,
        "Detractor answer",
        "Onboarding milestone overdue",
        "Promoter answer",
    }
    assert AlertRule.objects.count() == 10
    red = AlertRule.objects.get(name=RED_RULE)
    assert red.playbook.name == "Save an at-risk account" and red.playbook.steps.count() == 4


def test_falling_into_red_raises_exactly_one_alert_deduplicated(alice, touch_card):
    account = AccountFactory(owner=alice)
    set_score(account, 90)
    health_scores_recompute()
    set_score(account, 55)  # yellow: not this rule
    now = timezone.now() + dt.timedelta(days=1)
    set_score(account, 55, now=now)
    health_scores_recompute(now=now)
    assert alerts_of(account) == []
    later = now + dt.timedelta(days=1)
    set_score(account, 30, now=later)
    report = health_scores_recompute(now=later)
    assert report.alerts_opened == 1
    (alert,) = alerts_of(account)
    assert (alert.rule.name, alert.status, alert.severity) == (RED_RULE, "open", "high")
    assert alert.details == "Health fell from Yellow to Red (score 30)."
    # recomputing again (same day and the next) opens nothing more
    health_scores_recompute(now=later)
    set_score(account, 20, now=later + dt.timedelta(days=1))
    health_scores_recompute(now=later + dt.timedelta(days=1))
    assert len(alerts_of(account)) == 1
    assert Task.objects.filter(account=account).count() == 4


def test_first_score_red_counts_as_falling_into_red(alice, touch_card):
    account = AccountFactory(owner=alice)
    set_score(account, 10)
    health_scores_recompute()
    assert [a.details for a in alerts_of(account)] == ["Health is Red (score 10)."]


def test_database_allows_one_open_alert_per_account_and_rule(alice_account):
    rule = AlertRule.objects.get(name=RED_RULE)
    Alert.objects.create(account=alice_account, rule=rule, severity="high")
    with pytest.raises(IntegrityError):
        Alert.objects.create(account=alice_account, rule=rule, severity="high", status="snoozed",
                             snoozed_until=dt.date(2030, 1, 1))  # fmt: skip


def test_resolved_alerts_do_not_block_a_new_one(alice_account):
    rule = AlertRule.objects.get(name=RED_RULE)
    Alert.objects.create(
        account=alice_account,
        rule=rule,
        severity="high",
        status="resolved",
        outcome="saved",
        resolved_at=timezone.now(),
    )
    Alert.objects.create(account=alice_account, rule=rule, severity="high")
    assert Alert.objects.filter(account=alice_account).count() == 2


def test_snoozed_alert_still_deduplicates_then_wakes_up_on_its_day(alice, touch_card):
    account = AccountFactory(owner=alice)
    set_score(account, 20)
    health_scores_recompute()
    (alert,) = alerts_of(account)
    until = timezone.localdate() + dt.timedelta(days=3)
    alert_snooze(alert=alert, until=until, by=alice)
    alert.refresh_from_db()
    assert (alert.status, alert.snoozed_until) == ("snoozed", until)
    day2 = timezone.now() + dt.timedelta(days=1)
    health_scores_recompute(now=day2)
    alert.refresh_from_db()
    assert alert.status == "snoozed" and len(alerts_of(account)) == 1
    wake = dt.datetime.combine(until, dt.time(3), tzinfo=timezone.get_current_timezone())
    health_scores_recompute(now=wake)
    alert.refresh_from_db()
    assert (alert.status, alert.snoozed_until) == ("open", None)
    assert len(alerts_of(account)) == 1


@pytest.mark.parametrize(
    ("days", "message"),
    [(0, "Choose a day after today."), (-2, "Choose a day after today."), (400, "at most a year")],
)
def test_snooze_needs_a_future_day_within_a_year(alice_account, days, message):
    alert = Alert.objects.create(
        account=alice_account, rule=AlertRule.objects.get(name=RED_RULE), severity="high"
    )
    with pytest.raises(ValidationError, match=message):
        alert_snooze(alert=alert, until=timezone.localdate() + dt.timedelta(days=days))


def test_resolve_with_outcome_then_cool_down_then_a_new_fall_reopens(alice, touch_card):
    account = AccountFactory(owner=alice)
    now = timezone.now()
    set_score(account, 20, now=now)
    health_scores_recompute(now=now)
    (alert,) = alerts_of(account)
    with pytest.raises(ValidationError):
        alert_resolve(alert=alert, outcome="")
    alert_resolve(alert=alert, outcome="saved", note="Exec sponsor call booked", by=alice)
    alert.refresh_from_db()
    assert (alert.status, alert.outcome, alert.outcome_note, alert.resolved_by) == (
        "resolved",
        "saved",
        "Exec sponsor call booked",
        alice,
    )
    # still red the same day: resolved, and the rule is cooling down
    health_scores_recompute(now=now)
    assert len(alerts_of(account)) == 1
    # recovers to green, then falls again within the cool-down: no new alert
    for offset, score in [(5, 90), (10, 20)]:
        when = now + dt.timedelta(days=offset)
        set_score(account, score, now=when)
        health_scores_recompute(now=when)
    assert len(alerts_of(account)) == 1
    # after the 30-day cool-down it recovers and falls again: a new alert opens
    for offset, score in [(40, 90), (41, 25)]:
        when = now + dt.timedelta(days=offset)
        set_score(account, score, now=when)
        health_scores_recompute(now=when)
    statuses = [a.status for a in alerts_of(account)]
    assert statuses == ["resolved", "open"]


def test_reopen_a_resolved_alert_unless_a_newer_one_is_open(alice_account):
    rule = AlertRule.objects.get(name=RED_RULE)
    old = Alert.objects.create(account=alice_account, rule=rule, severity="high")
    alert_resolve(alert=old, outcome="false_alarm")
    alert_reopen(alert=old)
    old.refresh_from_db()
    assert (old.status, old.outcome, old.resolved_at) == ("open", "", None)
    alert_resolve(alert=old, outcome="no_action")
    Alert.objects.create(account=alice_account, rule=rule, severity="high")
    with pytest.raises(ValidationError, match="newer alert"):
        alert_reopen(alert=old)


def _activate(name: str, **changes) -> AlertRule:
    rule = AlertRule.objects.get(name=name)
    for field, value in changes.items():
        setattr(rule, field, value)
    rule.is_active = True
    rule.save()
    return rule


def test_score_dropped_n_points_in_7_days(alice, touch_card):
    AlertRule.objects.filter(name=RED_RULE).update(is_active=False)
    _activate("Score dropped 15 points in a week")
    today = timezone.localdate()
    falling, steady = AccountFactory(owner=alice), AccountFactory(owner=alice)
    past_snapshot(falling, today - dt.timedelta(days=7), 85, "green")
    past_snapshot(steady, today - dt.timedelta(days=7), 84, "green")
    set_score(falling, 70)  # -15
    set_score(steady, 70)  # -14
    health_scores_recompute()
    assert [a.details for a in alerts_of(falling)] == ["Score dropped from 85 to 70 in 7 days."]
    assert alerts_of(steady) == []


def test_usage_fell_n_percent_week_over_week_and_usage_up_opportunity(alice, touch_card):
    _activate("Usage fell 50% week over week")
    _activate("Usage up 50%")
    now = timezone.now()
    falling, growing, small = (AccountFactory(owner=alice) for _ in range(3))
    for account in (falling, growing, small):
        set_score(account, 90)
    events = [(falling, d) for d in [1, 2, 8, 8.5, 9, 10, 11, 12]]  # 2 this week, 6 the week before
    events += [(growing, 1 + i * 0.9) for i in range(30)]  # 30 in the last 30 days
    events += [(growing, 31 + i * 1.4) for i in range(20)]  # 20 the 30 days before: +50%
    events += [(small, d) for d in [1, 2, 3, 4, 5, 6, 40]]  # +600%, but from 1 event
    UsageEvent.objects.bulk_create(
        UsageEvent(account=a, name="x", occurred_at=now - dt.timedelta(days=d)) for a, d in events
    )
    only_measures(("days_since_touch", 10, 100, 0))
    health_scores_recompute(now=now)
    assert [(a.rule.name, a.details) for a in alerts_of(falling)] == [
        ("Usage fell 50% week over week", "Usage -67% on the week before.")
    ]
    assert [(a.rule.name, a.rule.is_opportunity, a.details) for a in alerts_of(growing)] == [
        ("Usage up 50%", True, "Usage +50% over the last 30 days against the 30 before.")
    ]
    assert alerts_of(small) == []  # too few events to call it growth


def test_renewal_within_n_days_while_not_green(alice, touch_card):
    _activate("Renewal in 60 days and not green")
    AlertRule.objects.filter(name=RED_RULE).update(is_active=False)
    today = timezone.localdate()
    start = today - dt.timedelta(days=300)
    yellow_soon = AccountFactory(
        owner=alice, renewal_date=today + dt.timedelta(days=60), contract_start=start
    )
    green_soon = AccountFactory(owner=alice, renewal_date=today + dt.timedelta(days=10), contract_start=start)
    yellow_later = AccountFactory(
        owner=alice, renewal_date=today + dt.timedelta(days=61), contract_start=start
    )
    for account, score in [(yellow_soon, 50), (green_soon, 95), (yellow_later, 50)]:
        set_score(account, score)
    health_scores_recompute()
    assert [a.details for a in alerts_of(yellow_soon)] == ["Renews in 60 days and health is Yellow."]
    assert alerts_of(green_soon) == [] and alerts_of(yellow_later) == []


def test_no_touchpoint_for_n_days(alice, touch_card):
    _activate("No touchpoint for 60 days")
    AlertRule.objects.filter(name=RED_RULE).update(is_active=False)
    quiet, recent = AccountFactory(owner=alice), AccountFactory(owner=alice)
    set_score(quiet, 40)  # 60 days since the last touch
    set_score(recent, 41)
    health_scores_recompute()
    assert [a.details for a in alerts_of(quiet)] == ["No touchpoint for 60 days."]
    assert alerts_of(recent) == []


def test_detractor_answer_raises_one_alert_per_answer(monkeypatch, alice, touch_card):
    account = AccountFactory(owner=alice)
    set_score(account, 90)
    answered = {"at": timezone.now() - dt.timedelta(days=2)}

    def answers(ctx):
        return {"detractor_at": {account.pk: answered["at"]}}

    monkeypatch.setitem(SOURCES, "feedback-test", Source("feedback-test", ("detractor_at",), answers))
    health_scores_recompute()
    (alert,) = alerts_of(account)
    assert alert.rule.name == "Detractor answer"
    assert Task.objects.filter(alert=alert).count() == 3  # "Follow up a detractor"
    alert_resolve(alert=alert, outcome="saved")
    health_scores_recompute()  # the same answer: no second alert
    assert len(alerts_of(account)) == 1
    answered["at"] = timezone.now()  # a new detractor answer
    health_scores_recompute()
    assert [a.status for a in alerts_of(account)] == ["resolved", "open"]


def test_alerts_appear_on_the_account_timeline_and_page(client, alice, touch_card):
    account = AccountFactory(owner=alice)
    set_score(account, 15)
    health_scores_recompute()
    client.force_login(alice)
    entries = timeline(client, account, htmx=False).context["timeline"].entries  # htmx loads it
    assert entries[0].kind == "alert" and entries[0].title == "Alert: Health turned red (open)"
    html = account_360_html(client, account)
    assert 'id="health-alerts"' in html and "Health is Red (score 15)." in html


def test_alert_actions_on_the_page_and_access(client, alice, bob, touch_card):
    account = AccountFactory(owner=alice)
    set_score(account, 15)
    health_scores_recompute()
    (alert,) = alerts_of(account)
    client.force_login(bob)
    snooze = reverse("health:alert_snooze", args=[alert.pk])
    until = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    assert client.post(snooze, {"until": until}).status_code == 404
    client.force_login(alice)
    response = client.post(snooze, {"until": until}, follow=True)
    assert "Alert snoozed until" in response.content.decode()
    alert.refresh_from_db()
    assert alert.status == "snoozed"
    response = client.post(reverse("health:alert_resolve", args=[alert.pk]), {"outcome": ""}, follow=True)
    assert "Choose an outcome" in response.content.decode()
    client.post(reverse("health:alert_resolve", args=[alert.pk]), {"outcome": "saved", "note": "ok"})
    alert.refresh_from_db()
    assert (alert.status, alert.outcome) == ("resolved", "saved")
