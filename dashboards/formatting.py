"""Numbers as people read them: in the reporting currency and the user's language (Babel's
CLDR data), and "no data" for a figure that has none, never 0."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, format_decimal, format_percent
from django.conf import settings
from django.utils.html import format_html
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext as _


@lru_cache(maxsize=16)
def _locale(language: str) -> Locale:
    try:
        return Locale.parse(to_locale(language or settings.LANGUAGE_CODE))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def current_locale() -> Locale:
    return _locale(get_language() or settings.LANGUAGE_CODE)


@lru_cache(maxsize=32)
def _percent_pattern(language: str, digits: int) -> str:
    pattern = _locale(language).percent_formats[None].pattern  # e.g. "#,##0%" or "%#,##0"
    return pattern.replace("#,##0", "#,##0." + "0" * digits) if digits else pattern


def no_data() -> str:
    return _("no data")


def money(value: Decimal | float | None, currency: str | None = None, *, whole: bool = False) -> str:
    if value is None:
        return no_data()
    currency = currency or settings.REPORTING_CURRENCY
    if whole:
        return format_currency(
            round(Decimal(value)), currency, locale=current_locale(), currency_digits=False, format="¤#,##0"
        )
    return format_currency(value, currency, locale=current_locale())


def integer(value: int | None) -> str:
    if value is None:
        return no_data()
    return format_decimal(value, locale=current_locale())


def number(value: float | Decimal | None, digits: int = 1) -> str:
    if value is None:
        return no_data()
    return format_decimal(
        round(float(value), digits), format="#,##0." + "0" * digits, locale=current_locale()
    )


def percent(ratio: float | None, digits: int = 1) -> str:
    """0.109 → "10.9%" (in Turkish "%10,9")."""
    if ratio is None:
        return no_data()
    language = get_language() or settings.LANGUAGE_CODE
    return format_percent(ratio, format=_percent_pattern(language, digits), locale=current_locale())


def times(value: float | None) -> str:
    """An LTV:CAC ratio: 3.2×."""
    if value is None:
        return no_data()
    return number(value, 1) + "×"


def days(value: float | None) -> str:
    if value is None:
        return no_data()
    return _("%(n)s days") % {"n": number(value, 0 if float(value).is_integer() else 1)}


def nps(value: float | None) -> str:
    if value is None:
        return no_data()
    return number(value, 1)


FORMATTERS = {
    "money": money,
    "int": integer,
    "number": number,
    "pct": percent,
    "times": times,
    "days": days,
    "nps": nps,
    "text": lambda value: no_data() if value is None else str(value),
}


def display(value, kind: str):
    """The formatted value, with "no data" marked up so it reads (and styles) as such."""
    if value is None:
        return format_html('<span class="no-data">{}</span>', no_data())
    return FORMATTERS[kind](value)


def signed(value, kind: str) -> str:
    """A change between two periods: "+1.2 pp", "−$300.00", "+4"."""
    if value is None:
        return no_data()
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    magnitude = abs(value)
    if kind == "pp":
        return f"{sign}{number(magnitude * 100, 1)} pp"
    if kind == "money":
        return sign + money(magnitude)
    if kind == "money_whole":
        return sign + money(magnitude, whole=True)
    if kind == "int":
        return sign + integer(magnitude)
    if kind in ("number", "nps", "times"):
        return sign + number(magnitude, 1)
    if kind == "days":
        return sign + days(magnitude)
    return sign + str(magnitude)


FORMATTERS["pp"] = lambda value: signed(value, "pp")
FORMATTERS["signed_money"] = lambda value: signed(value, "money")
FORMATTERS["signed_int"] = lambda value: signed(value, "int")
FORMATTERS["signed_number"] = lambda value: signed(value, "number")
FORMATTERS["signed_days"] = lambda value: signed(value, "days")
FORMATTERS["pct2"] = lambda value: percent(value, 2)
FORMATTERS["money_whole"] = lambda value: money(value, whole=True)
FORMATTERS["signed_money_whole"] = lambda value: signed(value, "money_whole")
