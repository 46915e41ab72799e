"""Failures while sending: a transient error (server down, 4xx) gives the chunk back to the queue
and the task retries with backoff; a permanent refusal (5xx) is recorded on the invitation and a
refused address is suppressed as bounced."""

from __future__ import annotations

from unittest import mock

import pytest

from feedback import services_outbox as outbox
from feedback import tasks
from feedback.mailer import TransientSendError
from feedback.models import Invitation, Suppression


@pytest.mark.django_db
def test_server_down_gives_every_row_back_and_counts_no_attempt(alice, outbox_round, settings):
    rnd = outbox_round(alice, 4)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens
    with pytest.raises(TransientSendError):
        outbox.invitations_send_chunk(round_id=rnd.pk)
    rows = list(Invitation.objects.filter(round=rnd).values_list("status", "attempts", "claim_token"))
    assert rows == [("queued", 0, "")] * 4


def test_the_chunk_task_retries_with_backoff():
    task = tasks.invitations_send_chunk_task
    assert TransientSendError in task.autoretry_for
    assert task.retry_backoff and task.max_retries >= 5
    assert task.acks_late and task.reject_on_worker_lost


@pytest.mark.django_db
def test_a_refused_recipient_is_failed_and_suppressed_the_rest_go(alice, outbox_round, smtp_sink):
    rnd = outbox_round(alice, 3)
    smtp_sink.handler.refuse["person1@customer0.example"] = "550 5.1.1 no such user"
    report = outbox.invitations_send_chunk(round_id=rnd.pk)
    assert (report.sent, report.failed) == (2, 1)
    failed = Invitation.objects.get(round=rnd, status="failed")
    assert failed.email == "person1@customer0.example" and "550" in failed.last_error
    assert Suppression.objects.get().email == "person1@customer0.example"
    assert smtp_sink.wait_for(2) == 2


@pytest.mark.django_db
def test_a_greylisted_recipient_is_retried_then_failed(alice, outbox_round, smtp_sink):
    rnd = outbox_round(alice, 1)
    smtp_sink.handler.refuse["person0@customer0.example"] = "451 4.7.1 try again later"
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        with pytest.raises(TransientSendError):
            outbox.invitations_send_chunk(round_id=rnd.pk)
        row = Invitation.objects.get(round=rnd)
        assert row.attempts == attempt
    assert row.status == "failed" and "451" in row.last_error
    assert not Suppression.objects.exists()


@pytest.mark.django_db
def test_content_refused_at_the_end_is_recorded_failed_not_sent(alice, outbox_round, smtp_sink):
    rnd = outbox_round(alice, 2)
    smtp_sink.handler.refuse_data = "554 5.6.0 message refused"
    report = outbox.invitations_send_chunk(round_id=rnd.pk)
    assert (report.sent, report.failed) == (0, 2)
    rows = list(Invitation.objects.filter(round=rnd).values_list("status", "message_id", "sent_at"))
    assert rows == [("failed", "", None)] * 2
    assert smtp_sink.messages == []


@pytest.mark.django_db
def test_a_temporary_refusal_at_the_end_puts_it_back_in_the_queue(alice, outbox_round, smtp_sink):
    rnd = outbox_round(alice, 1)
    smtp_sink.handler.refuse_data = "452 4.3.1 insufficient storage"
    with pytest.raises(TransientSendError):
        outbox.invitations_send_chunk(round_id=rnd.pk)
    row = Invitation.objects.get(round=rnd)
    assert (row.status, row.attempts, row.sent_at, row.message_id) == ("queued", 1, None, "")
    smtp_sink.handler.refuse_data = None
    assert outbox.invitations_send_chunk(round_id=rnd.pk).sent == 1
    assert smtp_sink.wait_for(1) == 1


@pytest.mark.django_db
def test_an_unexpected_error_gives_untried_rows_back(alice, outbox_round):
    rnd = outbox_round(alice, 3)
    broken = mock.patch("feedback.emails.MessageRenderer.message", side_effect=RuntimeError("template broke"))
    with broken, pytest.raises(RuntimeError):
        outbox.invitations_send_chunk(round_id=rnd.pk)
    assert set(Invitation.objects.filter(round=rnd).values_list("status", flat=True)) == {"queued"}
