"""Forms of the survey pages: they parse and show errors; the services decide."""

from __future__ import annotations

import datetime as dt
import re
from html import escape

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Account, ContactRole, LifecycleStage, Segment, Tier
from team.models import User

from .models import (
    Band,
    Campaign,
    CampaignStatus,
    FollowUpOutcome,
    InvitationStatus,
    QuestionKind,
    SkipReason,
    Survey,
    SurveyKind,
    Trigger,
)

ANY = [("", gettext_lazy("Any"))]
MAX_ACCOUNT_LINES = 1000


def staff_choices(user: User) -> forms.ModelChoiceField:
    qs = User.objects.filter(is_active=True).exclude(role="").order_by("full_name", "email")
    if not user.sees_all_accounts:
        qs = qs.filter(pk=user.pk)
    return qs


class CampaignForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=150)
    survey = forms.ModelChoiceField(
        label=gettext_lazy("Survey"), queryset=Survey.objects.filter(is_active=True), empty_label=None
    )
    trigger = forms.ChoiceField(
        label=gettext_lazy("When to send"),
        choices=Trigger.choices,
        required=False,
        help_text=gettext_lazy(
            "At a send time, or each time an event happens (for example CSAT after support)."
        ),
    )
    send_at = forms.DateTimeField(
        label=gettext_lazy("Send at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        help_text=gettext_lazy("Leave empty to send when you launch."),
    )
    trigger_delay_days = forms.IntegerField(
        label=gettext_lazy("Days after the event"), min_value=0, max_value=365, initial=0, required=False
    )
    segment = forms.ChoiceField(label=gettext_lazy("Segment"), choices=ANY + Segment.choices, required=False)
    tier = forms.ChoiceField(label=gettext_lazy("Tier"), choices=ANY + Tier.choices, required=False)
    lifecycle_stage = forms.ChoiceField(
        label=gettext_lazy("Lifecycle stage"), choices=ANY + LifecycleStage.choices, required=False
    )
    account_owner = forms.ModelChoiceField(
        label=gettext_lazy("Account owner"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("Any"),
    )
    contact_role = forms.ChoiceField(
        label=gettext_lazy("Contact role"), choices=ANY + ContactRole.choices, required=False
    )
    accounts_list = forms.CharField(
        label=gettext_lazy("Only these accounts"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "example.com\nacme.example"}),
        help_text=gettext_lazy("Optional: one domain or CRM id per line."),
    )
    reminder_after_days = forms.IntegerField(
        label=gettext_lazy("Remind non-responders after (days)"), min_value=1, max_value=60, required=False
    )
    recurrence_months = forms.TypedChoiceField(
        label=gettext_lazy("Repeat"),
        choices=[
            ("", gettext_lazy("Never")),
            (3, gettext_lazy("Every 3 months")),
            (6, gettext_lazy("Every 6 months")),
            (12, gettext_lazy("Every 12 months")),
        ],
        coerce=int,
        empty_value=None,
        required=False,
    )
    throttle_days = forms.IntegerField(
        label=gettext_lazy("Skip contacts surveyed in the last (days)"),
        min_value=0,
        max_value=365,
        initial=30,
        help_text=gettext_lazy("Across all campaigns; 0 turns it off."),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["account_owner"].queryset = staff_choices(user)

    def clean_accounts_list(self) -> list[Account]:
        lines = [
            line.strip().lower() for line in re.split(r"[\r\n,]+", self.cleaned_data["accounts_list"] or "")
        ]
        lines = [line for line in dict.fromkeys(lines) if line]
        if len(lines) > MAX_ACCOUNT_LINES:
            raise forms.ValidationError(_("At most %(n)s accounts.") % {"n": MAX_ACCOUNT_LINES})
        if not lines:
            return []
        found = list(
            Account.objects.visible_to(self.user).filter(Q(domain__in=lines) | Q(external_id__in=lines))
        )
        known = {a.domain.lower() for a in found} | {(a.external_id or "").lower() for a in found}
        unknown = [line for line in lines if line not in known]
        if unknown:
            raise forms.ValidationError(
                _("Not in your portfolio: %(lines)s") % {"lines": ", ".join(unknown[:10])}
            )
        return found

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "survey": data["survey"],
            "trigger": data.get("trigger") or "",
            "send_at": data.get("send_at"),
            "trigger_delay_days": data.get("trigger_delay_days") or 0,
            "segment": data.get("segment") or "",
            "tier": data.get("tier") or "",
            "lifecycle_stage": data.get("lifecycle_stage") or "",
            "account_owner": data.get("account_owner"),
            "contact_role": data.get("contact_role") or "",
            "accounts": data.get("accounts_list") or [],
            "reminder_after_days": data.get("reminder_after_days"),
            "recurrence_months": data.get("recurrence_months"),
            "throttle_days": data["throttle_days"],
        }

    @classmethod
    def initial_for(cls, campaign: Campaign) -> dict:
        local = timezone.localtime(campaign.send_at) if campaign.send_at else None
        return {
            "name": campaign.name,
            "survey": campaign.survey_id,
            "trigger": campaign.trigger,
            "send_at": local.replace(tzinfo=None) if local else None,
            "trigger_delay_days": campaign.trigger_delay_days,
            "segment": campaign.segment,
            "tier": campaign.tier,
            "lifecycle_stage": campaign.lifecycle_stage,
            "account_owner": campaign.account_owner_id,
            "contact_role": campaign.contact_role,
            "accounts_list": "\n".join(a.domain for a in campaign.accounts.all()),
            "reminder_after_days": campaign.reminder_after_days,
            "recurrence_months": campaign.recurrence_months,
            "throttle_days": campaign.throttle_days,
        }


class CampaignFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), choices=ANY + CampaignStatus.choices, required=False
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=ANY + SurveyKind.choices, required=False)

    def values(self) -> dict:
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v}


class InvitationFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), choices=ANY + InvitationStatus.choices, required=False
    )
    reason = forms.ChoiceField(
        label=gettext_lazy("Skipped because"),
        choices=ANY + [c for c in SkipReason.choices if c[0]],
        required=False,
    )
    round = forms.IntegerField(min_value=1, max_value=2**31, required=False, widget=forms.HiddenInput)

    def values(self) -> dict:
        if not self.is_valid():
            return {}
        values = {k: v for k, v in self.cleaned_data.items() if v}
        if "round" in values:
            values["round_id"] = values.pop("round")
        return values


METRIC_CHOICES = [(SurveyKind.NPS, "NPS"), (SurveyKind.CSAT, "CSAT"), (SurveyKind.CES, "CES")]


class AnalysisForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Metric"), choices=METRIC_CHOICES, required=False)
    start = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    campaign = forms.ModelChoiceField(
        label=gettext_lazy("Campaign"),
        queryset=Campaign.objects.none(),
        required=False,
        empty_label=gettext_lazy("Any"),
    )
    segment = forms.ChoiceField(label=gettext_lazy("Segment"), choices=ANY + Segment.choices, required=False)
    tier = forms.ChoiceField(label=gettext_lazy("Tier"), choices=ANY + Tier.choices, required=False)
    plan = forms.CharField(label=gettext_lazy("Plan"), required=False, max_length=100)
    owner = forms.ModelChoiceField(
        label=gettext_lazy("Owner"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("Any"),
    )
    cohort = forms.RegexField(
        label=gettext_lazy("Signup cohort"),
        regex=r"^\d{4}-Q[1-4]$",
        required=False,
        max_length=7,
        error_messages={"invalid": gettext_lazy("Write the quarter as 2025-Q3.")},
        widget=forms.TextInput(attrs={"placeholder": "2025-Q3"}),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = Campaign.objects.visible_to(user).order_by("-created_at")
        self.fields["owner"].queryset = staff_choices(user)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("The end is before the start."))
        if start and end and (end - start).days > 366 * 5:
            self.add_error("start", _("Choose at most five years."))
        if start and start < dt.date(2000, 1, 1):
            self.add_error("start", _("Choose a date after 2000."))
        return data


class VerbatimForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search the words"), required=False, max_length=100)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=ANY + SurveyKind.choices, required=False)
    band = forms.ChoiceField(label=gettext_lazy("Band"), choices=ANY + Band.choices, required=False)

    def values(self) -> dict:
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v}


class FollowUpFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=gettext_lazy("Show"),
        choices=[
            ("open", gettext_lazy("Open")),
            ("closed", gettext_lazy("Closed")),
            ("all", gettext_lazy("All")),
        ],
        required=False,
    )
    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=100)


class FollowUpCloseForm(forms.Form):
    outcome = forms.ChoiceField(label=gettext_lazy("Outcome"), choices=[("", "—"), *FollowUpOutcome.choices])
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class SuppressionForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Email"), max_length=254)
    detail = forms.CharField(label=gettext_lazy("Why"), required=False, max_length=500)


# ---------------------------------------------------------------- the public survey


class PlainTextarea(forms.Textarea):
    """A textarea built with an f-string rather than Django's widget templates, for the public
    answer page (its busiest page): the same HTML as ``forms.Textarea``, attributes included (the
    bound field's aria-invalid and aria-describedby), every value escaped."""

    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs)
        attr_html = "".join(
            f" {escape(key)}" if val is True else f' {escape(key)}="{escape(str(val))}"'
            for key, val in final.items()
            if val is not False
        )
        text = self.format_value(value)
        body = escape(text) if text else ""
        return mark_safe(f'<textarea name="{escape(name)}"{attr_html}>\n{body}</textarea>')  # noqa: S308 - escaped above


class SurveyAnswerForm(forms.Form):
    """The respondent's form: the score (pre-selected from the email), the band's follow-up, a
    comment and the survey's further questions. Labels in the respondent's language."""

    def __init__(self, *args, survey: Survey, language: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.survey, self.language = survey, language
        if survey.asks_score:
            low, high = survey.scale
            self.fields["score"] = forms.TypedChoiceField(
                label=survey.question_text(language),
                choices=[(n, str(n)) for n in range(low, high + 1)],
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={
                    "required": _("Choose a score from %(low)s to %(high)s.") % {"low": low, "high": high},
                    "invalid_choice": _("Choose a score from %(low)s to %(high)s.")
                    % {"low": low, "high": high},
                },
            )
        self.fields["follow_up"] = forms.CharField(
            label=survey.follow_up_text("", language),
            required=False,
            max_length=2000,
            widget=PlainTextarea(attrs={"rows": 3}),
        )
        self.fields["comment"] = forms.CharField(
            label=_("Anything else you would like to tell us?"),
            required=False,
            max_length=2000,
            widget=PlainTextarea(attrs={"rows": 2}),
        )
        self.questions = list(survey.questions.all())
        for question in self.questions:
            label = question.text("prompt", language)
            key = f"q_{question.pk}"
            choices = [(c.pk, c.text("label", language)) for c in question.choices.all()]
            required_msg = {"required": _("Please answer this question.")}
            if question.kind == QuestionKind.SINGLE:
                field = forms.TypedChoiceField(
                    label=label,
                    choices=choices,
                    coerce=int,
                    widget=forms.RadioSelect,
                    error_messages=required_msg,
                )
            elif question.kind == QuestionKind.MULTIPLE:
                field = forms.TypedMultipleChoiceField(
                    label=label,
                    choices=choices,
                    coerce=int,
                    widget=forms.CheckboxSelectMultiple,
                    error_messages=required_msg,
                )
            elif question.kind == QuestionKind.RATING:
                field = forms.TypedChoiceField(
                    label=label,
                    choices=[(n, str(n)) for n in range(1, 6)],
                    coerce=int,
                    widget=forms.RadioSelect,
                    error_messages=required_msg,
                )
            elif question.kind == QuestionKind.SHORT_TEXT:
                field = forms.CharField(label=label, max_length=200, error_messages=required_msg)
            else:
                field = forms.CharField(
                    label=label,
                    max_length=2000,
                    widget=PlainTextarea(attrs={"rows": 3}),
                    error_messages=required_msg,
                )
            field.required = question.required
            field.question = question
            self.fields[key] = field

    def answers(self) -> dict[int, object]:
        return {q.pk: self.cleaned_data.get(f"q_{q.pk}") for q in self.questions}

    def question_fields(self):
        return [self[f"q_{q.pk}"] for q in self.questions]
