"""The dashboards' filters: the period, the slice, the breakdown and (for managers) the
lifetime-value assumptions. The same form reads the page's and the API's query string, so a
shared URL and an API call with the same parameters show the same figures."""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Segment, Tier
from team.models import Role, User

from . import periods
from .selectors import DRILLDOWNS, Assumptions, Dimension, Scope, dimensions

EARLIEST = dt.date(2000, 1, 1)
MAX_CUSTOM_DAYS = 366 * 10
MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


class MonthField(forms.CharField):
    """A calendar month as YYYY-MM (what <input type="month"> sends) → its first day."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"})
    default_error_messages = {"invalid": _("Enter a month as YYYY-MM, e.g. 2026-01.")}

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        match = MONTH_RE.match(value.strip())
        if not match:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        year, month = int(match[1]), int(match[2])
        if not (1 <= month <= 12 and EARLIEST.year <= year <= 9999):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return dt.date(year, month, 1)


class MetricsForm(forms.Form):
    period = forms.ChoiceField(
        label=_("Period"),
        required=False,
        choices=[
            (periods.MONTH, _("Month")),
            (periods.QUARTER, _("Quarter")),
            (periods.YEAR, _("Year")),
            (periods.CUSTOM, _("Custom dates")),
        ],
    )
    date = forms.DateField(
        label=_("Day in the period"),
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Default: the last complete period."),
    )
    start = forms.DateField(
        label=_("From"),
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        label=_("To"),
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    segment = forms.ChoiceField(
        label=_("Segment"), required=False, choices=[("", _("All segments")), *Segment.choices]
    )
    tier = forms.ChoiceField(label=_("Tier"), required=False, choices=[("", _("All tiers")), *Tier.choices])
    plan = forms.CharField(label=_("Plan"), required=False, max_length=100)
    owner = forms.ModelChoiceField(
        label=_("Owner"), required=False, queryset=User.objects.none(), empty_label=_("All owners")
    )
    cohort = MonthField(
        label=_("Signup cohort"), required=False, help_text=_("Accounts whose contract started that month.")
    )
    by = forms.ChoiceField(
        label=_("Break down by"),
        required=False,
        choices=[
            ("segment", _("Segment")),
            ("tier", _("Tier")),
            ("plan", _("Plan")),
            ("owner", _("Owner")),
            ("cohort", _("Signup cohort")),
        ],
    )
    margin = forms.DecimalField(
        label=_("Gross margin (%)"),
        required=False,
        min_value=1,
        max_value=100,
        decimal_places=2,
        help_text=_("Share of revenue kept after the cost of serving it."),
    )
    discount = forms.DecimalField(
        label=_("Monthly discount rate (%)"),
        required=False,
        min_value=0,
        max_value=50,
        decimal_places=3,
        help_text=_("What a dollar next month is worth less than one today."),
    )

    FILTER_FIELDS = ("segment", "tier", "plan", "owner", "cohort")

    def __init__(
        self, *args, user: User, today: dt.date | None = None, plans: list[str] | None = None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.user = user
        self.today = today or timezone.localdate()
        if user.sees_all_accounts:
            self.fields["owner"].queryset = User.objects.filter(
                is_active=True, role__in=[Role.CSM, Role.MANAGER]
            ).order_by("full_name", "email")
        else:
            del self.fields["owner"]
            del self.fields["margin"]
            del self.fields["discount"]
        if plans is not None:
            self.fields["plan"] = forms.ChoiceField(
                label=_("Plan"), required=False, choices=[("", _("All plans")), *((p, p) for p in plans)]
            )

    # -------------------------------------------------------------- validation

    def _not_future(self, name: str) -> None:
        value = self.cleaned_data.get(name)
        if value and value > self.today:
            self.add_error(name, _("Choose a day up to today."))
        elif value and value < EARLIEST:
            self.add_error(name, _("Choose a day from 2000 on."))

    def clean(self):
        data = super().clean()
        for name in ("date", "start", "end"):
            self._not_future(name)
        cohort = data.get("cohort")
        if cohort and cohort > self.today:
            self.add_error("cohort", _("Choose a month up to this one."))
        if data.get("period") == periods.CUSTOM:
            start, end = data.get("start"), data.get("end")
            if not start and "start" not in self.errors:
                self.add_error("start", _("Enter the first day of the period."))
            if not end and "end" not in self.errors:
                self.add_error("end", _("Enter the last day of the period."))
            if start and end and end < start:
                self.add_error("end", _("The last day must be on or after the first day."))
            elif start and end and (end - start).days > MAX_CUSTOM_DAYS:
                self.add_error("end", _("Choose at most ten years."))
        return data

    def valid_data(self) -> dict:
        """The fields that passed validation; a bad field falls back to its default (the page
        shows its error and still shows figures)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if name not in self.errors}

    # -------------------------------------------------------------- what it asks for

    def get_period(self) -> periods.Period:
        data = self.valid_data()
        kind = data.get("period") or periods.MONTH
        if kind == periods.CUSTOM:
            if data.get("start") and data.get("end") and not self.errors:
                return periods.custom(data["start"], data["end"])
            kind = periods.MONTH
        if data.get("date"):
            return periods.period_containing(kind, data["date"], self.today)
        return periods.last_complete(kind, self.today)

    def get_scope(self) -> Scope:
        data = self.valid_data()
        owner = data.get("owner")
        return Scope(
            user=self.user,
            segment=data.get("segment") or "",
            tier=data.get("tier") or "",
            plan=data.get("plan") or "",
            owner_id=owner.pk if owner else None,
            cohort=data.get("cohort"),
        )

    def get_dimension(self, default: str | None = "segment") -> Dimension | None:
        key = self.valid_data().get("by") or default
        return dimensions().get(key) if key else None

    def get_assumptions(self) -> Assumptions:
        data = self.valid_data()
        defaults = Assumptions.defaults()
        margin, discount = data.get("margin"), data.get("discount")
        return Assumptions(
            gross_margin=float(margin) / 100 if margin is not None else defaults.gross_margin,
            discount_rate=float(discount) / 100 if discount is not None else defaults.discount_rate,
        )

    @property
    def is_sliced(self) -> bool:
        data = self.valid_data()
        return any(data.get(name) for name in self.FILTER_FIELDS)


class DrilldownForm(forms.Form):
    list = forms.ChoiceField(choices=[(d, d) for d in DRILLDOWNS])


PLAN_CHOICES_SECONDS = 300


def plan_choices(user: User) -> list[str]:
    """The plans of the accounts the user sees, for the plan filter: one query, then kept in the
    shared cache for five minutes (a DISTINCT over 100,000 accounts costs more than the
    figures of a small page; a plan added since shows up in the list within five minutes, and
    the figures themselves are never cached)."""
    key = f"dashboards:plans:{'all' if user.sees_all_accounts else user.pk}"
    plans = cache.get(key)
    if plans is None:
        plans = list(
            Account.objects.visible_to(user)
            .exclude(plan="")
            .order_by("plan")
            .values_list("plan", flat=True)
            .distinct()
        )
        cache.set(key, plans, PLAN_CHOICES_SECONDS)
    return plans
