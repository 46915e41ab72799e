"""Every table exports as CSV with the page's filters: plain numbers a spreadsheet can add up,
"no data" as an empty cell (never 0), and no cell a spreadsheet would run as a formula."""

import csv
import datetime as dt
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from .conftest import customer
from .pages import tables

pytestmark = pytest.mark.django_db

JANUARY = {"period": "month", "date": "2026-01-15"}


def read(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.fixture
def book(alice):
    customer(alice, [("new", "2025-06-01", 1000)], segment="enterprise", plan='=HYPERLINK("http://x","y")')
    customer(alice, [("new", "2025-06-01", 500), ("churn", "2026-01-10")], segment="smb", plan="+SUM(A1)")
    customer(
        alice,
        [("new", "2025-06-01", 250)],
        name="@evil co",
        segment="smb",
        plan="Growth",
        renewal_date=timezone.localdate() + dt.timedelta(days=10),
    )


def test_every_table_on_the_leadership_page_exports(client, carol, book):
    client.force_login(carol)
    html = client.get(reverse("dashboards:leadership"), JANUARY).content.decode()
    found = tables(html)
    exports = re.findall(r'data-export="([\w-]+)"', html)
    assert len(exports) >= 12 and set(found) <= set(exports)
    for table_id in exports:
        lines = read(client.get(reverse("dashboards:leadership"), {**JANUARY, "export": table_id}))
        if table_id in found:
            assert len(lines[0]) == len(found[table_id]["head"]), table_id
            assert len(lines) - 1 == len(found[table_id]["rows"]), table_id
        else:  # an empty table ("no data") exports its header only
            assert len(lines) == 1, table_id


def test_waterfall_csv_content(client, carol, book):
    client.force_login(carol)
    lines = read(client.get(reverse("dashboards:leadership"), {**JANUARY, "export": "waterfall"}))
    assert lines == [
        ["Step", "MRR", "Accounts"],
        ["MRR on the first day", "1750.00", "3"],
        ["New", "0.00", "0"],
        ["Expansion", "0.00", "0"],
        ["Contraction", "0.00", "0"],
        ["Churned", "-500.00", "1"],
        ["Reactivation", "0.00", "0"],
        ["MRR on the last day", "1250.00", "2"],
    ]


def test_figures_csv_has_numbers_and_empty_cells_for_no_data(client, carol, book):
    client.force_login(carol)
    lines = read(client.get(reverse("dashboards:leadership"), {**JANUARY, "export": "figures-1"}))
    assert lines[0] == ["Figure", "January 2026", "December 2025", "Change"]
    by_label = {line[0]: line[1:] for line in lines[1:]}
    assert by_label["Logo churn"] == ["33.33", "0.00", "33.33"]
    lines = read(client.get(reverse("dashboards:leadership"), {**JANUARY, "export": "figures-4"}))
    by_label = {line[0]: line[1:] for line in lines[1:]}
    assert by_label["NPS"] == ["", "", ""]  # no answers: no data, not 0


def test_cells_that_could_run_as_formulas_are_escaped(client, carol, book):
    client.force_login(carol)
    lines = read(
        client.get(reverse("dashboards:leadership"), {**JANUARY, "by": "plan", "export": "breakdown"})
    )
    plans = {line[0] for line in lines[1:]}
    assert plans == {'\'=HYPERLINK("http://x","y")', "'+SUM(A1)", "Growth"}
    # negative numbers stay numbers
    lines = read(client.get(reverse("dashboards:leadership"), {**JANUARY, "export": "waterfall"}))
    assert lines[5][1] == "-500.00"
    lines = read(client.get(reverse("dashboards:renewals"), {"export": "renewing-accounts"}))
    assert lines[1][0] == "'@evil co"
    lines = read(
        client.get(reverse("dashboards:drilldown"), {**JANUARY, "list": "cohort", "export": "accounts"})
    )
    assert "'@evil co" in {line[0] for line in lines[1:]}
    assert any(line[4] == "'+SUM(A1)" for line in lines[1:])


def test_exports_follow_the_filters(client, carol, book):
    client.force_login(carol)
    lines = read(
        client.get(reverse("dashboards:leadership"), {**JANUARY, "segment": "smb", "export": "waterfall"})
    )
    assert lines[1] == ["MRR on the first day", "750.00", "2"]


def test_cohort_and_desk_tables_export(client, alice, carol, book):
    client.force_login(carol)
    lines = read(client.get(reverse("dashboards:cohorts"), {"export": "cohort-logo"}))
    assert lines[0][:4] == ["Signup month", "Signed", "Active at month end", "Month 0 (%)"]
    client.force_login(alice)
    lines = read(client.get(reverse("dashboards:home"), {"export": "my-grades"}))
    assert lines[0] == ["Grade", "Accounts", "MRR"]
    assert lines[-1] == ["No grade (not enough data)", "2", "1250.00"]


def test_an_unknown_table_is_404(client, carol):
    client.force_login(carol)
    assert client.get(reverse("dashboards:leadership"), {"export": "nope"}).status_code == 404
