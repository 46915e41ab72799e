"""Celebrations: when a celebrating milestone is done, each contact gets one short congratulation
in their language, sent by Celery after commit, once ever (a retry sends only what is left)."""

from __future__ import annotations

import datetime as dt
from smtplib import SMTPServerDisconnected

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from onboarding import services
from onboarding.models import Celebration
from onboarding.tasks import milestone_celebrate_task
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contacts(alice_account):
    return [
        ContactFactory(account=alice_account, name="Ann English", email="ann@alpha.example", language="en"),
        ContactFactory(account=alice_account, name="Tuna Yılmaz", email="tuna@alpha.example", language="tr"),
        ContactFactory(account=alice_account, name="Mei Lin", email="mei@alpha.example", language="zh-hant"),
    ]


def _tick(plan, name="Data connected", day=None, **kwargs):
    milestone = plan.milestones.get(name=name)
    return services.milestone_status_set(
        milestone=milestone, status="done", done_on=day or timezone.localdate(), **kwargs
    )


def test_enqueued_on_commit_then_sent_once_to_each_contact_in_their_language(
    plan, contacts, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _tick(plan)
        assert mail.outbox == []  # nothing before the commit
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert sorted(m.to[0] for m in mail.outbox) == [
        "ann@alpha.example",
        "mei@alpha.example",
        "tuna@alpha.example",
    ]
    by_to = {m.to[0]: m for m in mail.outbox}
    assert by_to["ann@alpha.example"].subject == "Milestone reached: Data connected"
    assert by_to["tuna@alpha.example"].subject == "Kilometre taşına ulaşıldı: Data connected"
    assert by_to["mei@alpha.example"].subject == "已達成里程碑：Data connected"
    assert "Hi Ann," in by_to["ann@alpha.example"].body
    assert (
        "Alpha Industries has reached a milestone of its onboarding: Data connected."
        in by_to["ann@alpha.example"].body
    )
    assert "Onboarding progress: 20% (1 of 4 milestones done)." in by_to["ann@alpha.example"].body
    assert "Merhaba Tuna," in by_to["tuna@alpha.example"].body
    assert "恭喜" in by_to["mei@alpha.example"].body
    assert by_to["tuna@alpha.example"].extra_headers["Content-Language"] == "tr"
    html = by_to["ann@alpha.example"].alternatives[0][0]
    assert "Data connected" in html and "<html" in html
    assert Celebration.objects.filter(status="sent").count() == 3

    # Sent once: the task again, and the milestone reopened and done again, send nothing more.
    milestone = plan.milestones.get(name="Data connected")
    assert milestone_celebrate_task.apply(kwargs={"milestone_id": milestone.pk}).get() == 0
    with django_capture_on_commit_callbacks(execute=True):
        services.milestone_status_set(milestone=milestone, status="in_progress")
        _tick(plan)
    assert len(mail.outbox) == 3


def test_the_email_links_the_shared_plan_when_there_is_one(
    plan, contacts, alice, eager_celery, django_capture_on_commit_callbacks
):
    link = services.share_link_create(plan=plan, by=alice)
    with django_capture_on_commit_callbacks(execute=True):
        _tick(plan)
    body = mail.outbox[0].body
    assert services.share_link_token(link) in body
    assert "Next up: Kick-off call" in body


def test_no_email_for_a_milestone_that_does_not_celebrate(
    plan, contacts, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _tick(plan, name="Kick-off call")
    assert mail.outbox == []
    assert not Celebration.objects.exists()


def test_no_email_for_a_milestone_back_dated_more_than_two_weeks(
    plan, contacts, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _tick(plan, day=timezone.localdate() - dt.timedelta(days=services.CELEBRATE_WITHIN_DAYS + 1))
    assert mail.outbox == []
    assert not Celebration.objects.exists()


def test_rolled_back_change_enqueues_nothing(plan, contacts, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        _tick(plan)
        transaction.set_rollback(True)
    assert callbacks == []
    assert plan.milestones.get(name="Data connected").status == "not_started"


def test_a_failed_send_is_retried_for_the_remaining_contacts_only(plan, contacts, monkeypatch):
    milestone = _tick(plan)
    original = EmailMultiAlternatives.send
    calls = {"n": 0}

    def flaky(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise SMTPServerDisconnected("connection lost")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(EmailMultiAlternatives, "send", flaky)
    with pytest.raises(SMTPServerDisconnected):
        services.milestone_celebrate(milestone_id=milestone.pk)
    assert len(mail.outbox) == 1
    assert Celebration.objects.filter(status="sent").count() == 1
    assert Celebration.objects.filter(status="pending").count() == 2
    assert services.milestone_celebrate(milestone_id=milestone.pk) == 2
    assert sorted(m.to[0] for m in mail.outbox) == [
        "ann@alpha.example",
        "mei@alpha.example",
        "tuna@alpha.example",
    ]
    assert services.milestone_celebrate(milestone_id=milestone.pk) == 0


def test_task_is_late_acknowledged_and_retries_smtp_errors():
    assert milestone_celebrate_task.acks_late is True
    assert any(issubclass(SMTPServerDisconnected, cls) for cls in milestone_celebrate_task.autoretry_for)


def test_celebrations_are_shown_on_the_plan_page(
    client, alice, plan, contacts, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _tick(plan)
    client.force_login(alice)
    html = client.get(f"/onboarding/accounts/{plan.account_id}/").content.decode()
    assert "congratulated 3 contacts" in html


def test_sweep_sends_what_a_lost_enqueue_left_behind(plan, contacts, eager_celery):
    from django.conf import settings

    from onboarding.tasks import celebrations_sweep_task

    # Done without the after-commit enqueue (as if the broker had been down).
    _tick(plan)  # outside django_capture_on_commit_callbacks: the test transaction never commits
    assert mail.outbox == []
    later = timezone.now() + dt.timedelta(minutes=5)
    assert services.celebrations_sweep(now=timezone.now()) == 0  # too fresh: the enqueue may still come
    assert services.celebrations_sweep(now=later) == 1
    assert len(mail.outbox) == 3
    assert services.celebrations_sweep(now=later) == 0  # sent: nothing more
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert celebrations_sweep_task.name in scheduled
