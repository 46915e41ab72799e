"""Thin HTTP for the staff's survey pages: campaigns (with live progress), surveys, analysis,
comments, follow-ups, an account's answers, the suppression list and the development outbox."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Account
from team.decorators import role_required

from . import emails, selectors, services
from .forms import (
    AnalysisForm,
    CampaignFilterForm,
    CampaignForm,
    FollowUpCloseForm,
    FollowUpFilterForm,
    InvitationFilterForm,
    SuppressionForm,
    SurveyAnswerForm,
    VerbatimForm,
)
from .models import (
    LANGUAGES,
    Campaign,
    CampaignStatus,
    Choice,
    Invitation,
    InvitationStatus,
    Question,
    Suppression,
    Survey,
    SurveyKind,
    band_for,
)
from .public_views import points_html

PAGE_SIZE = 25


def _page(request: HttpRequest, rows, size: int = PAGE_SIZE):
    page = Paginator(rows, size).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


def _partial(request: HttpRequest) -> bool:
    return bool(request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request)


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            name = "accounts_list" if field == "accounts" else field
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _visible_campaign(request: HttpRequest, pk: int) -> Campaign:
    """The campaign if this user may see it; 404 otherwise (never reveal that it exists)."""
    return get_object_or_404(
        Campaign.objects.visible_to(request.user).select_related("survey", "created_by", "account_owner"),
        pk=pk,
    )


def _managers_only(request: HttpRequest) -> None:
    if not request.user.sees_all_accounts:
        raise PermissionDenied


# ---------------------------------------------------------------- campaigns


@role_required
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    form = CampaignFilterForm(request.GET or None)
    values = form.values()
    rows = selectors.campaign_rows(user=request.user, **values)
    page, query = _page(request, rows)
    context = {"form": form, "page": page, "query": query, "is_filtered": bool(values)}
    response = render(
        request,
        "feedback/campaign_list.html#results" if _partial(request) else "feedback/campaign_list.html",
        context,
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


@role_required
@require_http_methods(["GET", "POST"])
def campaign_create(request: HttpRequest) -> HttpResponse:
    initial = {"throttle_days": 30}
    if request.GET.get("kind") in SurveyKind.values:
        initial["survey"] = (
            Survey.objects.filter(kind=request.GET["kind"], is_active=True)
            .values_list("pk", flat=True)
            .first()
        )
    form = CampaignForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(by=request.user, **form.service_kwargs())
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Draft saved. Check the audience, then launch."))
            return redirect(campaign)
    status = 422 if request.method == "POST" else 200
    return render(request, "feedback/campaign_form.html", {"form": form, "campaign": None}, status=status)


@role_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _visible_campaign(request, pk)
    if campaign.status != CampaignStatus.DRAFT:
        messages.error(request, _("Only a draft can be changed; this campaign is already launched."))
        return redirect(campaign)
    form = CampaignForm(request.POST or None, user=request.user, initial=CampaignForm.initial_for(campaign))
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_update(campaign=campaign, by=request.user, **form.service_kwargs())
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Draft saved."))
            return redirect(campaign)
    status = 422 if request.method == "POST" else 200
    return render(request, "feedback/campaign_form.html", {"form": form, "campaign": campaign}, status=status)


def _current_round_id(campaign: Campaign) -> int | None:
    rnd = (
        campaign.rounds.exclude(started_at__isnull=True)
        .order_by("-started_at", "-number")
        .values_list("pk", flat=True)
        .first()
    )
    return rnd


def _progress_context(campaign: Campaign) -> dict:
    round_id = _current_round_id(campaign)
    progress = selectors.campaign_progress(campaign=campaign, round_id=round_id)
    preparing = campaign.status == CampaignStatus.ACTIVE and (
        round_id is None
        and campaign.rounds.filter(scheduled_at__lte=timezone.now(), status="scheduled").exists()
    )
    polling = campaign.status == CampaignStatus.ACTIVE and (
        preparing or (progress.total and not progress.done)
    )
    return {"campaign": campaign, "progress": progress, "preparing": preparing, "polling": polling}


@role_required
@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _visible_campaign(request, pk)
    context = {
        **_progress_context(campaign),
        "accounts": list(campaign.accounts.order_by("name")[:50]),
        "rounds": selectors.campaign_rounds(campaign=campaign),
        "preview": selectors.audience_preview(campaign=campaign)
        if campaign.status == CampaignStatus.DRAFT
        else None,
        "next_round": campaign.rounds.filter(status="scheduled").order_by("scheduled_at").first(),
    }
    return render(request, "feedback/campaign_detail.html", context)


@role_required
@require_GET
def campaign_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The live progress box; htmx polls it every two seconds while the campaign is sending."""
    campaign = _visible_campaign(request, pk)
    response = render(request, "feedback/_progress.html", _progress_context(campaign))
    response["Cache-Control"] = "no-store"
    return response


def _campaign_action(request: HttpRequest, pk: int, action, done: str) -> HttpResponse:
    campaign = _visible_campaign(request, pk)
    try:
        action(campaign=campaign, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect(campaign)


@role_required
@require_POST
def campaign_launch(request: HttpRequest, pk: int) -> HttpResponse:
    return _campaign_action(request, pk, services.campaign_launch, _("Launched. Progress shows below."))


@role_required
@require_POST
def campaign_pause(request: HttpRequest, pk: int) -> HttpResponse:
    return _campaign_action(
        request, pk, services.campaign_pause, _("Paused. Nothing more is sent until you resume.")
    )


@role_required
@require_POST
def campaign_resume(request: HttpRequest, pk: int) -> HttpResponse:
    return _campaign_action(request, pk, services.campaign_resume, _("Resumed."))


@role_required
@require_POST
def campaign_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _campaign_action(
        request, pk, services.campaign_cancel, _("Cancelled. Answers already given are kept.")
    )


@role_required
@require_POST
def campaign_delete(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _visible_campaign(request, pk)
    try:
        services.campaign_delete_draft(campaign=campaign, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(campaign)
    messages.success(request, _("Draft deleted."))
    return redirect("feedback:campaign_list")


@role_required
@require_GET
def campaign_invitations(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _visible_campaign(request, pk)
    form = InvitationFilterForm(request.GET or None)
    rows = selectors.invitation_rows(campaign=campaign, **form.values())
    page, query = _page(request, rows, 50)
    context = {"campaign": campaign, "form": form, "page": page, "query": query}
    template = "feedback/invitations.html#results" if _partial(request) else "feedback/invitations.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# ---------------------------------------------------------------- surveys


def _surveys_with_questions():
    return Survey.objects.prefetch_related(
        Prefetch("questions", queryset=Question.objects.order_by("position")),
        Prefetch("questions__choices", queryset=Choice.objects.order_by("position")),
    )


@role_required
@require_GET
def survey_list(request: HttpRequest) -> HttpResponse:
    surveys = list(_surveys_with_questions().order_by("-is_active", "kind", "name"))
    return render(request, "feedback/survey_list.html", {"surveys": surveys})


@role_required
@require_GET
def survey_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The respondent's page as a customer would see it, in any language (nothing can be sent)."""
    survey = get_object_or_404(_surveys_with_questions(), pk=pk)
    language = request.GET.get("lang") if request.GET.get("lang") in LANGUAGES else "en"
    score = request.GET.get("score")
    with translation.override(language):
        form = SurveyAnswerForm(initial={"score": score}, survey=survey, language=language)
        context = {
            "survey": survey,
            "form": form,
            "language": language,
            "languages": settings.LANGUAGES,
            "points": emails.scale_points(survey),
            "points_html": points_html(
                [{**p, "band": band_for(survey.kind, p["value"])} for p in emails.scale_points(survey)], None
            ),
            "preview": True,
            "follow_ups": {
                band: survey.follow_up_text(band, language) for band in ("detractor", "passive", "promoter")
            },
        }
        return render(request, "feedback/public/answer.html", context)


# ---------------------------------------------------------------- analysis, comments, follow-ups


@role_required
@require_GET
def analysis(request: HttpRequest) -> HttpResponse:
    form = AnalysisForm(request.GET or None, user=request.user)
    filters = selectors.AnalysisFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = selectors.AnalysisFilters(
            kind=data.get("kind") or SurveyKind.NPS,
            start=data.get("start"),
            end=data.get("end"),
            campaign_id=data["campaign"].pk if data.get("campaign") else None,
            segment=data.get("segment") or "",
            tier=data.get("tier") or "",
            plan=(data.get("plan") or "").strip(),
            owner_id=data["owner"].pk if data.get("owner") else None,
            cohort=data.get("cohort") or "",
        )
    result = None
    if not form.is_bound or form.is_valid():
        result = selectors.analysis(
            user=request.user,
            filters=filters,
            labels={
                "segment": _("Segment"),
                "tier": _("Tier"),
                "plan": _("Plan"),
                "owner": _("Owner"),
                "cohort": _("Signup cohort"),
                "owners": {"": _("unassigned")},
            },
        )
    context = {
        "form": form,
        "result": result,
        "chart": _trend_chart(result) if result else None,
        "loop": selectors.loop_stats(user=request.user),
    }
    return render(request, "feedback/analysis.html", context)


def _trend_chart(result: selectors.Analysis) -> dict:
    """Bars of the monthly figure, drawn as SVG attributes (no inline styles)."""
    kind = result.filters.kind
    low, high = {SurveyKind.NPS: (-100, 100), SurveyKind.CSAT: (0, 100), SurveyKind.CES: (1, 7)}[kind]
    width, height = 24, 100
    zero = 0 if kind == SurveyKind.NPS else low
    bars = []
    for index, (month, metric) in enumerate(result.months):
        value = metric.value
        x = index * width + 4
        if value is None:
            bars.append({"x": x, "month": month, "metric": metric, "empty": True})
            continue
        scale = height / (high - low)
        y_zero = height - (zero - low) * scale
        y_value = height - (value - low) * scale
        top, bottom = min(y_zero, y_value), max(y_zero, y_value)
        bars.append(
            {
                "x": x,
                "y": round(top, 1),
                "h": round(max(bottom - top, 1), 1),
                "month": month,
                "metric": metric,
                "negative": value < zero,
            }
        )
    return {
        "bars": bars,
        "width": max(len(result.months) * width + 8, 100),
        "zero_y": round(height - (zero - low) * height / (high - low), 1),
    }


@role_required
@require_GET
def comments(request: HttpRequest) -> HttpResponse:
    form = VerbatimForm(request.GET or None)
    rows = selectors.verbatims(user=request.user, **form.values())
    page, query = _page(request, rows)
    context = {"form": form, "page": page, "query": query}
    response = render(
        request, "feedback/comments.html#results" if _partial(request) else "feedback/comments.html", context
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


@role_required
@require_GET
def follow_up_list(request: HttpRequest) -> HttpResponse:
    form = FollowUpFilterForm(request.GET or None)
    state, q = "open", ""
    if form.is_bound and form.is_valid():
        state, q = form.cleaned_data.get("state") or "open", form.cleaned_data.get("q") or ""
    rows = selectors.follow_up_rows(user=request.user, state=state, q=q)
    page, query = _page(request, rows)
    context = {
        "form": form,
        "page": page,
        "query": query,
        "state": state,
        "close_form": FollowUpCloseForm(),
        "loop": selectors.loop_stats(user=request.user),
    }
    return render(request, "feedback/follow_ups.html", context)


@role_required
@require_POST
def follow_up_close(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = get_object_or_404(
        selectors.visible_follow_ups(request.user).select_related(
            "account", "owner", "response__contact", "task"
        ),
        pk=pk,
    )
    form = FollowUpCloseForm(request.POST)
    if form.is_valid():
        try:
            follow_up = services.follow_up_close(
                follow_up=follow_up,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
                by=request.user,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
    if request.htmx:
        follow_up = (
            selectors.visible_follow_ups(request.user)
            .select_related("account", "owner", "response__contact", "task", "closed_by")
            .get(pk=follow_up.pk)
        )
        return render(
            request,
            "feedback/follow_ups.html#follow-up-row",
            {
                "item": follow_up,
                "close_form": form if form.errors else FollowUpCloseForm(),
                "just_closed": not form.errors,
            },
        )
    if form.errors:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    else:
        messages.success(request, _("Loop closed."))
    return redirect(reverse("feedback:follow_up_list"))


@role_required
@require_GET
def account_answers(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account.objects.visible_to(request.user), pk=pk)
    rows = (
        selectors.visible_responses(request.user)
        .filter(account=account)
        .select_related("contact", "campaign", "follow_up_record")
        .order_by("-answered_at", "-id")
    )
    page, query = _page(request, rows)
    metrics = selectors.metrics_all(
        responses=selectors.visible_responses(request.user).filter(account=account)
    )
    return render(
        request,
        "feedback/account_answers.html",
        {"account": account, "page": page, "query": query, "metrics": metrics},
    )


# ---------------------------------------------------------------- suppression list


@role_required
@require_http_methods(["GET", "POST"])
def suppression_list(request: HttpRequest) -> HttpResponse:
    _managers_only(request)
    form = SuppressionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.suppression_add(
                email=form.cleaned_data["email"],
                reason=Suppression.Reason.MANUAL,
                detail=form.cleaned_data["detail"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request, _("%(email)s gets no more surveys.") % {"email": form.cleaned_data["email"]}
            )
            return redirect("feedback:suppression_list")
    q = (request.GET.get("q") or "").strip()[:100]
    rows = Suppression.objects.order_by("-created_at", "-pk")
    if q:
        rows = rows.filter(email__icontains=q)
    page, query = _page(request, rows, 50)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "feedback/suppressions.html",
        {"form": form, "page": page, "query": query, "q": q},
        status=status,
    )


@role_required
@require_POST
def suppression_remove(request: HttpRequest, pk: int) -> HttpResponse:
    _managers_only(request)
    suppression = get_object_or_404(Suppression, pk=pk)
    services.suppression_remove(suppression=suppression, by=request.user)
    messages.success(request, _("%(email)s may get surveys again.") % {"email": suppression.email})
    return redirect("feedback:suppression_list")


# ---------------------------------------------------------------- development outbox


def _outbox_enabled() -> None:
    if not settings.DEBUG:
        raise Http404


@role_required
@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    """The local run's mailbox: every survey email sent, as its recipient got it (DEBUG only)."""
    _outbox_enabled()
    rows = (
        selectors.visible_invitations(request.user)
        .filter(status=InvitationStatus.SENT)
        .select_related("contact", "campaign")
        .order_by("-sent_at", "-id")
    )
    page, query = _page(request, rows, 50)
    return render(request, "feedback/outbox.html", {"page": page, "query": query})


def _outbox_invitation(request: HttpRequest, pk: int) -> Invitation:
    _outbox_enabled()
    return get_object_or_404(
        selectors.visible_invitations(request.user)
        .filter(status=InvitationStatus.SENT)
        .select_related("contact", "campaign__survey"),
        pk=pk,
    )


@role_required
@require_GET
def outbox_message(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = _outbox_invitation(request, pk)
    message = emails.build_message(
        invitation, invitation.campaign.survey, reminder=request.GET.get("reminder") == "1"
    )
    return render(
        request,
        "feedback/outbox_message.html",
        {"invitation": invitation, "message": message, "headers": message.extra_headers},
    )


@role_required
@require_GET
def outbox_message_html(request: HttpRequest, pk: int) -> HttpResponse:
    """The HTML part on its own. Email HTML needs inline styles: this response alone allows them."""
    invitation = _outbox_invitation(request, pk)
    message = emails.build_message(
        invitation, invitation.campaign.survey, reminder=request.GET.get("reminder") == "1"
    )
    html = message.alternatives[0][0]
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response._csp_update = {"style-src": ["'unsafe-inline'"]}
    return response
