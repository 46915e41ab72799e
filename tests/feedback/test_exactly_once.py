"""Exactly once: invitations are claimed with row locks that skip locked rows, each is recorded as
sent (conditionally on its claim) before the server gets the end of the message, and claims of
dead senders are taken back. Two senders racing over one campaign send each invitation once."""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.core.mail import EmailMessage
from django.db import connection

from feedback import services_outbox as outbox
from feedback.emails import MessageRenderer
from feedback.mailer import ChunkConnection
from feedback.models import Invitation, InvitationStatus
from tests.conftest import requires_postgres


def _sent_ids_match(sink, rnd) -> None:
    invitations = Invitation.objects.filter(round=rnd)
    assert set(invitations.values_list("status", flat=True)) == {InvitationStatus.SENT}
    by_id = sink.count_by_message_id()
    assert set(by_id) == set(invitations.values_list("message_id", flat=True))
    assert max(by_id.values()) == 1


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_over_one_campaign_send_each_invitation_once(alice, smtp_sink, outbox_round):
    rnd = outbox_round(alice, 240)
    start = threading.Barrier(3)
    claimed: dict[str, list[int]] = {"a": [], "b": [], "c": []}
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            start.wait()
            while True:
                report = outbox.invitations_send_chunk(round_id=rnd.pk, limit=15)
                claimed[name].append(report.claimed)
                if not report.claimed and not report.more:
                    return
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=worker, args=(name,)) for name in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert sum(sum(counts) for counts in claimed.values()) == 240
    assert sum(1 for counts in claimed.values() if sum(counts)) >= 2, claimed  # they really raced
    messages = smtp_sink.wait_for(240)
    assert messages == 240
    assert len(smtp_sink.messages) == 240
    assert set(smtp_sink.count_by_recipient().values()) == {1}
    _sent_ids_match(smtp_sink, rnd)


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_locked_chunk_is_skipped_not_waited_for(alice, outbox_round):
    """While one sender holds its claim transaction open, another claims different rows at once."""
    rnd = outbox_round(alice, 20)
    first_claimed = threading.Event()
    release = threading.Event()
    seen: dict[str, list[int]] = {}

    def slow_claim() -> None:
        from django.db import transaction

        try:
            with transaction.atomic():
                ids = list(
                    Invitation.objects.filter(round=rnd, status="queued")
                    .select_for_update(skip_locked=True)
                    .order_by("id")
                    .values_list("id", flat=True)[:10]
                )
                seen["slow"] = ids
                first_claimed.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_claim)
    thread.start()
    assert first_claimed.wait(10)
    _claim, ids, _skipped = outbox.invitations_claim(round_id=rnd.pk, limit=20)
    release.set()
    thread.join(10)
    assert len(seen["slow"]) == 10 and len(ids) == 10
    assert not set(seen["slow"]) & set(ids)


@pytest.mark.django_db
def test_a_sender_that_dies_after_claiming_loses_nothing_and_sends_nothing_twice(
    alice, smtp_sink, outbox_round
):
    rnd = outbox_round(alice, 30)
    _claim, dead_ids, _ = outbox.invitations_claim(round_id=rnd.pk, limit=10)  # then the worker dies
    report = outbox.invitations_send_chunk(round_id=rnd.pk, limit=100)
    assert report.sent == 20  # the dead sender's rows are still claimed (within the lease)
    assert Invitation.objects.filter(pk__in=dead_ids, status=InvitationStatus.SENDING).count() == 10
    assert outbox.invitations_recover(lease=outbox.CLAIM_LEASE) == {}  # not stale yet
    with mock.patch("feedback.tasks.enqueue"):
        taken = outbox.invitations_recover(lease=outbox.dt.timedelta(0))
    assert taken == {rnd.pk: 10}
    assert True  # restarted on commit (the test transaction never commits)
    report = outbox.invitations_send_chunk(round_id=rnd.pk, limit=100)
    assert report.sent == 10
    assert smtp_sink.wait_for(30) == 30
    assert set(smtp_sink.count_by_recipient().values()) == {1}
    _sent_ids_match(smtp_sink, rnd)


@pytest.mark.django_db
def test_a_sender_whose_claim_was_taken_over_does_not_finish_the_message(alice, smtp_sink, outbox_round):
    rnd = outbox_round(alice, 5)
    slow_claim, ids, _ = outbox.invitations_claim(round_id=rnd.pk, limit=5)
    with mock.patch("feedback.tasks.enqueue"):
        outbox.invitations_recover(lease=outbox.dt.timedelta(0))  # the slow sender looked dead
    assert outbox.invitations_send_chunk(round_id=rnd.pk).sent == 5  # someone else sent them
    # The slow sender wakes up: its record needs a claim it no longer holds, so the message it
    # had streamed is abandoned before the final dot.
    invitation = Invitation.objects.get(pk=ids[0])
    message = EmailMessage("late", "body", to=[invitation.email], headers={"Message-ID": "<late@example>"})
    with ChunkConnection() as conn:
        went = conn.send(
            message, lambda: outbox._record_sent(invitation.pk, slow_claim, outbox.INVITE, "<late@x>")
        )
    assert went is False
    assert smtp_sink.wait_for(6, timeout=1) == 5
    assert "<late@example>" not in smtp_sink.count_by_message_id()


@pytest.mark.django_db
def test_a_sender_killed_between_the_message_and_its_record_delivers_nothing(alice, smtp_sink, outbox_round):
    """The record is committed before the final dot: dying before it means the server discards
    the message, and the row (still claimed) is sent later, once."""
    rnd = outbox_round(alice, 3)
    _claim, ids, _ = outbox.invitations_claim(round_id=rnd.pk, limit=1)
    invitation = Invitation.objects.select_related("contact").get(pk=ids[0])

    class Killed(BaseException):
        pass

    def die():
        raise Killed

    from feedback.emails import build_message

    message = build_message(invitation, rnd.campaign.survey)
    with pytest.raises(Killed), ChunkConnection() as conn:
        conn.send(message, die)
    assert smtp_sink.wait_for(1, timeout=1) == 0  # the server never got the end of the message
    with mock.patch("feedback.tasks.enqueue"):
        outbox.invitations_recover(lease=outbox.dt.timedelta(0))
    assert outbox.invitations_send_chunk(round_id=rnd.pk).sent == 3
    assert smtp_sink.wait_for(3) == 3
    assert set(smtp_sink.count_by_recipient().values()) == {1}


@pytest.mark.django_db
def test_running_the_senders_again_sends_nothing_more(alice, smtp_sink, outbox_round):
    rnd = outbox_round(alice, 12)
    assert outbox.invitations_send_chunk(round_id=rnd.pk, limit=50).sent == 12
    for _ in range(3):
        report = outbox.invitations_send_chunk(round_id=rnd.pk, limit=50)
        assert (report.claimed, report.sent) == (0, 0)
    assert smtp_sink.wait_for(12) == 12
    assert len(smtp_sink.messages) == 12


@pytest.mark.django_db
def test_one_invitation_per_round_and_contact_by_constraint(alice, outbox_round):
    from django.db import IntegrityError, transaction

    rnd = outbox_round(alice, 2)
    existing = Invitation.objects.filter(round=rnd).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Invitation.objects.create(
            campaign=rnd.campaign,
            round=rnd,
            contact=existing.contact,
            account=existing.account,
            email=existing.email,
            token="another-token-value-123456",
        )
    # and starting the round again writes nothing new
    assert outbox.round_start(round_id=rnd.pk).started is False
    assert Invitation.objects.filter(round=rnd).count() == 2


@pytest.mark.django_db
def test_a_group_hands_over_only_what_its_one_commit_still_owns(alice, smtp_sink, outbox_round):
    """A group of three: one claim was taken over meanwhile, one recipient is refused at RCPT.
    One commit records the staged messages we still own; only those get their final dot."""
    rnd = outbox_round(alice, 3)
    claim, ids, _ = outbox.invitations_claim(round_id=rnd.pk, limit=3)
    invitations = list(Invitation.objects.filter(pk__in=ids).select_related("contact").order_by("pk"))
    Invitation.objects.filter(pk=ids[1]).update(claim_token="someone-else")
    smtp_sink.handler.refuse[invitations[2].email] = "550 no such user"
    renderer = MessageRenderer(rnd.campaign.survey)
    messages = [(inv.pk, renderer.message(inv)) for inv in invitations]
    ids_and_message_ids = {pk: message.extra_headers["Message-ID"] for pk, message in messages}
    commits = []

    def record(keys):
        commits.append(sorted(keys))
        return outbox._record_sent_group({pk: ids_and_message_ids[pk] for pk in keys}, claim, outbox.INVITE)

    with ChunkConnection(lanes=3) as conn:
        outcomes = conn.send_group(messages, record)
    assert commits == [sorted(ids[:2])]  # the refused one was never staged
    assert outcomes[ids[0]].sent and outcomes[ids[1]].lost
    assert outcomes[ids[2]].error is not None and not outcomes[ids[2]].recorded
    assert smtp_sink.wait_for(2, timeout=1) == 1
    assert list(smtp_sink.count_by_recipient()) == [invitations[0].email]
    assert Invitation.objects.get(pk=ids[0]).status == InvitationStatus.SENT
    assert Invitation.objects.get(pk=ids[1]).status == InvitationStatus.SENDING  # the other sender's
