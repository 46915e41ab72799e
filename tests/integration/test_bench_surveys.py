"""bench_surveys: a small campaign through two real worker processes to the SMTP sink, printed
next to the floor, and every invitation sent exactly once (the command checks it)."""

from __future__ import annotations

import io
import os

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Account
from tests.conftest import using_postgres

pytestmark = [pytest.mark.worker, pytest.mark.redis]


@pytest.mark.django_db(transaction=True)
def test_prints_the_rate_next_to_the_floor_and_cleans_up(settings):
    if not using_postgres():
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... (CI does)")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith(("redis://", "rediss://")):
        pytest.skip("needs Redis: set CELERY_BROKER_URL=redis://... (CI does)")
    settings.CELERY_BROKER_URL = broker
    out = io.StringIO()
    call_command("bench_surveys", invitations=400, stdout=out)
    text = out.getvalue()
    assert "campaign: 400 messages arrived, 400 invitations recorded sent, 0 duplicate" in text
    for label in ("floor, before", "floor, after", "workers (2 processes)"):
        line = next(line for line in text.splitlines() if line.startswith(label))
        assert "msg/s" in line
    assert "ratio" in text
    assert not Account.objects.filter(domain__endswith=".bench-surveys.example").exists()


@pytest.mark.django_db
def test_says_what_it_needs(settings):
    settings.CELERY_BROKER_URL = "filesystem://"
    with pytest.raises(CommandError, match="needs"):
        call_command("bench_surveys", invitations=100, stdout=io.StringIO())
