"""A celebration email through a real SMTP server (aiosmtpd on 127.0.0.1, started here) with
Django's SMTP backend: first with the task run in process, then by a real Celery worker in its
own process, from the commit of the tick to the message on the wire; sent once either way."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import threading
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction
from django.utils import timezone

from cs_app.benchserver import free_port
from cs_app.celery import app as celery_app
from onboarding import services
from onboarding.models import Celebration, MilestoneTemplate, PlanTemplate
from onboarding.tasks import milestone_celebrate_task
from tests.factories import AccountFactory, ContactFactory
from tests.integration.test_worker import start_worker  # noqa: F401  (the real-worker fixture)


class Sink:
    """Collects every message the SMTP server accepts."""

    def __init__(self):
        self.messages: list[tuple[list[str], email.message.Message]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        with self.lock:
            self.messages.append(
                (list(envelope.rcpt_tos), email.message_from_bytes(envelope.original_content))
            )
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port(), server_hostname="localhost")
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield sink, controller.port
    controller.stop()
    asyncio.set_event_loop(None)


def _subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _body(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    return ""


def _setup():
    template = PlanTemplate.objects.create(name="SMTP test onboarding", auto_assign=False)
    MilestoneTemplate.objects.create(
        template=template,
        position=0,
        name="First dashboard live",
        due_day=10,
        delivers_value=True,
        celebrate=True,
    )
    account = AccountFactory(
        name="Kappa Freight", contract_start=timezone.localdate() - dt.timedelta(days=20)
    )
    ContactFactory(account=account, name="Ayşe Demir", email="ayse@kappa.example", language="tr")
    ContactFactory(account=account, name="Sam Lee", email="sam@kappa.example", language="en")
    plan = services.plan_start(account=account, template=template)
    return plan.milestones.get()


@pytest.mark.django_db
def test_celebration_is_sent_over_smtp_once(smtp_server, django_capture_on_commit_callbacks):
    sink, _port = smtp_server
    milestone = _setup()
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.milestone_status_set(milestone=milestone, status="done", done_on=timezone.localdate())
        assert (
            milestone_celebrate_task.apply(kwargs={"milestone_id": milestone.pk}).get() == 0
        )  # again: nothing
    finally:
        celery_app.conf.task_always_eager = previous
    by_rcpt = {rcpts[0]: message for rcpts, message in sink.messages}
    assert sorted(by_rcpt) == ["ayse@kappa.example", "sam@kappa.example"]
    assert _subject(by_rcpt["ayse@kappa.example"]) == "Kilometre taşına ulaşıldı: First dashboard live"
    assert _subject(by_rcpt["sam@kappa.example"]) == "Milestone reached: First dashboard live"
    assert "Tebrikler! Kappa Freight" in _body(by_rcpt["ayse@kappa.example"])
    assert by_rcpt["sam@kappa.example"].is_multipart()  # text and HTML
    assert Celebration.objects.filter(status="sent", sent_at__isnull=False).count() == 2


@pytest.mark.worker
def test_a_real_worker_sends_the_celebration_after_commit(smtp_server, start_worker, monkeypatch):  # noqa: F811
    """The tick commits; the task, enqueued on commit, is taken by a worker process that
    connects to the SMTP server itself (its settings come from the environment)."""
    sink, port = smtp_server
    monkeypatch.setenv("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
    monkeypatch.setenv("EMAIL_HOST", "127.0.0.1")
    monkeypatch.setenv("EMAIL_PORT", str(port))
    worker, connection = start_worker("filesystem")

    def publish(**kwargs):  # .delay, sent to this test's own queue on this test's broker
        return milestone_celebrate_task.apply_async(
            kwargs=kwargs, queue=worker.queue, producer=connection.Producer()
        )

    monkeypatch.setattr(milestone_celebrate_task, "delay", publish)
    with transaction.atomic():
        milestone = _setup()
        services.milestone_status_set(milestone=milestone, status="done", done_on=timezone.localdate())
        assert sink.messages == []  # nothing leaves before the commit
    try:
        worker.wait_for(lambda: len(sink.messages) >= 2, "two celebration emails on the SMTP server")
        worker.wait_for(
            lambda: Celebration.objects.filter(status="sent").count() == 2,
            "both celebrations recorded as sent",
        )
    except BaseException:
        print(worker.output())
        raise
    assert sorted(rcpts[0] for rcpts, _m in sink.messages) == ["ayse@kappa.example", "sam@kappa.example"]
