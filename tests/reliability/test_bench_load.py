"""The load benchmark runs end to end with tiny numbers (gunicorn, locust, PostgreSQL) and cleans up."""

from __future__ import annotations

import importlib.util
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Account
from feedback.models import Invitation
from team.models import User
from tests.conftest import requires_postgres


@pytest.mark.postgres
@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_bench_load_prints_throughput_p99_and_the_ratio_and_cleans_up():
    if importlib.util.find_spec("locust") is None:
        pytest.skip("needs locust (requirements-dev.txt)")
    out = StringIO()
    tiny = ["--seconds", "5", "--requests", "15", "--users", "2", "--workers", "1", "--accounts", "2"]
    call_command("bench_load", *tiny, stdout=out)
    text = out.getvalue()
    for line in ("static file", "static page (floor)", "public survey page", "portfolio (2 accounts)"):
        assert line in text
    assert "p99 ms" in text and "x floor" in text and "target" in text
    assert "survey links rotate over 6 invitations" in text
    assert " 15 " in text  # the request cap ended each run
    assert not Account.objects.exists() and not Invitation.objects.exists()
    assert not User.objects.filter(email__endswith="@bench-load.example").exists()


def test_bench_load_refuses_nonsense(db):
    with pytest.raises(CommandError, match="at least 1"):
        call_command("bench_load", "--seconds", "0")


def test_the_public_rate_limits_follow_the_setting(rf, settings):
    from feedback import ratelimit

    request = rf.get("/s/x/", REMOTE_ADDR="203.0.113.9")
    settings.FEEDBACK_RATE_LIMITS = {"read": 2}
    assert [ratelimit.allow(request, "read") for _ in range(3)] == [True, True, False]
    settings.FEEDBACK_RATE_LIMITS = {}
    request = rf.get("/s/x/", REMOTE_ADDR="203.0.113.10")
    assert all(ratelimit.allow(request, "read") for _ in range(ratelimit.LIMITS["read"]))
    assert not ratelimit.allow(request, "read")


def test_the_rate_limit_counts_in_one_round_trip_on_redis(rf, settings):
    import os
    import uuid

    from feedback import ratelimit

    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://"):
        pytest.skip("needs Redis: set CELERY_BROKER_URL=redis://... (CI does)")
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": broker},
    }
    settings.FEEDBACK_RATE_LIMITS = {"token": 3}
    request = rf.get("/s/x/")
    key = f"drill-{uuid.uuid4().hex}"
    assert [ratelimit.allow(request, "token", key) for _ in range(5)] == [True, True, True, False, False]
