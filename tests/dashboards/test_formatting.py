"""Numbers in the reporting currency and the user's language; "no data" never as 0."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from dashboards import formatting

from .conftest import bulk_customers


@pytest.mark.parametrize(
    ("language", "money", "percent", "count"),
    [
        ("en", "$1,234,567.89", "-10.9%", "12,345"),
        ("tr", "$1.234.567,89", "-%10,9", "12.345"),
        ("zh-hant", "US$1,234,567.89", "-10.9%", "12,345"),
    ],
)
def test_money_percent_and_counts_follow_the_language(language, money, percent, count):
    with translation.override(language):
        assert formatting.money(Decimal("1234567.89")) == money
        assert formatting.percent(-30_000 / 275_000) == percent
        assert formatting.integer(12345) == count
        assert formatting.money(None) == formatting.percent(None) == formatting.integer(None) == "no data"


def test_the_reporting_currency_comes_from_settings(settings):
    settings.REPORTING_CURRENCY = "EUR"
    with translation.override("en"):
        assert formatting.money(Decimal("10")) == "€10.00"


def test_changes_carry_their_sign():
    with translation.override("en"):
        assert formatting.signed(0.0123, "pp") == "+1.2 pp"
        assert formatting.signed(Decimal("-300"), "money") == "−$300.00"
        assert formatting.signed(0, "int") == "±0"


@pytest.mark.django_db
def test_a_turkish_reader_sees_turkish_numbers(client, carol, alice):
    bulk_customers(alice, 10, start="2025-01-01", churn_on="2026-01-10", churned=1, mrr="1234.50")
    client.force_login(carol)
    html = client.get(
        reverse("dashboards:leadership"), {"period": "month", "date": "2026-01-01"}, HTTP_ACCEPT_LANGUAGE="tr"
    ).content.decode()
    assert "$11.110,50" in html  # MRR on the last day: 9 × 1,234.50
    assert "%10,0" in html  # logo churn
