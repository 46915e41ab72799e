"""seed_demo's survey history: campaigns, rounds and invitations as the outbox leaves them,
answers at a realistic rate with the right bands, scores that follow the account's situation,
and exactly one follow-up (with its task) per unhappy answer."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from collections import defaultdict

import pytest
from django.core.management import call_command
from django.db.models import Avg, Count
from django.utils import timezone

from feedback import selectors
from feedback.models import (
    Campaign,
    CampaignRound,
    FollowUp,
    Invitation,
    InvitationStatus,
    Response,
    RoundStatus,
    band_for,
)
from feedback.services_outbox import LINK_VALID_DAYS, feedback_tick
from health.models import Task, TaskStatus
from team.models import User

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 18)


def _seed(**extra):
    options = {"accounts": 80, "events-per-account": 40, "seed": 5, "csms": 2, "today": TODAY.isoformat()}
    options.update(extra)
    args = [item for key, value in options.items() for item in (f"--{key}", str(value))]
    call_command("seed_demo", *args, "--quiet", stdout=io.StringIO())


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(0)))


def test_campaigns_rounds_and_invitations_as_the_outbox_leaves_them():
    _seed()
    names = set(Campaign.objects.values_list("name", flat=True))
    assert {"Quarterly NPS", "Support CSAT", "Onboarding effort (CES)"} <= names
    nps = Campaign.objects.get(name="Quarterly NPS")
    assert nps.recurrence_months == 3 and nps.status == "active"
    sent_rounds = nps.rounds.filter(status=RoundStatus.SENT).order_by("number")
    assert sent_rounds.count() >= 4
    # the next round is scheduled after the newest, as round_start leaves it
    upcoming = nps.rounds.get(status=RoundStatus.SCHEDULED)
    assert upcoming.number == sent_rounds.last().number + 1 and upcoming.scheduled_at > _start_of(TODAY)
    now = _start_of(TODAY)
    assert not Invitation.objects.exclude(
        status__in=[InvitationStatus.SENT, InvitationStatus.SKIPPED]
    ).exists()
    assert not Invitation.objects.filter(sent_at__gte=now).exists()
    assert not Invitation.objects.filter(reminder_status__in=["queued", "sending"]).exists()
    tokens = list(Invitation.objects.values_list("token", flat=True))
    assert len(set(tokens)) == len(tokens) and min(map(len, tokens)) >= 32
    # throttling: a contact's sent invitations are at least the later campaign's throttle apart
    sends = defaultdict(list)
    for email, sent_at, days in Invitation.objects.filter(status="sent").values_list(
        "email", "sent_at", "campaign__throttle_days"
    ):
        sends[email].append((sent_at, days))
    for rows in sends.values():
        rows.sort()
        for (before, _d), (after, days) in itertools.pairwise(rows):
            assert after - before >= dt.timedelta(days=days)
    # nothing is due for the beat: no round to start, no reminder, no send
    report = feedback_tick(now=now + dt.timedelta(hours=1))
    assert (report.rounds_started, report.reminders_queued, report.rounds_restarted) == (0, 0, 0)


def test_answers_bands_rate_and_signal():
    _seed()
    now = _start_of(TODAY)
    sent = Invitation.objects.filter(status="sent").count()
    answered = Response.objects.count()
    assert 0.25 < answered / sent < 0.55
    for response in Response.objects.select_related("invitation", "survey"):
        assert response.band == band_for(response.kind, response.score)
        assert response.survey.accepts(response.score)
        invitation = response.invitation
        assert invitation.status == "sent" and invitation.sent_at < response.answered_at < now
        assert response.answered_at - invitation.sent_at < dt.timedelta(days=LINK_VALID_DAYS)
        assert (response.account_id, response.contact_id, response.round_id) == (
            invitation.account_id,
            invitation.contact_id,
            invitation.round_id,
        )
    # each answers in their own language, with texts in it
    from feedback.demo import _FOLLOW_UPS

    for response in Response.objects.select_related("contact").exclude(follow_up=""):
        assert response.language == response.contact.language
        texts = _FOLLOW_UPS[(response.kind, response.band)]
        assert response.follow_up in (texts.get(response.language) or texts["en"])
    assert Response.objects.exclude(follow_up="").count() > answered / 2
    # churned accounts answered lower than the others
    churned = Response.objects.filter(kind="nps", account__churned_at__isnull=False).aggregate(a=Avg("score"))
    kept = Response.objects.filter(kind="nps", account__churned_at__isnull=True).aggregate(a=Avg("score"))
    assert churned["a"] is not None and churned["a"] < kept["a"] - 1
    manager = User.objects.get(email="manager@demo.example")
    metrics = selectors.metrics_all(responses=selectors.visible_responses(manager))
    assert metrics["nps"].answers > 50 and -40 < metrics["nps"].value < 60
    assert metrics["csat"].has_data and metrics["ces"].has_data


def test_every_unhappy_answer_has_one_follow_up_with_a_task():
    _seed()
    now = _start_of(TODAY)
    unhappy = [
        r for r in Response.objects.select_related("survey", "account") if r.survey.is_unhappy(r.score)
    ]
    assert unhappy
    follow_ups = {f.response_id: f for f in FollowUp.objects.select_related("task")}
    assert set(follow_ups) == {r.pk for r in unhappy}
    assert FollowUp.objects.values("response").annotate(n=Count("pk")).filter(n__gt=1).count() == 0
    for response in unhappy:
        follow_up = follow_ups[response.pk]
        task = follow_up.task
        assert follow_up.owner_id == response.account.owner_id == task.owner_id
        assert follow_up.opened_at == response.answered_at and task.account_id == response.account_id
        assert (task.status == TaskStatus.DONE) == (follow_up.closed_at is not None)
        if follow_up.closed_at:
            assert follow_up.outcome and follow_up.closed_at < now
        if response.answered_at < now - dt.timedelta(days=30):
            assert follow_up.closed_at is not None
    recent_open = FollowUp.objects.filter(closed_at__isnull=True, opened_at__gte=now - dt.timedelta(days=30))
    assert recent_open.exists()
    assert Task.objects.filter(title__startswith="Follow up: ").count() == len(unhappy)


def test_the_demo_csm_sees_campaigns_detractors_and_follow_ups():
    from dashboards.selectors import desk

    _seed()
    csm = User.objects.get(email="csm@demo.example")
    assert Campaign.objects.visible_to(csm).exists()
    assert selectors.follow_up_rows(user=csm, state="open").exists()
    assert desk(user=csm, today=TODAY).detractors_total > 0
    assert CampaignRound.objects.filter(campaign__created_by=csm).exists()
