"""The page benchmark's smoke mode runs end to end on any database (the real run needs PostgreSQL)."""

import importlib
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


@pytest.mark.django_db
def test_bench_adds_the_first_account_with_every_side_card_in_use(alice, bob, carol):
    """The busiest accounts by events may have no plan, answers or points: the bench adds the
    first account (the CSM's own, for the CSM) whose 360 side column has every card filled."""
    import datetime as dt
    from decimal import Decimal

    from django.apps import apps

    from accounts.management.commands.bench import Command
    from feedback.models import SurveyKind
    from health.models import Alert, AlertRule, Task
    from onboarding.models import SuccessCriterion
    from onboarding.services import plan_start
    from tests.factories import ContactFactory
    from tests.feedback import factories as fb
    from tests.loyalty.helpers import give
    from tests.onboarding.conftest import default_template

    importlib.import_module("health.migrations.0002_defaults").create_defaults(apps, None)  # the rules
    rule = AlertRule.objects.order_by("pk").first()
    nps = fb.campaign(by=carol, kind=SurveyKind.NPS)

    def fill(account, *, skip: str = ""):
        if skip != "alert":
            Alert.objects.create(account=account, rule=rule, severity="high")
        if skip != "task":
            Task.objects.create(account=account, owner=account.owner, title="Call", due_date=dt.date.today())
        if skip != "answer":
            contact = ContactFactory(account=account)
            fb.response(invitation_obj=fb.invitation(contact=contact, campaign_obj=nps), score=9)
        if skip != "points":
            give(account, 50, by=carol)
        if skip != "criteria":
            plan = plan_start(account=account, template=default_template(account.segment))
            SuccessCriterion.objects.create(plan=plan, metric="Weekly users", target=Decimal("10"))

    partial = [AccountFactory(owner=alice) for _ in range(5)]
    for account, skip in zip(partial, ["alert", "task", "answer", "points", "criteria"], strict=True):
        fill(account, skip=skip)
    bobs = AccountFactory(owner=bob)
    fill(bobs)
    alices = AccountFactory(owner=alice)
    fill(alices)
    command = Command()
    assert command._fullest_account(None) == bobs.pk  # the first by id, whoever owns it
    assert command._fullest_account(alice) == alices.pk
    assert command._fullest_account(carol) is None
