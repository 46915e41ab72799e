"""Every CSV the product writes neutralises spreadsheet formulas: the admin's exports
(SafeCSV), every dashboard table and the health backtest (escape_formula)."""

import csv
import datetime as dt
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.resources import escape_formula
from health import views as health_views
from tests.factories import AccountFactory, ContactFactory, MrrMovementFactory

pytestmark = pytest.mark.django_db

HOSTILE = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\r=1"]


def rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"))))


def test_escape_formula_covers_every_trigger_and_keeps_numbers():
    for value in HOSTILE:
        assert escape_formula(value) == "'" + value
    assert escape_formula("-12.50") == "-12.50" and escape_formula("Acme") == "Acme"


def test_dashboard_export_escapes_account_names(client, carol):
    today = timezone.localdate()
    for name in HOSTILE:
        account = AccountFactory(name=name, owner=carol, renewal_date=today + dt.timedelta(days=10))
        MrrMovementFactory(account=account, date=today - dt.timedelta(days=40), amount=Decimal("100"))
    client.force_login(carol)
    response = client.get(reverse("dashboards:renewals"), {"export": "renewing-accounts", "within": 30})
    cells = [cell for row in rows(response)[1:] for cell in row]
    for name in HOSTILE:
        assert name not in cells  # never raw
    assert '\'=HYPERLINK("http://x")' in cells


def test_admin_contact_export_escapes_cells(admin_client):
    ContactFactory(name="=cmd|' /C calc'!A0", email="calc@evil.example")
    data = {"format": "0", "resource": "0", "contactresource_name": "on", "contactresource_email": "on"}
    response = admin_client.post(reverse("admin:accounts_contact_export"), data)
    assert response.status_code == 200
    cells = [cell for row in rows(response) for cell in row]
    assert "'=cmd|' /C calc'!A0" in cells and "=cmd|' /C calc'!A0" not in cells


def test_backtest_export_escapes_account_names(carol):
    accounts = [AccountFactory(name=name) for name in HOSTILE]
    result = SimpleNamespace(
        day=dt.date(2026, 1, 1), horizon=90, rows=[(a.pk, 50, "yellow", False) for a in accounts]
    )
    response = health_views._backtest_csv(result, by=carol)
    names = [row[1] for row in rows(response)[1:]]
    assert names == ["'" + name for name in HOSTILE]
