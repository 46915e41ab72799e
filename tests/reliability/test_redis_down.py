"""Drill: Redis (the broker) goes down. Pages keep answering, a campaign launched meanwhile is
kept as rows in the database (the round, then its outbox), and once Redis is back — empty, as
after a crash without persistence — beat's next feedback tick starts it and a real worker sends
every invitation exactly once to a real SMTP server.

The drill runs its own redis-server on a free port: the machine's shared Redis is never touched.
"""

from __future__ import annotations

import contextlib
import time
import uuid

import kombu.pools
import pytest
from django.test import Client

from cs_app.celery import app as celery_app
from feedback.models import CampaignRound, Invitation, InvitationStatus, Response, RoundStatus
from feedback.smtp_sink import SmtpSink
from feedback.tasks import feedback_tick_task
from tests.factories import ContactFactory
from tests.feedback import factories as f
from tests.integration.test_survey_dispatch import SurveyWorker, _campaign, _wait
from tests.integration.test_worker import _test_database_url

from .drills import RedisServer, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.redis]

N = 200


def _reset_producer_pools() -> None:
    """Forget every pooled broker connection (kombu keeps them in a global registry by URL), so
    the next enqueue connects to the broker the configuration now names."""
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextlib.contextmanager
def _broker(url: str):
    """Point this process's Celery producer (what the pages enqueue with) at ``url``. (The write
    URL: Celery prefers the CELERY_BROKER_URL environment variable to ``conf.broker_url``.)"""
    previous = (celery_app.conf.broker_write_url, celery_app.conf.broker_transport_options)
    celery_app.conf.broker_write_url = url
    celery_app.conf.broker_transport_options = {"visibility_timeout": 3600}
    _reset_producer_pools()
    try:
        yield
    finally:
        celery_app.conf.broker_write_url, celery_app.conf.broker_transport_options = previous
        _reset_producer_pools()


@pytest.fixture
def redis_drill(transactional_db, tmp_path, settings):
    _test_database_url()  # skips without PostgreSQL: the worker must see the test's rows
    redis = RedisServer(tmp_path)
    redis.start()
    queue = f"cs-redis-drill-{uuid.uuid4().hex[:8]}"
    settings.FEEDBACK_QUEUE = queue
    workers: list[SurveyWorker] = []
    try:
        with SmtpSink(keep_bodies=False) as sink, _broker(redis.url):
            worker = SurveyWorker(
                queue=queue, smtp_port=sink.port, var_dir=tmp_path, name="drill", broker=redis.url
            )
            workers.append(worker)
            yield redis, sink, workers, queue
    finally:
        for worker in workers:
            worker.stop()
        redis.stop()


def test_pages_keep_serving_while_redis_is_down_and_the_campaign_goes_out_once_it_is_back(redis_drill):
    redis, sink, workers, queue = redis_drill
    campaign, owner = _campaign(N)
    answered = f.invitation(
        contact=ContactFactory(email="already@drill.example"),
        campaign_obj=f.campaign(by=owner, name="Earlier survey"),
    )
    client = Client(raise_request_exception=False)
    client.force_login(owner)

    wait_until(lambda: redis.has_binding(queue), "the worker's queue declared in Redis", timeout=60)
    redis.stop()
    assert not redis.ping()
    timings: dict[str, float] = {}

    def timed(name: str, call):
        started = time.perf_counter()
        response = call()
        timings[name] = time.perf_counter() - started
        return response

    # Staff pages, the campaign launch (which enqueues), the public survey page and an answer
    # (which asks for a health recompute): all answer as usual.
    assert timed("portfolio", lambda: client.get("/accounts/")).status_code == 200
    assert timed("campaigns", lambda: client.get("/feedback/")).status_code == 200
    launch = timed("launch", lambda: client.post(f"/feedback/campaigns/{campaign.pk}/launch/"))
    assert launch.status_code == 302, launch.content[:500]
    assert timed("campaign page", lambda: client.get(launch["Location"])).status_code == 200
    public = Client(raise_request_exception=False)
    assert timed("survey page", lambda: public.get(f"/s/{answered.token}/")).status_code == 200
    post = timed("survey answer", lambda: public.post(f"/s/{answered.token}/", {"score": "3"}))
    assert post.status_code == 302, post.content[:500]
    assert Response.objects.filter(invitation=answered, score=3).count() == 1

    # The launch is kept in the database: the round is due, nothing was sent, nothing lost.
    campaign.refresh_from_db()
    assert campaign.status == "active"
    rnd = CampaignRound.objects.get(campaign=campaign)
    assert rnd.status == RoundStatus.SCHEDULED
    time.sleep(2)
    assert sink.messages == []

    # Redis comes back empty (no persistence); beat's next tick goes through it to the worker.
    redis.start()
    back = time.monotonic()

    def tick_until_started() -> bool:
        # Beat sends the tick every minute; a tick published before the worker has reconnected
        # (and declared its queue again in the empty Redis) is dropped, and the next one goes.
        feedback_tick_task.apply_async(queue=queue)
        time.sleep(1.5)
        return CampaignRound.objects.filter(pk=rnd.pk).exclude(status=RoundStatus.SCHEDULED).exists()

    wait_until(tick_until_started, "the round started by a tick", timeout=60, interval=0)
    _wait(
        lambda: (
            Invitation.objects.filter(round=rnd, status=InvitationStatus.SENT).count() == N
            and len(sink.messages) >= N
        ),
        f"all {N} invitations after Redis came back",
        workers,
    )
    time.sleep(1.0)  # anything late would show up now
    by_id = sink.count_by_message_id()
    assert len(sink.messages) == N and max(by_id.values()) == 1
    sent = Invitation.objects.filter(round=rnd, status=InvitationStatus.SENT)
    assert set(by_id) == set(sent.values_list("message_id", flat=True))
    assert not Invitation.objects.filter(round=rnd, status__in=["queued", "sending"]).exists()
    assert set(sink.count_by_recipient().values()) == {1}
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.SENT
    figures = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in timings.items())
    after = time.monotonic() - back
    print(f"while Redis was down: {figures}; all {N} sent once, {after:.1f} s after it returned")
