"""The page benchmark's smoke mode runs end to end on any database (the real run needs PostgreSQL)."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts.models import Account

from ..factories import AccountFactory


@pytest.mark.django_db
def test_small_bench_measures_every_page_as_csm_and_manager():
    out = io.StringIO()
    call_command("bench", "pages", "--small", "--accounts", "40", "--requests", "1", "--quiet", stdout=out)
    report = out.getvalue()
    assert Account.objects.count() == 40  # seeded by the generator
    for page in (
        "floor /me/",
        "portfolio, first page",
        "filtered: enterprise, renewal ≤ 90 days",
        "searched: q=north",
        "sorted by MRR, descending",
        "sorted by last touch, newest first",
        "sorted by health score, worst first",
        "account 360",
        "+ its timeline (htmx)",
        "+ its side cards (htmx)",
    ):
        assert report.count(page) >= 2, page  # as the CSM and as the manager
    assert "HTTP" not in report  # every page answered 200 (else the command fails)
    assert "median ms" in report and "× floor" in report


@pytest.mark.django_db
def test_small_bench_reuses_existing_demo_data():
    call_command(
        "seed_demo", "--accounts", "15", "--events-per-account", "5", "--quiet", stdout=io.StringIO()
    )
    call_command("bench", "pages", "--small", "--reuse", "--requests", "1", stdout=io.StringIO())
    assert Account.objects.count() == 15


@pytest.mark.django_db
def test_full_bench_needs_postgres(monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="set DATABASE_URL=postgres"):
        call_command("bench", "pages", stdout=io.StringIO())
    assert not Account.objects.exists()


@pytest.mark.django_db
def test_bench_does_not_add_demo_data_to_a_database_with_real_accounts():
    AccountFactory()
    with pytest.raises(CommandError, match="not demo data"):
        call_command("bench", "pages", "--small", "--accounts", "10", stdout=io.StringIO())
