"""Thin HTTP for onboarding: the board, the plan page and its inline (htmx) edits, the managers'
templates, and the customer's shared plan. Parse, call a service or selector, render a page or
a partial. htmx requests get 200 with the errors in place (htmx swaps 2xx only); plain posts
get the whole page back with the errors and 422.

Access: a CSM sees only their own accounts' plans (another CSM's is a 404, page and partial);
managers and admins see all and edit templates; a person without a role gets 403.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Account
from cs_app import ratelimit
from team.decorators import role_required

from . import selectors, services
from .forms import (
    BoardFilterForm,
    CriteriaReviewForm,
    CriterionForm,
    ExpectationsForm,
    FunnelForm,
    MilestoneForm,
    MilestoneStatusForm,
    ShareLinkForm,
    ShiftForm,
    StartPlanForm,
    SwitchTemplateForm,
    TemplateForm,
    TemplateMilestoneForm,
)
from .models import (
    Milestone,
    MilestoneStatus,
    MilestoneTemplate,
    OnboardingPlan,
    PlanTemplate,
    ShareLink,
    SuccessCriterion,
)

PAGE_SIZE = 25


# ---------------------------------------------------------------- helpers


def _partial(request: HttpRequest) -> bool:
    return bool(request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request)


def _visible_account(request: HttpRequest, pk: int) -> Account:
    """The account if this user may see it; 404 otherwise (never reveal that it exists)."""
    return get_object_or_404(Account.objects.visible_to(request.user).select_related("owner"), pk=pk)


def _visible_plan(request: HttpRequest, pk: int) -> tuple[Account, OnboardingPlan]:
    account = _visible_account(request, pk)
    return account, get_object_or_404(OnboardingPlan, account=account)


def _visible_milestone(request: HttpRequest, pk: int) -> Milestone:
    visible = Account.objects.visible_to(request.user).values("pk")
    return get_object_or_404(
        Milestone.objects.filter(plan__account__in=visible).select_related("plan__account", "done_by"), pk=pk
    )


def _visible_criterion(request: HttpRequest, pk: int) -> SuccessCriterion:
    visible = Account.objects.visible_to(request.user).values("pk")
    return get_object_or_404(
        SuccessCriterion.objects.filter(plan__account__in=visible).select_related("plan__account"), pk=pk
    )


def _apply_errors(form, exc: ValidationError) -> None:
    for name, errors in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def _errors_text(form) -> str:
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        parts.append(f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return " ".join(parts)


def _plan_url(account_id: int, anchor: str = "") -> str:
    return reverse("onboarding:plan", args=[account_id]) + (f"#{anchor}" if anchor else "")


def _require_manager(request: HttpRequest) -> None:
    if not request.user.sees_all_accounts:
        raise PermissionDenied


def _decorate(milestones, today, celebrated) -> None:
    for milestone in milestones:
        milestone.overdue = milestone.is_overdue(today)
        milestone.celebrated = celebrated.get(milestone.pk, 0)
        milestone.status_choices = MilestoneStatus.choices


# ---------------------------------------------------------------- the plan page


def _plan_context(request: HttpRequest, account: Account, **extra) -> dict:
    """The whole plan page: ten queries whatever the plan's size (see selectors.plan_page)."""
    today = timezone.localdate()
    page = selectors.plan_page(account=account, today=today)
    templates = list(PlanTemplate.objects.filter(is_active=True).order_by("name"))
    context: dict = {"account": account, "today": today, "page": page, "templates": templates}
    if page is None:
        start_form = StartPlanForm(account=account)
        start_form.fields["template"].choices = [
            ("", start_form.fields["template"].empty_label),
            *[(t.pk, t.name) for t in templates],
        ]
        context["start_form"] = start_form
        return {**context, **extra}
    plan = page.plan
    _decorate(page.milestones, today, page.celebrated)
    contacts = list(account.contacts.order_by("name"))
    context.update(
        plan=plan,
        summary=page.summary,
        milestones=page.milestones,
        criteria=page.criteria,
        share_link=page.share_link,
        share_url=request.build_absolute_uri(
            reverse("onboarding:shared", args=[services.share_link_token(page.share_link)])
        )
        if page.share_link
        else "",
        switch_form=SwitchTemplateForm(templates=[t for t in templates if t.pk != plan.template_id]),
        shift_form=ShiftForm(initial={"start_date": plan.start_date}),
        expectations_form=ExpectationsForm(initial={"expectations": plan.expectations}),
        milestone_form=MilestoneForm(row="new", initial={"due_date": max(today, plan.start_date)}),
        criterion_form=CriterionForm(row="newc"),
        review_form=CriteriaReviewForm(),
        share_form=ShareLinkForm(account=account, contacts=contacts),
        contacts=contacts,
    )
    if extra.get("editing_milestone"):
        for milestone in page.milestones:
            if milestone.pk == extra["editing_milestone"]:
                milestone.editing = True
                milestone.form = extra.get("edit_form") or _milestone_form(milestone)
    if extra.get("editing_criterion"):
        for criterion in page.criteria:
            if criterion.pk == extra["editing_criterion"]:
                criterion.editing = True
                criterion.form = extra.get("criterion_edit_form") or _criterion_form(criterion)
    if extra.get("status_error"):
        milestone_id, text = extra["status_error"]
        for milestone in page.milestones:
            if milestone.pk == milestone_id:
                milestone.row_error = text
    return {**context, **extra}


def _plan_page(request: HttpRequest, account: Account, *, status: int = 200, **extra) -> HttpResponse:
    return render(request, "onboarding/plan.html", _plan_context(request, account, **extra), status=status)


@role_required
@require_GET
def plan(request: HttpRequest, pk: int) -> HttpResponse:
    account = _visible_account(request, pk)
    return _plan_page(request, account)


@role_required
@require_POST
def plan_start(request: HttpRequest, pk: int) -> HttpResponse:
    account = _visible_account(request, pk)
    form = StartPlanForm(request.POST, account=account)
    if form.is_valid():
        try:
            services.plan_start(
                account=account,
                template=form.cleaned_data["template"],
                start_date=form.cleaned_data["start_date"],
                by=request.user,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
    if form.errors:
        return _plan_page(request, account, status=422, start_form=form)
    messages.success(request, _("Onboarding plan started."))
    return redirect(_plan_url(account.pk))


@role_required
@require_POST
def plan_switch(request: HttpRequest, pk: int) -> HttpResponse:
    account, plan = _visible_plan(request, pk)
    form = SwitchTemplateForm(request.POST)
    if form.is_valid():
        try:
            services.plan_switch_template(plan=plan, template=form.cleaned_data["template"], by=request.user)
        except ValidationError as exc:
            _apply_errors(form, exc)
    if form.errors:
        return _plan_page(request, account, status=422, switch_form=form, open_settings=True)
    messages.success(
        request,
        _("The plan now follows “%(template)s”; milestones already done were kept.")
        % {"template": form.cleaned_data["template"].name},
    )
    return redirect(_plan_url(account.pk))


@role_required
@require_POST
def plan_shift(request: HttpRequest, pk: int) -> HttpResponse:
    account, plan = _visible_plan(request, pk)
    form = ShiftForm(request.POST)
    if form.is_valid():
        try:
            shifted = services.plan_shift(
                plan=plan, start_date=form.cleaned_data["start_date"], by=request.user
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
    if form.errors:
        return _plan_page(request, account, status=422, shift_form=form, open_settings=True)
    days = (shifted.start_date - plan.start_date).days
    messages.success(
        request,
        _("Dates moved by %(days)s days; the plan now starts on %(day)s.")
        % {"days": days, "day": shifted.start_date.isoformat()},
    )
    return redirect(_plan_url(account.pk))


@role_required
@require_POST
def plan_delete(request: HttpRequest, pk: int) -> HttpResponse:
    account, plan = _visible_plan(request, pk)
    services.plan_delete(plan=plan, by=request.user)
    messages.success(
        request, _("The onboarding plan of %(account)s was deleted.") % {"account": account.name}
    )
    return redirect(_plan_url(account.pk))


# ---------------------------------------------------------------- expectations


@role_required
@require_http_methods(["GET", "POST"])
def expectations(request: HttpRequest, pk: int) -> HttpResponse:
    account, plan = _visible_plan(request, pk)
    if request.method == "GET":
        form = ExpectationsForm(initial={"expectations": plan.expectations})
        if _partial(request):
            return render(
                request,
                "onboarding/plan.html#expectations",
                {"account": account, "plan": plan, "expectations_form": form, "editing_expectations": True},
            )
        return _plan_page(request, account, editing_expectations=True)
    form = ExpectationsForm(request.POST)
    if form.is_valid():
        try:
            plan = services.plan_expectations_set(
                plan=plan, expectations=form.cleaned_data["expectations"], by=request.user
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
    if form.errors:
        if _partial(request):
            return render(
                request,
                "onboarding/plan.html#expectations",
                {"account": account, "plan": plan, "expectations_form": form, "editing_expectations": True},
            )
        return _plan_page(request, account, status=422, expectations_form=form, editing_expectations=True)
    if _partial(request):
        return render(
            request, "onboarding/plan.html#expectations", {"account": account, "plan": plan, "saved": True}
        )
    messages.success(request, _("Expectations saved."))
    return redirect(_plan_url(account.pk, "expectations"))


# ---------------------------------------------------------------- milestones


def _milestone_form(milestone: Milestone, data=None) -> MilestoneForm:
    initial = {name: getattr(milestone, name) for name in services.MILESTONE_FIELDS}
    return MilestoneForm(data, row=f"m{milestone.pk}", initial=initial)


def _summary_oob(plan: OnboardingPlan, account: Account) -> dict:
    return {
        "summary": selectors.plan_summary(plan=plan),
        "plan": plan,
        "account": account,
        "oob": True,
    }


def _row_response(
    request: HttpRequest, milestone: Milestone, *, with_summary: bool = True, **extra
) -> HttpResponse:
    today = timezone.localdate()
    plan = milestone.plan
    account = plan.account
    celebrated = dict(
        milestone.celebrations.filter(status="sent")
        .values("milestone_id")
        .annotate(n=Count("id"))
        .values_list("milestone_id", "n")
    )
    _decorate([milestone], today, celebrated)
    for name, value in extra.items():
        setattr(milestone, name, value)
    context = {"m": milestone, "account": account, "today": today}
    if with_summary:
        context.update(_summary_oob(plan, account))
    return render(request, "onboarding/plan.html#milestone-row-oob", context)


def _milestones_response(
    request: HttpRequest, account: Account, plan: OnboardingPlan, **extra
) -> HttpResponse:
    today = timezone.localdate()
    milestones = list(plan.milestones.select_related("done_by").order_by("position", "pk"))
    celebrated = dict(
        Milestone.objects.filter(plan=plan, celebrations__status="sent")
        .values("pk")
        .annotate(n=Count("celebrations"))
        .values_list("pk", "n")
    )
    _decorate(milestones, today, celebrated)
    context = {
        "account": account,
        "plan": plan,
        "milestones": milestones,
        "today": today,
        "milestone_form": extra.pop("milestone_form", None)
        or MilestoneForm(row="new", initial={"due_date": max(today, plan.start_date)}),
        **_summary_oob(plan, account),
        **extra,
    }
    return render(request, "onboarding/plan.html#milestones-oob", context)


@role_required
@require_POST
def milestone_add(request: HttpRequest, pk: int) -> HttpResponse:
    account, plan = _visible_plan(request, pk)
    form = MilestoneForm(request.POST, row="new")
    if form.is_valid():
        try:
            services.milestone_add(plan=plan, data=form.cleaned_data, by=request.user)
        except ValidationError as exc:
            _apply_errors(form, exc)
    if form.errors:
        if _partial(request):
            return _milestones_response(request, account, plan, milestone_form=form, add_open=True)
        return _plan_page(request, account, status=422, milestone_form=form, add_open=True)
    if _partial(request):
        return _milestones_response(request, account, plan, added=form.cleaned_data["name"])
    messages.success(request, _("Milestone added."))
    return redirect(_plan_url(account.pk, "milestones"))


@role_required
@require_GET
def milestone_row(request: HttpRequest, pk: int) -> HttpResponse:
    """One milestone's row (the "cancel" of an inline edit)."""
    milestone = _visible_milestone(request, pk)
    if not _partial(request):
        return redirect(_plan_url(milestone.plan.account_id, f"milestone-{milestone.pk}"))
    return _row_response(request, milestone, with_summary=False)


@role_required
@require_http_methods(["GET", "POST"])
def milestone_edit(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = _visible_milestone(request, pk)
    account = milestone.plan.account
    if request.method == "GET":
        if _partial(request):
            return _row_response(
                request, milestone, with_summary=False, editing=True, form=_milestone_form(milestone)
            )
        return _plan_page(request, account, editing_milestone=milestone.pk)
    form = _milestone_form(milestone, request.POST)
    if form.is_valid():
        try:
            milestone = services.milestone_update(
                milestone=milestone, data=form.cleaned_data, by=request.user
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
    if form.errors:
        if _partial(request):
            return _row_response(request, milestone, with_summary=False, editing=True, form=form)
        return _plan_page(request, account, status=422, editing_milestone=milestone.pk, edit_form=form)
    if _partial(request):
        milestone = _visible_milestone(request, pk)
        return _row_response(request, milestone, notice=_("Saved."))
    messages.success(request, _("Milestone saved."))
    return redirect(_plan_url(account.pk, f"milestone-{milestone.pk}"))


@role_required
@require_POST
def milestone_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Tick a milestone done (today by default), or set it in progress, blocked or back."""
    milestone = _visible_milestone(request, pk)
    account = milestone.plan.account
    form = MilestoneStatusForm(request.POST)  # the row renders its fields by hand, unprefixed
    error = ""
    notice = ""
    if form.is_valid():
        status = form.cleaned_data["status"]
        done_on = form.cleaned_data["done_on"]
        if status == MilestoneStatus.DONE and done_on is None and request.POST.get("tick"):
            done_on = timezone.localdate()  # the tick button: done today
        try:
            milestone = services.milestone_status_set(
                milestone=milestone,
                status=status,
                done_on=done_on,
                blocked_reason=form.cleaned_data["blocked_reason"],
                by=request.user,
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            notice = (
                _("Done. Well played!") if milestone.status == MilestoneStatus.DONE else _("Status saved.")
            )
    else:
        error = _errors_text(form)
    if _partial(request):
        milestone = _visible_milestone(request, pk)
        return _row_response(request, milestone, row_error=error, notice=notice)
    if error:
        return _plan_page(request, account, status=422, status_error=(milestone.pk, error))
    messages.success(request, notice)
    return redirect(_plan_url(account.pk, f"milestone-{milestone.pk}"))


@role_required
@require_POST
def milestone_move(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = _visible_milestone(request, pk)
    plan = milestone.plan
    try:
        services.milestone_move(
            milestone=milestone, direction=request.POST.get("direction", ""), by=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    if _partial(request):
        return _milestones_response(request, plan.account, plan, moved=milestone.pk)
    return redirect(_plan_url(plan.account_id, f"milestone-{milestone.pk}"))


@role_required
@require_POST
def milestone_remove(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = _visible_milestone(request, pk)
    plan = milestone.plan
    services.milestone_remove(milestone=milestone, by=request.user)
    if _partial(request):
        plan.refresh_from_db()
        return _milestones_response(request, plan.account, plan, removed=milestone.name)
    messages.success(request, _("Milestone “%(name)s” removed.") % {"name": milestone.name})
    return redirect(_plan_url(plan.account_id, "milestones"))


# ---------------------------------------------------------------- success criteria


def _criterion_form(criterion: SuccessCriterion, data=None) -> CriterionForm:
    initial = {name: getattr(criterion, name) for name in services.CRITERION_FIELDS}
    return CriterionForm(data, row=f"c{criterion.pk}", initial=initial)


def _criteria_response(request: HttpRequest, account: Account, plan: OnboardingPlan, **extra) -> HttpResponse:
    criteria = list(plan.criteria.order_by("created_at", "pk"))
    editing = extra.pop("editing", None)
    edit_form = extra.pop("edit_form", None)
    for criterion in criteria:
        if criterion.pk == editing:
            criterion.editing = True
            criterion.form = edit_form or _criterion_form(criterion)
    context = {
        "account": account,
        "plan": plan,
        "criteria": criteria,
        "criterion_form": extra.pop("criterion_form", None) or CriterionForm(row="newc"),
        "review_form": CriteriaReviewForm(),
        **extra,
    }
    return render(request, "onboarding/plan.html#criteria", context)


@role_required
@require_POST
def criterion_add(request: HttpRequest, pk: int) -> HttpResponse:
    account, plan = _visible_plan(request, pk)
    form = CriterionForm(request.POST, row="newc")
    if form.is_valid():
        try:
            services.criterion_add(plan=plan, data=form.cleaned_data, by=request.user)
        except ValidationError as exc:
            _apply_errors(form, exc)
    if form.errors:
        if _partial(request):
            return _criteria_response(request, account, plan, criterion_form=form, criterion_open=True)
        return _plan_page(request, account, status=422, criterion_form=form, criterion_open=True)
    if _partial(request):
        return _criteria_response(request, account, plan, notice=_("Success criterion added."))
    messages.success(request, _("Success criterion added."))
    return redirect(_plan_url(account.pk, "criteria"))


@role_required
@require_http_methods(["GET", "POST"])
def criterion_edit(request: HttpRequest, pk: int) -> HttpResponse:
    criterion = _visible_criterion(request, pk)
    plan = criterion.plan
    account = plan.account
    if request.method == "GET":
        if _partial(request):
            return _criteria_response(request, account, plan, editing=criterion.pk)
        return _plan_page(request, account, editing_criterion=criterion.pk)
    form = _criterion_form(criterion, request.POST)
    if form.is_valid():
        try:
            services.criterion_update(criterion=criterion, data=form.cleaned_data, by=request.user)
        except ValidationError as exc:
            _apply_errors(form, exc)
    if form.errors:
        if _partial(request):
            return _criteria_response(request, account, plan, editing=criterion.pk, edit_form=form)
        return _plan_page(
            request, account, status=422, editing_criterion=criterion.pk, criterion_edit_form=form
        )
    if _partial(request):
        return _criteria_response(request, account, plan, notice=_("Success criterion saved."))
    messages.success(request, _("Success criterion saved."))
    return redirect(_plan_url(account.pk, "criteria"))


@role_required
@require_POST
def criterion_remove(request: HttpRequest, pk: int) -> HttpResponse:
    criterion = _visible_criterion(request, pk)
    plan = criterion.plan
    services.criterion_remove(criterion=criterion, by=request.user)
    if _partial(request):
        return _criteria_response(request, plan.account, plan, notice=_("Success criterion removed."))
    messages.success(request, _("Success criterion removed."))
    return redirect(_plan_url(plan.account_id, "criteria"))


@role_required
@require_POST
def criteria_review(request: HttpRequest, pk: int) -> HttpResponse:
    account, plan = _visible_plan(request, pk)
    form = CriteriaReviewForm(request.POST)
    if form.is_valid():
        try:
            plan = services.criteria_review(
                plan=plan,
                by=request.user,
                note=form.cleaned_data["note"],
                log_touchpoint=form.cleaned_data["log_touchpoint"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
    if form.errors:
        if _partial(request):
            return _criteria_response(request, account, plan, review_error=_errors_text(form))
        return _plan_page(request, account, status=422, review_error=_errors_text(form))
    notice = _("Review recorded for today.")
    if form.cleaned_data["log_touchpoint"]:
        notice = _("Review recorded for today and logged as a QBR on the timeline.")
    if _partial(request):
        return _criteria_response(request, account, plan, notice=notice)
    messages.success(request, notice)
    return redirect(_plan_url(account.pk, "criteria"))


# ---------------------------------------------------------------- share links


@role_required
@require_POST
def share_create(request: HttpRequest, pk: int) -> HttpResponse:
    account, plan = _visible_plan(request, pk)
    form = ShareLinkForm(request.POST, account=account)
    if form.is_valid():
        try:
            services.share_link_create(
                plan=plan,
                by=request.user,
                contact=form.cleaned_data["contact"],
                language=form.cleaned_data["language"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
    if form.errors:
        return _plan_page(request, account, status=422, share_form=form)
    messages.success(
        request, _("Link created. Copy it and send it to the customer; you can revoke it any time.")
    )
    return redirect(_plan_url(account.pk, "share"))


@role_required
@require_POST
def share_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    visible = Account.objects.visible_to(request.user).values("pk")
    link = get_object_or_404(
        ShareLink.objects.filter(plan__account__in=visible).select_related("plan"), pk=pk
    )
    services.share_link_revoke(link=link, by=request.user)
    messages.success(request, _("The link is revoked: it no longer opens the plan."))
    return redirect(_plan_url(link.plan.account_id, "share"))


# ---------------------------------------------------------------- the customer's shared plan


SHARED_PAGE_LIMIT = 120  # opens per minute per address: a customer never comes close; guessing does


def _public_headers(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    patch_vary_headers(response, ["Accept-Language"])
    return response


@require_GET
def shared_plan(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's read-only view: progress, their milestones and the success criteria, in
    their language. Unknown, forged and revoked links are all the same 404."""
    if not ratelimit.allow(request, "onboarding-shared", SHARED_PAGE_LIMIT):
        response = HttpResponse(_("Too many requests; try again in a minute."), status=429)
        response["Retry-After"] = "60"
        return _public_headers(response)
    link = services.share_link_resolve(token=token)
    languages = dict(settings.LANGUAGES)
    wanted = request.GET.get("lang", "")
    language = wanted if wanted in languages else (link.language if link else settings.LANGUAGE_CODE)
    if language not in languages:
        language = settings.LANGUAGE_CODE
    with translation.override(language):
        if link is None:
            response = render(request, "onboarding/public/not_found.html", {"language": language}, status=404)
            return _public_headers(response)
        context = {
            **selectors.shared_plan(link=link),
            "language": language,
            "languages": settings.LANGUAGES,
            "token": token,
        }
        response = render(request, "onboarding/public/plan.html", context)
    services.share_link_viewed(link=link)
    return _public_headers(response)


# ---------------------------------------------------------------- the board


@role_required
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    form = BoardFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    rows = selectors.board_rows(user=request.user, filters=filters, today=today)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    plans = list(page.object_list)
    selectors.board_summaries(plans, today=today)
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "form": form,
        "filters": filters,
        "page": page,
        "plans": plans,
        "today": today,
        "params": params.urlencode(),
        "counts": selectors.board_counts(user=request.user, today=today),
        "shows_owner": request.user.sees_all_accounts,
    }
    if _partial(request) and request.GET.get("section") == "funnel":
        return render(request, "onboarding/board.html#funnel", {**context, **_insights(request)})
    if _partial(request):
        response = render(request, "onboarding/board.html#results", context)
    else:
        if request.user.sees_all_accounts:
            context.update(_insights(request))
        response = render(request, "onboarding/board.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


ROW = 28  # px per bar in the SVG charts


def _bars(groups) -> dict:
    """Horizontal bars for an SVG chart (attributes only: no inline styles under the CSP)."""
    values = [g.median_days for g in groups if g.median_days is not None]
    peak = max(values, default=0) or 1
    rows = [
        {
            "group": g,
            "y": index * ROW + 3,
            "width": round((g.median_days or 0) / peak * 260, 1),
            "text_y": index * ROW + 16,
            "value_x": round((g.median_days or 0) / peak * 260 + 206, 1),
        }
        for index, g in enumerate(groups)
    ]
    return {"rows": rows, "height": len(rows) * ROW + 4}


def _insights(request: HttpRequest) -> dict:
    """Managers: time-to-value by segment and by signup cohort, and a template's funnel."""
    if not request.user.sees_all_accounts:
        raise PermissionDenied
    templates = list(PlanTemplate.objects.annotate(n_plans=Count("plans")).order_by("name"))
    funnel_form = FunnelForm(request.GET or None, templates=templates)
    chosen = None
    if funnel_form.is_bound and funnel_form.is_valid():
        chosen = funnel_form.cleaned_data["funnel"]
    if chosen is None and templates:  # the template most plans use
        chosen = max(templates, key=lambda t: (t.n_plans, t.is_active, -t.pk))
        funnel_form = FunnelForm(initial={"funnel": chosen.pk}, templates=templates)
    funnel = selectors.template_funnel(template=chosen) if chosen else None
    ttv = selectors.time_to_value_report(by=("all", "segment", "cohort"))
    by_segment, by_cohort, overall = ttv["segment"], ttv["cohort"], ttv["all"]
    funnel_bars = []
    if funnel:
        for index, step in enumerate(funnel.steps):
            width = round((step.percent or 0) * 2.6, 1)
            funnel_bars.append(
                {
                    "step": step,
                    "y": index * ROW + 3,
                    "text_y": index * ROW + 16,
                    "width": width,
                    "value_x": round(width + 206, 1),
                }
            )
    return {
        "funnel_form": funnel_form,
        "funnel": funnel,
        "funnel_bars": funnel_bars,
        "funnel_height": len(funnel_bars) * ROW + 4,
        "ttv_overall": overall[0] if overall else None,
        "ttv_segment": by_segment,
        "ttv_segment_bars": _bars(by_segment),
        "ttv_cohort": by_cohort[-12:],
        "ttv_cohort_bars": _bars(by_cohort[-12:]),
    }


# ---------------------------------------------------------------- templates (managers)


@role_required
@require_GET
def template_list(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    templates = PlanTemplate.objects.annotate(
        n_milestones=Count("milestones", distinct=True),
        n_plans=Count("plans", distinct=True),
        n_open=Count("plans", filter=Q(plans__completed_at__isnull=True), distinct=True),
    ).order_by("-is_active", "name")
    return render(request, "onboarding/templates.html", {"templates": list(templates)})


@role_required
@require_http_methods(["GET", "POST"])
def template_create(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = TemplateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                template = services.template_create(data=form.cleaned_data, by=request.user)
            except ValidationError as exc:
                _apply_errors(form, exc)
        if not form.errors:
            messages.success(request, _("Template created. Now add its milestones."))
            return redirect("onboarding:template", pk=template.pk)
        return render(request, "onboarding/template_form.html", {"form": form}, status=422)
    return render(request, "onboarding/template_form.html", {"form": form})


def _template_context(template: PlanTemplate, **extra) -> dict:
    milestones = list(template.milestones.order_by("position", "pk"))
    editing = extra.pop("editing", None)
    edit_form = extra.pop("edit_form", None)
    for milestone in milestones:
        if milestone.pk == editing:
            milestone.editing = True
            milestone.form = edit_form or TemplateMilestoneForm(
                row=f"t{milestone.pk}",
                initial={name: getattr(milestone, name) for name in services.TEMPLATE_MILESTONE_FIELDS},
            )
    return {
        "template": template,
        "milestones": milestones,
        "total_weight": sum(m.weight for m in milestones),
        "last_day": max((m.due_day for m in milestones), default=0),
        "tmilestone_form": extra.pop("tmilestone_form", None) or TemplateMilestoneForm(row="newt"),
        **extra,
    }


@role_required
@require_http_methods(["GET", "POST"])
def template_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    template = get_object_or_404(PlanTemplate, pk=pk)
    fields = services.TEMPLATE_FIELDS
    form = TemplateForm(request.POST or None, initial={name: getattr(template, name) for name in fields})
    if request.method == "POST":
        if form.is_valid():
            try:
                template = services.template_update(
                    template=template, data=form.cleaned_data, by=request.user
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
        if not form.errors:
            messages.success(request, _("Template saved."))
            return redirect("onboarding:template", pk=template.pk)
        template.refresh_from_db()
        return render(
            request, "onboarding/template.html", {"form": form, **_template_context(template)}, status=422
        )
    plans = template.plans.count()
    return render(
        request, "onboarding/template.html", {"form": form, "plans": plans, **_template_context(template)}
    )


def _tmilestones_response(request: HttpRequest, template: PlanTemplate, **extra) -> HttpResponse:
    return render(request, "onboarding/template.html#tmilestones", _template_context(template, **extra))


@role_required
@require_POST
def template_milestone_add(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    template = get_object_or_404(PlanTemplate, pk=pk)
    form = TemplateMilestoneForm(request.POST, row="newt")
    if form.is_valid():
        try:
            services.template_milestone_add(template=template, data=form.cleaned_data, by=request.user)
        except ValidationError as exc:
            _apply_errors(form, exc)
    if form.errors:
        if _partial(request):
            return _tmilestones_response(request, template, tmilestone_form=form, add_open=True)
        context = {"form": TemplateForm(initial={n: getattr(template, n) for n in services.TEMPLATE_FIELDS})}
        context.update(_template_context(template, tmilestone_form=form, add_open=True))
        return render(request, "onboarding/template.html", context, status=422)
    if _partial(request):
        return _tmilestones_response(request, template, notice=_("Milestone added."))
    messages.success(request, _("Milestone added."))
    return redirect("onboarding:template", pk=template.pk)


@role_required
@require_http_methods(["GET", "POST"])
def template_milestone_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    milestone = get_object_or_404(MilestoneTemplate.objects.select_related("template"), pk=pk)
    template = milestone.template
    if request.method == "GET":
        if _partial(request):
            return _tmilestones_response(request, template, editing=milestone.pk)
        context = {"form": TemplateForm(initial={n: getattr(template, n) for n in services.TEMPLATE_FIELDS})}
        context.update(_template_context(template, editing=milestone.pk))
        return render(request, "onboarding/template.html", context)
    form = TemplateMilestoneForm(request.POST, row=f"t{milestone.pk}")
    if form.is_valid():
        try:
            services.template_milestone_update(milestone=milestone, data=form.cleaned_data, by=request.user)
        except ValidationError as exc:
            _apply_errors(form, exc)
    if form.errors:
        if _partial(request):
            return _tmilestones_response(request, template, editing=milestone.pk, edit_form=form)
        context = {"form": TemplateForm(initial={n: getattr(template, n) for n in services.TEMPLATE_FIELDS})}
        context.update(_template_context(template, editing=milestone.pk, edit_form=form))
        return render(request, "onboarding/template.html", context, status=422)
    if _partial(request):
        return _tmilestones_response(request, template, notice=_("Milestone saved."))
    messages.success(request, _("Milestone saved."))
    return redirect("onboarding:template", pk=template.pk)


@role_required
@require_POST
def template_milestone_move(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    milestone = get_object_or_404(MilestoneTemplate.objects.select_related("template"), pk=pk)
    try:
        services.template_milestone_move(
            milestone=milestone, direction=request.POST.get("direction", ""), by=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    if _partial(request):
        return _tmilestones_response(request, milestone.template)
    return redirect("onboarding:template", pk=milestone.template_id)


@role_required
@require_POST
def template_milestone_remove(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    milestone = get_object_or_404(MilestoneTemplate.objects.select_related("template"), pk=pk)
    services.template_milestone_remove(milestone=milestone, by=request.user)
    if _partial(request):
        return _tmilestones_response(
            request, milestone.template, notice=_("Milestone “%(name)s” removed.") % {"name": milestone.name}
        )
    messages.success(request, _("Milestone removed."))
    return redirect("onboarding:template", pk=milestone.template_id)
