"""Forms of the account pages: parse and check input, then hand it to a selector or service."""

from __future__ import annotations

import datetime as dt
import html

from django import forms
from django.db.models import F
from django.db.models.functions import Upper
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from team.models import Role, User

from .models import Contact, LifecycleStage, Segment, Tier, TouchpointKind
from .selectors import HEALTH_SORTS, PortfolioFilters


# The portfolio's sortable columns: URL value → (ascending ORDER BY, descending ORDER BY). The
# health columns (score, grade, trend) sort in accounts.selectors.HEALTH_SORTS.
# Each ordering is the exact mirror of the other, so one btree index (see Account.Meta.indexes)
# serves both directions, forwards and backwards, for 100,000 accounts.
def _pair(*columns: str) -> tuple[tuple, tuple]:
    return tuple(F(c).asc() for c in columns), tuple(F(c).desc() for c in columns)


SORTS: dict[str, tuple[tuple, tuple]] = {
    "name": _pair("name", "id"),
    "owner": _pair("owner__full_name", "name", "id"),
    "segment": _pair("segment", "name", "id"),
    "tier": _pair("tier", "name", "id"),
    "stage": _pair("lifecycle_stage", "name", "id"),
    "mrr": _pair("mrr", "id"),
    # Soonest renewal first; accounts without a renewal date last in both directions.
    "renewal_date": (
        (F("renewal_date").asc(nulls_last=True), F("id").asc()),
        (F("renewal_date").desc(nulls_last=True), F("id").desc()),
    ),
    # Oldest touch first puts never-touched accounts (the most neglected) at the top.
    "last_touch_at": (
        (F("last_touch_at").asc(nulls_first=True), F("id").asc()),
        (F("last_touch_at").desc(nulls_last=True), F("id").desc()),
    ),
}


class PortfolioFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.SearchInput(attrs={"placeholder": _("Name or domain"), "autocomplete": "off"}),
    )
    segment = forms.ChoiceField(
        label=_("Segment"), required=False, choices=[("", _("All segments")), *Segment.choices]
    )
    tier = forms.ChoiceField(label=_("Tier"), required=False, choices=[("", _("All tiers")), *Tier.choices])
    stage = forms.ChoiceField(
        label=_("Stage"), required=False, choices=[("", _("All stages")), *LifecycleStage.choices]
    )
    renewal = forms.TypedChoiceField(
        label=_("Renewal"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[
            ("", _("Any renewal date")),
            ("30", _("Renews within 30 days")),
            ("60", _("Renews within 60 days")),
            ("90", _("Renews within 90 days")),
        ],
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"), required=False, queryset=User.objects.none(), empty_label=_("All owners")
    )
    grade = forms.ChoiceField(
        label=_("Health"),
        required=False,
        choices=[
            ("", _("Any health")),
            ("red", _("Red")),
            ("yellow", _("Yellow")),
            ("green", _("Green")),
            ("none", _("No score yet")),
        ],
    )
    trend = forms.ChoiceField(
        label=_("Trend"),
        required=False,
        choices=[
            ("", _("Any trend")),
            ("falling", _("Falling (−5 or more in 7 days)")),
            ("rising", _("Rising (+5 or more in 7 days)")),
        ],
    )
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user.sees_all_accounts:
            self.fields["owner"].queryset = User.objects.filter(
                is_active=True, role__in=[Role.CSM, Role.MANAGER]
            ).order_by("full_name", "email")
        else:
            del self.fields["owner"]

    @property
    def sort_value(self) -> str:
        value = (self.cleaned_data.get("sort") if self.is_bound and self.is_valid() else "") or "name"
        return value if value.lstrip("-") in SORTS or value.lstrip("-") in HEALTH_SORTS else "name"

    def filters(self) -> PortfolioFilters:
        """The filters to apply. Invalid fields are ignored (and shown as errors), never a 500."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        if self.is_bound and not self.is_valid():
            data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        sort = self.sort_value
        ascending, descending = SORTS.get(sort.lstrip("-"), SORTS["name"])
        ordering = descending if sort.startswith("-") else ascending
        if data.get("q") and sort.lstrip("-") == "name":
            # Searching: sort the few matches (found by the trigram index on PostgreSQL) rather
            # than walk the name index past thousands of rows that don't match.
            upper = Upper("name")
            ordering = (
                (upper.desc(), F("id").desc()) if sort.startswith("-") else (upper.asc(), F("id").asc())
            )
        owner = data.get("owner")
        return PortfolioFilters(
            q=(data.get("q") or "").strip(),
            segment=data.get("segment") or "",
            tier=data.get("tier") or "",
            stage=data.get("stage") or "",
            renewal_within=data.get("renewal"),
            owner_id=owner.pk if owner else None,
            grade=data.get("grade") or "",
            trend=data.get("trend") or "",
            ordering=ordering,
            health_sort=sort if sort.lstrip("-") in HEALTH_SORTS else "",
        )

    def select_fields(self) -> list[dict]:
        """The filter selects as plain data with their <option>s already built, so the page does
        not render a template per option (the owner list alone has dozens)."""
        selects = []
        for name in ("segment", "tier", "stage", "renewal", "owner", "grade", "trend"):
            if name not in self.fields:
                continue
            bound, field = self[name], self.fields[name]
            current = str(bound.value() or "")
            if name == "owner":  # names only: not every column of every user (str(user) is this)
                people = field.queryset.values_list("pk", "full_name", "email")
                choices = [("", field.empty_label), *((pk, full or email) for pk, full, email in people)]
            else:
                choices = field.choices
            # f-strings and one escape per text: format_html_join escaped (and translated) each
            # label through conditional_escape, about 1 ms of a manager's page for 70 options.
            parts = []
            for value, label in choices:
                text, shown = html.escape(str(value)), html.escape(str(label))
                selected = " selected" if str(value) == current else ""
                parts.append(f'<option value="{text}"{selected}>{shown}</option>')
            options = mark_safe("".join(parts))  # noqa: S308 - every value and label is escaped here
            selects.append(
                {
                    "name": name,
                    "id": bound.id_for_label,
                    "label": bound.label,
                    "options": options,
                    "errors": bound.errors,
                }
            )
        return selects

    @property
    def is_filtered(self) -> bool:
        if not (self.is_bound and self.is_valid()):
            return False
        return any(
            self.cleaned_data.get(name)
            for name in ("q", "segment", "tier", "stage", "renewal", "owner", "grade", "trend")
        )


class QuickSelect(forms.Select):
    """A <select> whose options are written in Python: Django's own renders a template per option,
    which on the account page (dozens of staff to reassign to) costs milliseconds. Same markup."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = "".join(
            '<option value="{}"{}{}>{}</option>'.format(
                escape("" if option["value"] is None else option["value"]),
                flatatt({k: v for k, v in option["attrs"].items() if k != "selected"}),
                " selected" if option["selected"] else "",
                escape(option["label"]),
            )
            for _group, choices, _index in widget["optgroups"]
            for option in choices
        )
        return format_html(
            '<select name="{}"{}>{}</select>',
            widget["name"],
            flatatt(widget["attrs"]),
            mark_safe(options),  # noqa: S308
        )


class TouchpointForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=TouchpointKind.choices, initial=TouchpointKind.CALL, widget=QuickSelect
    )
    occurred_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty for now."),
    )
    contact = forms.ModelChoiceField(
        label=_("With"),
        required=False,
        queryset=Contact.objects.none(),
        empty_label=_("No one in particular"),
        widget=QuickSelect,
    )
    summary = forms.CharField(
        label=_("Summary"),
        max_length=5000,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": _("What happened, what was agreed, next steps")}
        ),
    )

    def __init__(self, *args, account, contacts: list[Contact] | None = None, **kwargs):
        """``contacts``: the account's contacts when the page has them already (no query)."""
        super().__init__(*args, **kwargs)
        field = self.fields["contact"]
        field.queryset = account.contacts.order_by("name")
        field.label_from_instance = lambda c: f"{c.name} ({c.get_role_display()})"
        if contacts is not None:
            ordered = sorted(contacts, key=lambda c: (c.name, c.pk))
            field.widget.choices = [("", field.empty_label)] + [
                (c.pk, field.label_from_instance(c)) for c in ordered
            ]

    def clean_occurred_at(self) -> dt.datetime | None:
        value = self.cleaned_data.get("occurred_at")
        if value and timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value


class ReassignOwnerForm(forms.Form):
    owner = forms.ModelChoiceField(
        label=_("New owner"), queryset=User.objects.none(), empty_label=None, widget=QuickSelect
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["owner"]
        field.queryset = User.objects.filter(is_active=True, role__in=[Role.CSM, Role.MANAGER]).order_by(
            "full_name", "email"
        )
        if not self.is_bound:  # rendering: one plain query (a model choice field iterates twice)
            field.widget.choices = [
                (user.pk, str(user)) for user in field.queryset.only("email", "full_name")
            ]
