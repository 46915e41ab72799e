"""Survey tests: Celery runs in process (eager) so that work enqueued on commit happens in the
test, and the health app's debounced recompute is not enqueued (its own tests cover it)."""

from __future__ import annotations

from unittest import mock

import pytest

from cs_app.celery import app as celery_app


@pytest.fixture(autouse=True)
def _eager_celery():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    with mock.patch("health.tasks.account_health_recompute_task.apply_async") as recompute:
        yield recompute
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server on 127.0.0.1 (aiosmtpd) and Django's SMTP backend pointed at it."""
    from feedback.smtp_sink import SmtpSink

    with SmtpSink() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL = False, False
        settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = "", ""
        yield sink


@pytest.fixture
def outbox_round():
    """A started round of an NPS campaign to ``n`` contacts, its invitations queued (senders not started)."""
    from feedback import services_outbox as outbox
    from tests.factories import AccountFactory, ContactFactory

    from . import factories as f

    def make(owner, n: int, *, per_account: int = 5, **campaign_fields):
        accounts = [AccountFactory(owner=owner) for _ in range((n + per_account - 1) // per_account)]
        for i in range(n):
            ContactFactory(
                account=accounts[i // per_account], email=f"person{i}@customer{i // per_account}.example"
            )
        campaign = f.campaign(by=owner, **campaign_fields)
        rnd = f.round_of(campaign, 1, status="scheduled")
        with mock.patch("feedback.tasks.enqueue"):
            report = outbox.round_start(round_id=rnd.pk)
        assert report.started
        return rnd

    return make
