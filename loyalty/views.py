"""Staff pages of the loyalty programme: thin, the services hold the rules.

A CSM sees and acts on their own portfolio only (another portfolio's account, redemption or
referral is a 404); approving, rejecting and fulfilling redemptions, adjusting points and
clearing flagged referrals are for managers (403 for a CSM).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Account, Contact
from team.decorators import role_required

from . import selectors, services
from .forms import (
    AdjustForm,
    AskFilterForm,
    AskForm,
    AskUpdateForm,
    DecisionForm,
    FulfilForm,
    LinkForm,
    RedemptionFilterForm,
    RedemptionRequestForm,
    ReferralFilterForm,
    ReferralReviewForm,
)
from .models import AdvocacyAsk, MemberLink, Redemption, Referral, Reward

PAGE_SIZE = 25


def _apply_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _account(request: HttpRequest, pk: int) -> Account:
    return get_object_or_404(Account.objects.visible_to(request.user).select_related("owner"), pk=pk)


def _manager(request: HttpRequest) -> None:
    if not request.user.sees_all_accounts:
        raise PermissionDenied


def _page(request, rows):
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _query(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@role_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "loyalty/overview.html",
        {"metrics": selectors.programme_metrics(user=request.user), "tiers": selectors.tier_rules()},
    )


def _account_context(request, account, **forms) -> dict:
    today = timezone.localdate()
    rewards = selectors.rewards_available(today=today)
    links = list(
        MemberLink.objects.filter(account=account, is_active=True)
        .select_related("contact")
        .order_by("kind", "contact__name")
    )
    return {
        "account": account,
        "card": selectors.account_loyalty_card(account=account),
        "page": _page(request, selectors.ledger_rows(account=account)),
        "redemptions": list(
            Redemption.objects.filter(account=account)
            .select_related("reward", "contact")
            .order_by("-requested_at")[:20]
        ),
        "request_form": forms.get("request_form") or RedemptionRequestForm(account=account, rewards=rewards),
        "adjust_form": forms.get("adjust_form") or (AdjustForm() if request.user.sees_all_accounts else None),
        "link_form": forms.get("link_form") or LinkForm(account=account),
        "links": links,
        "tiers": selectors.tier_rules(),
    }


@role_required
@require_GET
def account_points(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(request, pk)
    context = _account_context(request, account)
    if request.htmx and request.GET.get("page"):
        return render(request, "loyalty/account.html#ledger", context)
    return render(request, "loyalty/account.html", context)


@role_required
@require_POST
def redemption_create(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(request, pk)
    form = RedemptionRequestForm(
        request.POST, account=account, rewards=selectors.rewards_available(today=timezone.localdate())
    )
    if form.is_valid():
        try:
            services.redemption_request(
                account=account,
                reward=form.cleaned_data["reward"],
                contact=form.cleaned_data.get("contact"),
                by=request.user,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Redemption requested: the points are held until a manager decides."))
            return redirect("loyalty:account", pk=account.pk)
    return render(
        request, "loyalty/account.html", _account_context(request, account, request_form=form), status=422
    )


@role_required
@require_POST
def points_adjust(request: HttpRequest, pk: int) -> HttpResponse:
    _manager(request)
    account = _account(request, pk)
    form = AdjustForm(request.POST)
    if form.is_valid():
        try:
            services.points_adjust(
                account=account,
                points=form.cleaned_data["points"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Points adjusted."))
            return redirect("loyalty:account", pk=account.pk)
    return render(
        request, "loyalty/account.html", _account_context(request, account, adjust_form=form), status=422
    )


@role_required
@require_POST
def link_create(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(request, pk)
    form = LinkForm(request.POST, account=account)
    if form.is_valid():
        services.member_link_get(
            account=account, kind=form.cleaned_data["kind"], contact=form.cleaned_data["contact"]
        )
        messages.success(request, _("Link ready: copy it from the list."))
        return redirect("loyalty:account", pk=account.pk)
    return render(
        request, "loyalty/account.html", _account_context(request, account, link_form=form), status=422
    )


@role_required
@require_GET
def redemption_list(request: HttpRequest) -> HttpResponse:
    form = RedemptionFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    rows = selectors.redemption_rows(user=request.user, status=data.get("status", ""), q=data.get("q", ""))
    context = {
        "form": form,
        "page": _page(request, rows),
        "query": _query(request),
        "is_filtered": bool(data.get("status") or data.get("q")),
    }
    template = "loyalty/redemptions.html#results" if request.htmx else "loyalty/redemptions.html"
    return render(request, template, context)


def _redemption(request, pk: int) -> Redemption:
    return get_object_or_404(
        Redemption.objects.filter(account__in=Account.objects.visible_to(request.user)).select_related(
            "account", "reward"
        ),
        pk=pk,
    )


@role_required
def redemption_detail(request: HttpRequest, pk: int) -> HttpResponse:
    redemption = _redemption(request, pk)
    decision_form, fulfil_form = DecisionForm(), FulfilForm()
    status = 200
    if request.method == "POST":
        _manager(request)
        action = request.POST.get("action")
        try:
            if action == "approve":
                decision_form = DecisionForm(request.POST)
                if decision_form.is_valid():
                    services.redemption_approve(
                        redemption=redemption, by=request.user, note=decision_form.cleaned_data["note"]
                    )
                    messages.success(request, _("Approved. Fulfil it when the reward is sent."))
                    return redirect("loyalty:redemption", pk=pk)
            elif action == "reject":
                decision_form = DecisionForm(request.POST)
                if decision_form.is_valid():
                    services.redemption_reject(
                        redemption=redemption, by=request.user, note=decision_form.cleaned_data["note"]
                    )
                    messages.success(request, _("Closed; the points are back on the account."))
                    return redirect("loyalty:redemption", pk=pk)
            elif action == "fulfil":
                fulfil_form = FulfilForm(request.POST)
                if fulfil_form.is_valid():
                    services.redemption_fulfil(
                        redemption=redemption,
                        by=request.user,
                        code=fulfil_form.cleaned_data["code"],
                        notes=fulfil_form.cleaned_data["notes"],
                    )
                    messages.success(request, _("Marked as fulfilled."))
                    return redirect("loyalty:redemption", pk=pk)
            else:
                decision_form = DecisionForm(request.POST)
                decision_form.is_valid()  # bound, so it can carry the error
                decision_form.add_error(None, _("Choose approve, reject or fulfil."))
        except ValidationError as exc:
            _apply_errors(fulfil_form if action == "fulfil" else decision_form, exc)
        status = 422
        redemption.refresh_from_db()
    return render(
        request,
        "loyalty/redemption.html",
        {"redemption": redemption, "decision_form": decision_form, "fulfil_form": fulfil_form},
        status=status,
    )


@role_required
@require_GET
def reward_list(request: HttpRequest) -> HttpResponse:
    rows = Reward.objects.order_by("-is_active", "cost", "name")
    return render(
        request, "loyalty/rewards.html", {"page": _page(request, rows), "today": timezone.localdate()}
    )


@role_required
@require_GET
def referral_list(request: HttpRequest) -> HttpResponse:
    form = ReferralFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    rows = selectors.referral_rows(user=request.user, status=data.get("status", ""), q=data.get("q", ""))
    context = {
        "form": form,
        "page": _page(request, rows),
        "query": _query(request),
        "is_filtered": bool(data.get("status") or data.get("q")),
    }
    template = "loyalty/referrals.html#results" if request.htmx else "loyalty/referrals.html"
    return render(request, template, context)


@role_required
def referral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_object_or_404(
        Referral.objects.filter(referrer_account__in=Account.objects.visible_to(request.user)).select_related(
            "referrer_account", "referrer_contact", "converted_account", "reviewed_by"
        ),
        pk=pk,
    )
    form = ReferralReviewForm()
    status = 200
    if request.method == "POST":
        form = ReferralReviewForm(request.POST)
        if form.is_valid():
            try:
                services.referral_review(
                    referral=referral,
                    by=request.user,
                    decision=form.cleaned_data["decision"],
                    note=form.cleaned_data["note"],
                )
            except PermissionDenied:
                raise
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("Referral updated."))
                return redirect("loyalty:referral", pk=pk)
        status = 422
    return render(request, "loyalty/referral.html", {"referral": referral, "form": form}, status=status)


@role_required
def advocacy(request: HttpRequest) -> HttpResponse:
    contacts = (
        Contact.objects.filter(account__in=Account.objects.visible_to(request.user))
        .select_related("account")
        .order_by("account__name", "name")
    )
    form = AskForm(contacts=contacts)
    status = 200
    if request.method == "POST":
        form = AskForm(request.POST, contacts=contacts)
        if form.is_valid():
            try:
                services.advocacy_ask_create(
                    contact=form.cleaned_data["contact"],
                    kind=form.cleaned_data["kind"],
                    by=request.user,
                    notes=form.cleaned_data["notes"],
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("Ask recorded."))
                return redirect("loyalty:advocacy")
        status = 422
    filters = AskFilterForm(request.GET)
    data = filters.cleaned_data if filters.is_valid() else {}
    initial_contact = request.GET.get("contact")
    if initial_contact and initial_contact.isdigit() and request.method == "GET":
        form = AskForm(contacts=contacts, initial={"contact": int(initial_contact)})
    context = {
        "form": form,
        "filters": filters,
        "candidates": selectors.advocate_candidates(user=request.user),
        "page": _page(request, selectors.ask_rows(user=request.user, status=data.get("status", ""))),
        "query": _query(request),
        "update_form": AskUpdateForm(),
    }
    return render(request, "loyalty/advocacy.html", context, status=status)


@role_required
@require_POST
def ask_update(request: HttpRequest, pk: int) -> HttpResponse:
    ask = get_object_or_404(
        AdvocacyAsk.objects.filter(contact__account__in=Account.objects.visible_to(request.user)), pk=pk
    )
    form = AskUpdateForm(request.POST)
    if form.is_valid():
        try:
            services.advocacy_ask_update(
                ask=ask, status=form.cleaned_data["status"], by=request.user, link=form.cleaned_data["link"]
            )
        except ValidationError as exc:
            for errors in exc.message_dict.values():
                for error in errors:
                    messages.error(request, error)
        else:
            messages.success(request, _("Ask updated."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(reverse("loyalty:advocacy"))
