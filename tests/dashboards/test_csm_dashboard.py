"""The CSM dashboard, the landing page after login: my accounts by grade, MRR at risk, tasks
due today and overdue, renewals coming, recent detractors; every number links to its list."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboards.selectors import desk
from health.models import AccountHealth, Task
from tests.factories import ContactFactory
from tests.feedback import factories as fb

from .conftest import customer
from .pages import row, tables

pytestmark = pytest.mark.django_db


@pytest.fixture
def portfolio(alice, bob, carol):
    today = timezone.localdate()
    accounts = {}
    for name, mrr, grade, renews in [
        ("Red One", 1000, "red", 10),
        ("Yellow One", 500, "yellow", 45),
        ("Green One", 2000, "green", 80),
        ("Unscored", 300, None, 200),
    ]:
        account = customer(
            alice, [("new", "2025-01-10", mrr)], name=name, renewal_date=today + dt.timedelta(renews)
        )
        if grade:
            AccountHealth.objects.create(account=account, grade=grade, score=50)
        accounts[name] = account
    gone = customer(alice, [("new", "2025-01-10", 100), ("churn", "2025-06-01")], name="Gone")
    AccountHealth.objects.create(account=gone, grade="red", score=10)  # churned: not counted
    customer(bob, [("new", "2025-01-10", 9999)], name="Bob's", renewal_date=today + dt.timedelta(5))
    for due, status in [(0, "open"), (0, "open"), (-3, "open"), (-1, "done"), (4, "open")]:
        Task.objects.create(
            account=accounts["Red One"],
            owner=alice,
            title="Call",
            due_date=today + dt.timedelta(due),
            status=status,
            completed_at=timezone.now() if status == "done" else None,
        )
    campaign = fb.campaign(by=carol, kind="nps")
    for score, days_ago in [(2, 3), (9, 2), (6, 40)]:
        contact = ContactFactory(account=accounts["Yellow One"], name=f"Dee {score}")
        fb.response(
            invitation_obj=fb.invitation(contact=contact, campaign_obj=campaign),
            score=score,
            answered_at=timezone.now() - dt.timedelta(days=days_ago),
            comment="Too slow" if score == 2 else "",
        )
    return accounts


def test_my_figures(alice, portfolio):
    d = desk(user=alice)
    assert d.accounts == 4 and d.mrr == Decimal("3800.00")
    assert {g.grade: g.accounts for g in d.grades} == {"red": 1, "yellow": 1, "green": 1, "": 1}
    assert d.mrr_at_risk == Decimal("1500.00") and d.accounts_at_risk == 2
    assert (d.tasks_due_today, d.tasks_overdue) == (2, 1)
    assert [(w.days, w.accounts, w.mrr, w.mrr_at_risk) for w in d.renewals] == [
        (30, 1, Decimal("1000.00"), Decimal("1000.00")),
        (60, 2, Decimal("1500.00"), Decimal("1500.00")),
        (90, 3, Decimal("3500.00"), Decimal("1500.00")),
    ]
    assert d.detractors_total == 1  # the 9 is a promoter; the 6 is older than 30 days
    assert [(x.account_name, x.score, x.contact, x.comment) for x in d.detractors] == [
        ("Yellow One", 2, "Dee 2", "Too slow")
    ]


def test_every_number_links_to_the_list_behind_it(client, alice, portfolio):
    client.force_login(alice)
    response = client.get(reverse("dashboards:home"))
    html = response.content.decode()
    found = tables(html)
    assert row(found["my-grades"], "Red")[1]["href"] == "/accounts/?grade=red"
    assert row(found["my-grades"], "No grade (not enough data)")[1]["href"] == "/accounts/?grade=none"
    assert row(found["renewals"], "Next 60 days")[1]["href"] == "/accounts/?renewal=60"
    assert 'href="/tasks/">2</a>' in html and 'href="/tasks/">1</a>' in html
    assert 'href="/accounts/?renewal=30">1</a>' in html
    assert "Yellow One" in html and "Too slow" in html
    assert "$1,500.00" in html  # MRR at risk


def test_login_lands_here(client, alice, portfolio):
    assert client.get("/").status_code == 302 and client.get("/")["Location"] == reverse("dashboards:home")
