"""A figure without data says "no data" on the page, in the API (null) and in the CSV (an
empty cell), never 0."""

import re

import pytest
from django.urls import reverse

from .pages import row, tables

pytestmark = pytest.mark.django_db

RATES = ["logo_churn", "nrr", "grr", "net_revenue_churn", "mrr_end", "active_end", "arpa", "nps"]


def test_an_empty_book_shows_no_data_everywhere(client, carol):
    client.force_login(carol)
    html = client.get(reverse("dashboards:leadership")).content.decode()
    for key in RATES:
        card = re.search(rf'id="kpi-{key}".*?<span class="kpi-value">(.*?)</span>\s*<span', html, re.S).group(
            1
        )
        assert "no data" in card and not re.search(r">\s*\$?0(\.0+)?%?\s*<", card), (key, card)
    assert "No revenue history in this scope yet: no data." in html
    assert "Needs health snapshots on two different days of the period: no data yet." in html
    data = client.get(reverse("api:metrics-summary")).json()
    for key in (
        "logo_churn",
        "nrr",
        "grr",
        "arpa",
        "clv",
        "discounted_clv",
        "ltv_cac",
        "nps",
        "csat",
        "ces",
        "mrr_start",
        "mrr_end",
        "active_end",
        "time_to_value",
    ):
        assert data["current"][key] is None, key
    assert data["waterfall"] == []


def test_a_slice_without_accounts_is_no_data(client, carol):
    client.force_login(carol)
    html = client.get(reverse("dashboards:leadership"), {"segment": "enterprise"}).content.decode()
    found = tables(html)
    cells = row(found["figures-1"], "Logo churn")
    assert cells[1]["text"] == "no data" and cells[1]["value"] is None


def test_the_csm_dashboard_without_accounts(client, alice):
    client.force_login(alice)
    html = client.get(reverse("dashboards:home")).content.decode()
    assert "No customer accounts in your portfolio yet." in html
    assert "My dashboard" in html
