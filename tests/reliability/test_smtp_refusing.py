"""Drill: the SMTP server turns every connection away ("421 try again later"), then comes back.

A real Celery worker sends a campaign to a real SMTP server (aiosmtpd) that refuses each new
connection at the greeting. Each chunk sender gives its rows back untouched (no attempt used
up, nothing recorded as sent) and its task retries with exponential backoff and jitter; when
the server accepts again, every invitation arrives exactly once.
"""

from __future__ import annotations

import itertools
import time
import uuid

import pytest

from feedback import services
from feedback.models import CampaignRound, Invitation, InvitationStatus, RoundStatus
from feedback.smtp_sink import SmtpSink
from tests.integration.test_survey_dispatch import CONFIGURED_BROKER, SurveyWorker, _campaign, _wait
from tests.integration.test_worker import _test_database_url

from .drills import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.redis]

N = 300
REFUSAL = "421 4.3.2 Service not available, try again later"


@pytest.fixture
def smtp_drill(transactional_db, tmp_path, settings):
    if not CONFIGURED_BROKER.startswith(("redis://", "rediss://")):
        pytest.skip("needs Redis: set CELERY_BROKER_URL=redis://... (CI does)")
    _test_database_url()  # skips without PostgreSQL
    queue = f"cs-smtp-drill-{uuid.uuid4().hex[:8]}"
    settings.FEEDBACK_QUEUE = queue
    workers: list[SurveyWorker] = []
    with SmtpSink(keep_bodies=False) as sink:
        try:
            workers.append(SurveyWorker(queue=queue, smtp_port=sink.port, var_dir=tmp_path, name="smtp"))
            yield sink, workers
        finally:
            for worker in workers:
                worker.stop()


def test_a_refusing_smtp_server_is_retried_with_backoff_and_nothing_is_lost_or_doubled(smtp_drill):
    sink, workers = smtp_drill
    campaign, owner = _campaign(N)
    sink.handler.refuse_connections = REFUSAL
    services.campaign_launch(campaign=campaign, by=owner)
    started = time.monotonic()

    # Every sender chain (4 per round) is refused, backs off, and is refused again, twice over.
    wait_until(lambda: len(sink.handler.refused_at) >= 10, "10 refused connections", timeout=90, interval=0.2)
    rnd = CampaignRound.objects.get(campaign=campaign)
    refused_phase = time.monotonic() - started
    assert sink.messages == []
    rows = Invitation.objects.filter(round=rnd)
    assert rows.count() == N
    assert set(rows.values_list("status", flat=True)) <= {InvitationStatus.QUEUED, InvitationStatus.SENDING}
    assert set(rows.values_list("attempts", flat=True)) == {0}  # a refused connection uses no attempt
    assert not rows.exclude(message_id="").exists()

    sink.handler.refuse_connections = None
    back = time.monotonic()
    _wait(
        lambda: rows.filter(status=InvitationStatus.SENT).count() == N and len(sink.messages) >= N,
        f"all {N} invitations after the server accepted again",
        workers,
    )
    time.sleep(1.0)  # anything late or doubled would show up now
    by_id = sink.count_by_message_id()
    assert len(sink.messages) == N and max(by_id.values()) == 1
    assert set(by_id) == set(rows.values_list("message_id", flat=True))
    assert set(sink.count_by_recipient().values()) == {1}
    assert not rows.exclude(status=InvitationStatus.SENT).exists()
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.SENT

    refused = sink.handler.refused_at
    gaps = [b - a for a, b in itertools.pairwise(refused)]
    print(
        f"{len(refused)} connections refused over {refused[-1] - refused[0]:.1f} s "
        f"(gaps {', '.join(f'{g:.1f}' for g in gaps)} s; refused phase {refused_phase:.1f} s); "
        f"all {N} sent once, {time.monotonic() - back:.1f} s after the server accepted again"
    )
