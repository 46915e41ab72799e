"""Thin HTTP for the portfolio and the account 360: parse, call a selector or service, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_POST

from feedback.selectors import account_feedback
from health.views import account_health_context, account_work_context
from loyalty.selectors import account_loyalty_card
from onboarding import selectors as onboarding_selectors
from team.decorators import role_required

from . import selectors, services
from .forms import PortfolioFilterForm, ReassignOwnerForm, TouchpointForm
from .models import Account
from .rendering import (
    filter_selects_html,
    mrr_chart_html,
    portfolio_rows_html,
    sort_headers_html,
    timeline_entries_html,
)

PAGE_SIZE = 25


def _visible_account(request: HttpRequest, pk: int, *, related: bool = True) -> Account:
    """The account if this user may see it; 404 otherwise (never reveal that it exists). With
    ``related=False``, without its owner and parent joined (the 360's side cards and timeline
    show neither)."""
    if not related:
        found = selectors.account_visible(user=request.user, pk=pk)
        if found is None:
            raise Http404
        return found
    accounts = Account.objects.visible_to(request.user)
    return get_object_or_404(accounts.select_related("owner", "parent"), pk=pk)


def _apply_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


# The portfolio's columns: (sort key, heading, numeric). The owner column is for managers.
PORTFOLIO_COLUMNS = (
    ("name", _lazy("Account"), False),
    ("owner", _lazy("Owner"), False),
    ("segment", _lazy("Segment"), False),
    ("tier", _lazy("Tier"), False),
    ("stage", _lazy("Stage"), False),
    ("score", _lazy("Score"), True),
    ("grade", _lazy("Grade"), False),
    ("trend", _lazy("7-day trend"), True),
    ("mrr", _lazy("MRR"), True),
    ("renewal_date", _lazy("Renewal"), False),
    ("last_touch_at", _lazy("Last touch"), False),
)


def _with_params(params, **changes) -> str:
    params = params.copy()
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return "?" + params.urlencode()


def _sort_headers(params, sort: str, shows_owner: bool) -> list[dict]:
    """Each column heading with the link that sorts by it (again: the other direction)."""
    headers = []
    for key, label, numeric in PORTFOLIO_COLUMNS:
        if key == "owner" and not shows_owner:
            continue
        aria = "ascending" if sort == key else "descending" if sort == f"-{key}" else "none"
        headers.append(
            {
                "key": key,
                "label": label,
                "numeric": numeric,
                "aria_sort": aria,
                "href": _with_params(params, sort=f"-{key}" if sort == key else key, page=None),
            }
        )
    return headers


@role_required
@require_GET
def portfolio(request: HttpRequest) -> HttpResponse:
    form = PortfolioFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    rows = selectors.portfolio_rows(user=request.user, filters=filters)
    paginator = Paginator(rows, PAGE_SIZE)
    if request.user.sees_all_accounts and filters.selects_all:
        paginator.count = selectors.accounts_total()  # every account: no need to count them
    page = paginator.get_page(request.GET.get("page"))
    shows_owner = request.user.sees_all_accounts
    sort = form.sort_value
    params = request.GET.copy()
    context = {
        "form": form,
        "selects_html": filter_selects_html(form.select_fields()),
        "page": page,
        "sort": sort,
        "headers_html": sort_headers_html(_sort_headers(params, sort, shows_owner)),
        "rows_html": portfolio_rows_html(
            page.object_list, shows_owner=shows_owner, currency=settings.REPORTING_CURRENCY
        ),
        "previous_href": _with_params(params, page=page.previous_page_number())
        if page.has_previous()
        else "",
        "next_href": _with_params(params, page=page.next_page_number()) if page.has_next() else "",
        "is_filtered": form.is_filtered,
        "shows_owner": shows_owner,
        "title": _("All accounts") if shows_owner else _("My portfolio"),
    }
    partial = request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request
    response = render(
        request, "accounts/portfolio.html#results" if partial else "accounts/portfolio.html", context
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


def _timeline_context(account: Account, cursor: str | None = None) -> dict:
    timeline = selectors.account_timeline(account=account, cursor=cursor)
    html = timeline_entries_html(timeline.entries)
    return {"account": account, "timeline": timeline, "timeline_html": html}


def _mrr_bars(account: Account) -> list[dict]:
    """The MRR of the last 12 months as bars of an SVG chart (and the rows of its table)."""
    history = selectors.mrr_history_by_month(account=account, months=12)
    peak = float(max((month.mrr for month in history), default=0) or 1)
    bars = []
    for index, month in enumerate(history):
        height = round(float(month.mrr) / peak * 100, 1)
        bars.append(
            {
                "month": month,
                "x": index * 20 + 2,
                "y": 102 - height,
                "height": height,
                "last": index == len(history) - 1,
            }
        )
    return bars


@role_required
@require_GET
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The account 360: header, health, the touchpoint form and contacts. Right after the page
    loads, htmx fetches the timeline's first page (``account_timeline``) and the side cards
    (``account_side``: alerts and tasks, rewards, survey answers, onboarding, usage, MRR), both
    at once; without JavaScript the page links to them."""
    account = selectors.account_visible(user=request.user, pk=pk, page=True)
    if account is None:
        raise Http404
    contacts = selectors.account_contacts(account=account)
    context = {
        "account": account,
        "contacts": contacts,
        "children": list(account.children.order_by("name").values("pk", "name"))
        if account.has_children
        else [],
        "today": timezone.localdate(),
        "touchpoint_form": TouchpointForm(account=account, contacts=contacts),
        "reassign_form": ReassignOwnerForm(initial={"owner": account.owner_id})
        if request.user.sees_all_accounts
        else None,
        **account_health_context(request, account),  # score, why, trend
    }
    return render(request, "accounts/detail.html", context)


@role_required
@require_GET
def account_side(request: HttpRequest, pk: int) -> HttpResponse:
    """The account 360's side cards: htmx puts them in the page once it has loaded; without
    JavaScript the page links here and they are a page of their own. A fixed number of queries."""
    account = _visible_account(request, pk, related=False)
    bars = _mrr_bars(account)
    context = {
        "account": account,
        "today": timezone.localdate(),
        "bars": bars,
        "mrr": mrr_chart_html(bars, currency=settings.REPORTING_CURRENCY),
        "usage": selectors.usage_summary(account=account),
        **account_work_context(request, account),  # open alerts and tasks
        "loyalty": account_loyalty_card(account=account),  # points, tier, pending redemptions: one query
        "feedback": account_feedback(account=account),  # latest NPS/CSAT/CES and recent answers
        "onboarding": onboarding_selectors.account_onboarding_card(account=account),  # one or two queries
    }
    template = "accounts/detail.html#side-cards" if request.htmx else "accounts/side_page.html"
    return render(request, template, context)


@role_required
@require_GET
def account_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """A page of the timeline: the first (no cursor) when the account page has loaded, the next
    ones on "Show older entries". htmx puts it in place; without JS it is a page of its own."""
    account = _visible_account(request, pk, related=False)
    context = _timeline_context(account, request.GET.get("cursor"))
    template = "accounts/detail.html#timeline-page" if request.htmx else "accounts/timeline.html"
    return render(request, template, context)


@role_required
@require_POST
def touchpoint_create(request: HttpRequest, pk: int) -> HttpResponse:
    account = _visible_account(request, pk)
    form = TouchpointForm(request.POST, account=account)
    if form.is_valid():
        try:
            services.touchpoint_log(
                account=account,
                author=request.user,
                kind=form.cleaned_data["kind"],
                summary=form.cleaned_data["summary"],
                occurred_at=form.cleaned_data["occurred_at"],
                contact=form.cleaned_data["contact"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
    if form.errors:
        if request.htmx:  # htmx swaps 2xx only: the form comes back with its errors in place
            return render(
                request, "accounts/detail.html#touchpoint-form", {"account": account, "touchpoint_form": form}
            )
        return render(
            request,
            "accounts/touchpoint_form_page.html",
            {"account": account, "touchpoint_form": form},
            status=422,
        )
    if request.htmx:
        context = {
            **_timeline_context(account),
            "touchpoint_form": TouchpointForm(account=account),
            "logged": True,
        }
        return render(request, "accounts/detail.html#touchpoint-logged", context)
    messages.success(request, _("Touchpoint logged."))
    return redirect(account)


@role_required
@require_POST
def account_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    account = _visible_account(request, pk)
    if not request.user.sees_all_accounts:
        raise PermissionDenied
    form = ReassignOwnerForm(request.POST)
    if form.is_valid():
        try:
            services.account_reassign_owner(
                account=account, owner=form.cleaned_data["owner"], by=request.user
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
    if form.errors:
        messages.error(
            request, _("Could not reassign: %(errors)s") % {"errors": " ".join(form.errors.get("owner", []))}
        )
    else:
        messages.success(
            request,
            _("%(account)s now belongs to %(owner)s.") % {"account": account.name, "owner": account.owner},
        )
    return redirect(account)
