"""Forms of the health pages: parse and check input, then hand it to a service or selector."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from team.models import Role, User

from .models import AlertOutcome, Playbook, Priority


def snooze_choices(today: dt.date | None = None) -> list[tuple[str, str]]:
    """Preset days to snooze to: tomorrow, in 3 days, next Monday, in 2 weeks."""
    today = today or timezone.localdate()
    monday = today + dt.timedelta(days=7 - today.weekday())
    days = [
        (today + dt.timedelta(days=1), _("Tomorrow")),
        (today + dt.timedelta(days=3), _("In 3 days")),
        (monday, _("Next Monday")),
        (today + dt.timedelta(days=14), _("In 2 weeks")),
    ]
    seen, choices = set(), []
    for day, label in days:
        if day not in seen:
            seen.add(day)
            choices.append((day.isoformat(), f"{label} ({date_format(day, 'D j M')})"))
    return choices


class SnoozeForm(forms.Form):
    until = forms.DateField(label=_("Snooze until"))


class ReassignForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("Reassign to"), queryset=User.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(is_active=True, role__in=[Role.CSM, Role.MANAGER])


class TaskCreateForm(forms.Form):
    title = forms.CharField(label=_("Task"), max_length=200)
    due_date = forms.DateField(label=_("Due"), widget=forms.DateInput(attrs={"type": "date"}))
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=Priority.choices, coerce=int, initial=Priority.NORMAL
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class PlaybookApplyForm(forms.Form):
    playbook = forms.ModelChoiceField(label=_("Playbook"), queryset=Playbook.objects.none(), empty_label=None)

    def __init__(self, *args, playbooks=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["playbook"].queryset = Playbook.objects.filter(is_active=True).order_by("name")
        if playbooks is not None:  # (id, name) already loaded: render without another query
            self.fields["playbook"].choices = list(playbooks)


class AlertResolveForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[("", _("Choose…")), *AlertOutcome.choices])
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class InboxForm(forms.Form):
    view = forms.ChoiceField(
        required=False, choices=[("open", _("To do")), ("snoozed", _("Snoozed")), ("done", _("Done"))]
    )
    owner = forms.ModelChoiceField(required=False, label=_("Whose tasks"), queryset=User.objects.none())

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        if user.sees_all_accounts:
            self.fields["owner"].queryset = User.objects.filter(
                is_active=True, role__in=[Role.CSM, Role.MANAGER]
            )
        else:
            del self.fields["owner"]

    def value(self, name: str, default=None):
        if self.is_bound and self.is_valid():
            return self.cleaned_data.get(name) or default
        return default


class BacktestForm(forms.Form):
    day = forms.DateField(
        label=_("Score as of"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Scores are replayed with the data from before this day only."),
    )
    horizon = forms.TypedChoiceField(
        label=_("Churn within"),
        coerce=int,
        choices=[(30, _("30 days")), (60, _("60 days")), (90, _("90 days")), (180, _("180 days"))],
        initial=90,
    )

    def clean(self):
        data = super().clean()
        day, horizon = data.get("day"), data.get("horizon")
        if day and horizon:
            end = day - dt.timedelta(days=1) + dt.timedelta(days=horizon)
            if end > timezone.localdate():
                self.add_error(
                    "day",
                    _("Pick a day at least %(n)s days ago, so the outcome is known (the latest is %(day)s).")
                    % {
                        "n": horizon,
                        "day": (timezone.localdate() - dt.timedelta(days=horizon - 1)).isoformat(),
                    },
                )
            if day < dt.date(2000, 1, 1):
                self.add_error("day", _("Pick a later day."))
        return data
