"""Periods: month, quarter, year or custom dates, each with the period before it; a period not
over yet ends today; bad dates are field errors next to the field, never a 500."""

import datetime as dt

import pytest
from django.urls import reverse

from dashboards.forms import MetricsForm
from dashboards.periods import add_months, custom, last_complete, period_containing, twelve_months_ending

from .conftest import day

TODAY = day("2026-11-22")


@pytest.mark.parametrize(
    ("kind", "on", "start", "end", "previous"),
    [
        ("month", "2026-02-14", "2026-02-01", "2026-02-28", ("2026-01-01", "2026-01-31")),
        ("month", "2024-03-01", "2024-03-01", "2024-03-31", ("2024-02-01", "2024-02-29")),
        ("quarter", "2026-05-05", "2026-04-01", "2026-06-30", ("2026-01-01", "2026-03-31")),
        ("year", "2025-07-01", "2025-01-01", "2025-12-31", ("2024-01-01", "2024-12-31")),
        ("month", "2026-11-03", "2026-11-01", "2026-11-22", ("2026-10-01", "2026-10-31")),  # to date
    ],
)
def test_calendar_periods_and_the_one_before(kind, on, start, end, previous):
    p = period_containing(kind, day(on), TODAY)
    assert (p.start, p.end) == (day(start), day(end))
    assert (p.previous().start, p.previous().end) == tuple(day(d) for d in previous)
    assert p.partial == (end == "2026-11-22")


def test_custom_period_and_the_same_number_of_days_before():
    p = custom(day("2026-03-10"), day("2026-03-19"))
    assert p.days == 10
    assert (p.previous().start, p.previous().end) == (day("2026-02-28"), day("2026-03-09"))


def test_defaults_are_the_last_complete_period():
    assert (last_complete("month", TODAY).start, last_complete("month", TODAY).end) == (
        day("2026-10-01"),
        day("2026-10-31"),
    )
    assert last_complete("quarter", TODAY).start == day("2026-07-01")
    assert last_complete("year", TODAY).end == day("2025-12-31")


def test_twelve_months_and_month_arithmetic():
    assert twelve_months_ending(day("2025-12-31")) == day("2025-01-01")
    assert twelve_months_ending(day("2026-10-31")) == day("2025-11-01")
    assert add_months(day("2026-01-31"), 1) == day("2026-02-28")
    assert add_months(day("2026-01-15"), -13) == day("2024-12-15")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"period": "custom", "start": "2026-03-01"}, "end", "Enter the last day"),
        (
            {"period": "custom", "start": "2026-03-01", "end": "2026-02-01"},
            "end",
            "on or after the first day",
        ),
        ({"date": "2099-01-01"}, "date", "up to today"),
        ({"date": "1999-12-31"}, "date", "from 2000 on"),
        ({"date": "yesterday"}, "date", "Enter a valid date"),
        ({"cohort": "2026-13"}, "cohort", "YYYY-MM"),
        ({"period": "fortnight"}, "period", "Select a valid choice"),
        ({"margin": "0"}, "margin", "greater than or equal to 1"),
        ({"period": "custom", "start": "2001-01-01", "end": "2026-01-01"}, "end", "at most ten years"),
    ],
)
def test_bad_input_is_a_field_error_and_the_page_still_shows_figures(client, carol, params, field, message):
    client.force_login(carol)
    response = client.get(reverse("dashboards:leadership"), params)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html and message in html
    assert 'id="kpi-logo_churn"' in html  # the default period's figures, not an error page


@pytest.mark.django_db
def test_the_form_reads_period_slice_and_assumptions(carol, bob):
    form = MetricsForm(
        {
            "period": "quarter",
            "date": "2026-05-05",
            "segment": "smb",
            "owner": str(bob.pk),
            "cohort": "2025-07",
            "by": "plan",
            "margin": "60",
            "discount": "1.5",
        },
        user=carol,
        today=TODAY,
    )
    assert form.is_valid(), form.errors
    assert (form.get_period().start, form.get_period().end) == (day("2026-04-01"), day("2026-06-30"))
    scope = form.get_scope()
    assert (scope.segment, scope.owner_id, scope.cohort) == ("smb", bob.pk, dt.date(2025, 7, 1))
    assert form.get_dimension().key == "plan"
    assert form.get_assumptions().gross_margin == pytest.approx(0.6)
    assert form.get_assumptions().discount_rate == pytest.approx(0.015)


@pytest.mark.django_db
def test_a_csm_cannot_pick_another_owner_or_the_assumptions(alice, bob):
    form = MetricsForm({"owner": str(bob.pk), "margin": "10"}, user=alice, today=TODAY)
    assert form.is_valid()
    assert "owner" not in form.fields and "margin" not in form.fields
    assert form.get_scope().owner_id is None


@pytest.mark.django_db
def test_previous_and_next_links_keep_the_filters(client, carol):
    client.force_login(carol)
    html = client.get(
        reverse("dashboards:leadership"), {"period": "quarter", "date": "2026-05-05", "tier": "gold"}
    ).content.decode()
    assert "?period=quarter&amp;date=2026-01-01&amp;tier=gold" in html
    assert "?period=quarter&amp;date=2026-07-01&amp;tier=gold" in html
