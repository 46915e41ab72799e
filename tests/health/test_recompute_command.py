"""`manage.py health_recompute --if-stale`: the run command scores a fresh install once a day, and
a fresh install first gets the last 30 days replayed so the 7- and 30-day changes show."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from health.models import AccountHealth, HealthSnapshot
from tests.factories import AccountFactory, UsageEventFactory

from .conftest import past_snapshot


def run(*args) -> str:
    out = StringIO()
    call_command("health_recompute", *args, stdout=out)
    return out.getvalue()


def test_fresh_install_replays_thirty_days_then_reports_up_to_date(alice):
    accounts = AccountFactory.create_batch(3, owner=alice)
    output = run("--if-stale")
    assert "Replayed the health scores of the last 30 days" in output
    assert "Scored 3 of 3 accounts" in output
    today = timezone.localdate()
    days = set(HealthSnapshot.objects.values_list("day", flat=True))
    assert days == {today - dt.timedelta(days=n) for n in range(31)}
    assert HealthSnapshot.objects.count() == 3 * 31
    for health in AccountHealth.objects.filter(account__in=accounts):
        assert health.day == today
        assert health.change_7d is not None and health.change_30d is not None
    assert "up to date" in run("--if-stale")
    assert HealthSnapshot.objects.count() == 3 * 31


def test_the_replay_uses_only_what_was_recorded_before_each_day(alice):
    """Usage that started three days ago: the days before scored without it, so the score rose."""
    account = AccountFactory(owner=alice)
    now = timezone.now()
    for n in range(3):
        UsageEventFactory.create_batch(20, account=account, occurred_at=now - dt.timedelta(days=n, hours=1))
    run("--if-stale")
    today = timezone.localdate()
    by_day = dict(HealthSnapshot.objects.filter(account=account).values_list("day", "score"))
    assert by_day[today] > by_day[today - dt.timedelta(days=7)]
    assert (
        AccountHealth.objects.get(account=account).change_7d
        == by_day[today] - by_day[today - dt.timedelta(days=7)]
    )


def test_no_score_before_the_contract_started(alice):
    today = timezone.localdate()
    new = AccountFactory(owner=alice, contract_start=today - dt.timedelta(days=3))
    run("--if-stale")
    assert HealthSnapshot.objects.filter(account=new).count() == 4  # three past days and today


def test_an_install_with_history_scores_today_only(alice):
    account = AccountFactory(owner=alice)
    past_snapshot(account, timezone.localdate() - dt.timedelta(days=1), 80, "green")
    output = run("--if-stale")
    assert "Replayed" not in output
    assert HealthSnapshot.objects.filter(account=account).count() == 2


def test_history_bounds_are_checked(alice):
    with pytest.raises(CommandError, match="0 to 400"):
        run("--history", "-1")
    AccountFactory(owner=alice)
    assert "Replayed the health scores of the last 2 days" in run("--history", "2")
    assert HealthSnapshot.objects.count() == 3
