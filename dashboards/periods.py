"""Reporting periods: a month, a quarter, a year or custom dates, and the period before each.

A period runs from day S (``start``) to day E (``end``), both calendar days in the platform's
time zone, as DESIGN.md's metric definitions use them: the starting cohort is the accounts
active on S, and the waterfall adds up the movements dated after S and on or before E. A
period that is not over yet ends today ("to date").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.translation import gettext as _

MONTH, QUARTER, YEAR, CUSTOM = "month", "quarter", "year", "custom"
KINDS = (MONTH, QUARTER, YEAR, CUSTOM)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (or earlier), clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def month_end(day: dt.date) -> dt.date:
    return add_months(month_start(day), 1) - dt.timedelta(days=1)


def twelve_months_ending(end: dt.date) -> dt.date:
    """S of the 12 months that end on ``end``: Jan 1 for Dec 31, Nov 1 for Oct 31."""
    return add_months(end + dt.timedelta(days=1), -12)


@dataclass(frozen=True)
class Period:
    kind: str
    start: dt.date  # S
    end: dt.date  # E (today, for a period not over yet)
    natural_end: dt.date  # the period's last day, even when it is still running

    @property
    def partial(self) -> bool:
        return self.end < self.natural_end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        if self.kind == MONTH:
            text = date_format(self.start, "F Y")
        elif self.kind == QUARTER:
            text = _("Q%(q)s %(year)s") % {"q": (self.start.month - 1) // 3 + 1, "year": self.start.year}
        elif self.kind == YEAR:
            text = str(self.start.year)
        else:
            text = f"{date_format(self.start, 'j M Y')} – {date_format(self.end, 'j M Y')}"
        if self.partial:
            text = _("%(period)s (to %(day)s)") % {"period": text, "day": date_format(self.end, "j M")}
        return text

    @property
    def twelve_month_start(self) -> dt.date:
        return twelve_months_ending(self.end)

    def previous(self) -> Period:
        """The whole period of the same kind just before this one (custom: as many days)."""
        if self.kind == CUSTOM:
            end = self.start - dt.timedelta(days=1)
            return Period(CUSTOM, end - dt.timedelta(days=self.days - 1), end, end)
        months = {MONTH: 1, QUARTER: 3, YEAR: 12}[self.kind]
        start = add_months(self.start, -months)
        end = self.start - dt.timedelta(days=1)
        return Period(self.kind, start, end, end)

    def next_start(self) -> dt.date | None:
        """A day inside the following period (for the "next" link), or None for custom dates."""
        if self.kind == CUSTOM:
            return None
        return self.natural_end + dt.timedelta(days=1)

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "label": self.label,
            "to_date": self.partial,
        }


def period_containing(kind: str, day: dt.date, today: dt.date) -> Period:
    """The month, quarter or year that contains ``day``, ending today at the latest."""
    if kind == MONTH:
        start = month_start(day)
        natural_end = month_end(day)
    elif kind == QUARTER:
        start = dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        natural_end = add_months(start, 3) - dt.timedelta(days=1)
    elif kind == YEAR:
        start = dt.date(day.year, 1, 1)
        natural_end = dt.date(day.year, 12, 31)
    else:
        raise ValueError(kind)
    return Period(kind, start, min(natural_end, max(today, start)), natural_end)


def last_complete(kind: str, today: dt.date) -> Period:
    """The latest month, quarter or year that is over: the default view."""
    current = period_containing(kind, today, today)
    return period_containing(kind, current.start - dt.timedelta(days=1), today)


def custom(start: dt.date, end: dt.date) -> Period:
    return Period(CUSTOM, start, end, end)
