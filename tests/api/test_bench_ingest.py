"""The ingestion benchmark runs end to end (small): gunicorn on 127.0.0.1, PostgreSQL, COPY floor."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Account, UsageEvent
from tests.conftest import requires_postgres


@pytest.mark.postgres
@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_bench_ingest_prints_rates_and_ratio_and_cleans_up():
    out = StringIO()
    call_command("bench_ingest", "--events", "3000", "--batch", "1000", "--accounts", "20", stdout=out)
    text = out.getvalue()
    assert "copy floor" in text and "bulk endpoint" in text and "ratio" in text
    assert "3,000 in 3 batches of 1,000" in text
    assert UsageEvent.objects.count() == 0
    assert Account.objects.count() == 0


def test_bench_ingest_refuses_batches_over_the_endpoint_limit(db):
    with pytest.raises(CommandError, match="--batch"):
        call_command("bench_ingest", "--events", "10", "--batch", "20000")
