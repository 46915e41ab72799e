"""The dashboards' benchmark runs end to end in its smoke mode on any database (the real run,
100,000 accounts on PostgreSQL, is in BENCHMARKS.md)."""

import io

import pytest
from django.core.management import call_command

from accounts.models import Account, MrrMovement

pytestmark = pytest.mark.django_db


def test_small_bench_measures_every_dashboard_against_its_floor():
    out = io.StringIO()
    call_command("bench_dashboards", "--small", "--accounts", "120", "--rounds", "1", stdout=out)
    report = out.getvalue()
    assert Account.objects.count() == 120
    assert MrrMovement.objects.filter(kind="new").count() == 120
    assert MrrMovement.objects.filter(kind="churn").exists()
    for page in (
        "leadership, month, by segment",
        "leadership, quarter, by owner",
        "cohort retention",
        "renewals",
        "CSM dashboard (manager: every account)",
        "CSM dashboard (one CSM)",
        "API summary",
    ):
        line = next(line for line in report.splitlines() if line.startswith(page))
        queries, server, floor, ratio = line[len(page) :].split()
        assert int(queries) <= 20 and float(server) > 0 and float(floor) > 0 and float(ratio) > 0, line
