"""Thin HTTP for the dashboards: parse the filters, call the selectors, render the page or one
of its tables as CSV (``?export=<table id>``, same filters)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from team.decorators import role_required

from . import presenters, selectors, sources
from .forms import DrilldownForm, MetricsForm, plan_choices
from .presenters import with_params
from .tables import Table

PAGE_SIZE = 50
CHART_SCRIPT = "vendor/chart.js/chart.umd.min.js"


def _manager(request: HttpRequest) -> None:
    if not request.user.sees_all_accounts:
        raise PermissionDenied


def _params(request: HttpRequest) -> dict[str, str]:
    """The query string as the page's links keep it (the filters), without paging or export."""
    return {k: v for k, v in request.GET.items() if k not in ("export", "page") and v != ""}


def _export_or_none(request: HttpRequest, tables: list[Table], name: str) -> HttpResponse | None:
    wanted = request.GET.get("export")
    if not wanted:
        return None
    for table in tables:
        if table.id == wanted:
            return table.csv_response(f"{name}-{table.id}.csv", by=request.user)
    raise Http404(_("No such table to export."))


def _form(request: HttpRequest, today) -> MetricsForm:
    return MetricsForm(request.GET or None, user=request.user, today=today, plans=plan_choices(request.user))


def _context(request: HttpRequest, form: MetricsForm, period, tables: list[Table], **extra) -> dict:
    params = _params(request)
    previous, following = period.previous(), period.next_start()
    today = form.today
    return {
        "form": form,
        "period": period,
        "params": params,
        "export_base": with_params(params) + ("&" if params else ""),
        "params_query": with_params(params) if params else "",
        "previous_href": with_params(params, date=previous.start.isoformat(), start=None, end=None)
        if period.kind != "custom"
        else with_params(params, start=previous.start.isoformat(), end=previous.end.isoformat()),
        "next_href": with_params(params, date=following.isoformat(), start=None, end=None)
        if following and following <= today
        else None,
        "tables": {t.id.replace("-", "_"): t for t in tables},
        "chart_script": CHART_SCRIPT,
        **extra,
    }


def _with_query(url: str | None, query: str) -> str | None:
    return f"{url}?{query}" if url else None


def _pager(params: dict, page) -> dict:
    return {
        "previous": with_params(params, page=page.previous_page_number()) if page.has_previous() else None,
        "next": with_params(params, page=page.next_page_number()) if page.has_next() else None,
    }


# ---------------------------------------------------------------- the CSM's dashboard (landing page)


@role_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    desk = selectors.desk(user=request.user, today=today)
    tables = presenters.desk_tables(desk)
    response = _export_or_none(request, tables, "my-dashboard")
    if response:
        return response
    return render(
        request,
        "dashboards/home.html",
        {
            "desk": desk,
            "tables": {t.id.replace("-", "_"): t for t in tables},
            "export_base": "?",
            "today": today,
            "inbox_href": reverse("health:inbox"),
            "renewals_href": reverse("dashboards:renewals"),
            "feedback_href": sources.optional_url("feedback:responses"),
            "onboarding_href": _with_query(sources.optional_url("onboarding:board"), "status=behind"),
            "chart_script": CHART_SCRIPT,
        },
    )


# ---------------------------------------------------------------- leadership


@role_required
@require_GET
def leadership(request: HttpRequest) -> HttpResponse:
    _manager(request)
    form = _form(request, timezone.localdate())
    period, scope = form.get_period(), form.get_scope()
    report = selectors.leadership_report(
        scope=scope, period=period, assumptions=form.get_assumptions(), dimension=form.get_dimension()
    )
    trend = selectors.monthly_trend(scope=scope, end=period.end)
    health = selectors.health_report(scope=scope, period=period)
    reasons = selectors.churn_reasons(scope=scope, period=period, previous=report.previous_period)
    params = _params(request)
    tables = [
        *presenters.figure_tables(report, params),
        presenters.waterfall_table(report, params),
        presenters.trend_table(trend),
        presenters.breakdown_table(report, params),
        *presenters.sentiment_tables(report),
        *presenters.health_tables(health, report),
        presenters.churn_reason_table(reasons, report),
    ]
    response = _export_or_none(request, tables, f"leadership-{period.start}-{period.end}")
    if response:
        return response
    return render(
        request,
        "dashboards/leadership.html",
        _context(
            request,
            form,
            period,
            tables,
            report=report,
            cards=presenters.headline_cards(report, params),
            health=health,
            figure_tables=[t for t in tables if t.id.startswith("figures-")],
            tab="overview",
        ),
    )


@role_required
@require_GET
def cohorts(request: HttpRequest) -> HttpResponse:
    _manager(request)
    today = timezone.localdate()
    form = _form(request, today)
    rows = selectors.cohort_retention(scope=form.get_scope(), today=today)
    tables = presenters.cohort_tables(rows, _params(request))
    response = _export_or_none(request, tables, f"cohorts-{today}")
    if response:
        return response
    return render(
        request,
        "dashboards/cohorts.html",
        _context(request, form, form.get_period(), tables, tab="cohorts"),
    )


@role_required
@require_GET
def renewals(request: HttpRequest) -> HttpResponse:
    """Renewals in the next 30, 60 and 90 days with health and MRR at risk; any role (a CSM
    sees their own accounts)."""
    today = timezone.localdate()
    form = _form(request, today)
    scope = form.get_scope()
    try:
        days = int(request.GET.get("within", "90"))
    except ValueError:
        days = 90
    days = days if days in selectors.RENEWAL_WINDOWS else 90
    params = _params(request)
    windows = selectors.renewal_windows(scope=scope, today=today)
    summary = presenters.renewal_table(
        windows, renewals_href=lambda n: reverse("dashboards:renewals") + with_params(params, within=n)
    )
    accounts = selectors.renewing_accounts(scope=scope, today=today, days=days)
    shows_owner = request.user.sees_all_accounts
    if request.GET.get("export") == "renewing-accounts":
        return presenters.renewing_accounts_table(accounts, today, shows_owner=shows_owner).csv_response(
            f"renewals-{days}-days-{today}.csv", by=request.user
        )
    paginator = Paginator(accounts, PAGE_SIZE)
    # The window's count is already known from the summary: no second COUNT over the accounts.
    paginator.__dict__["count"] = next(w.accounts for w in windows if w.days == days)
    page = paginator.get_page(request.GET.get("page"))
    listing = presenters.renewing_accounts_table(page.object_list, today, shows_owner=shows_owner)
    listing.title = _("Accounts renewing in the next %(n)s days") % {"n": days}
    response = _export_or_none(request, [summary], f"renewals-{today}")
    if response:
        return response
    return render(
        request,
        "dashboards/renewals.html",
        _context(
            request,
            form,
            form.get_period(),
            [summary, listing],
            page=page,
            within=days,
            windows=selectors.RENEWAL_WINDOWS,
            pager=_pager(params, page),
            tab="renewals",
        ),
    )


@role_required
@require_GET
def drilldown(request: HttpRequest) -> HttpResponse:
    """The accounts behind a leadership figure (the cohort, those lost, those with a movement
    of one kind...), for the same period and slice."""
    _manager(request)
    form = _form(request, timezone.localdate())
    which_form = DrilldownForm(request.GET)
    if not which_form.is_valid():
        raise Http404(_("No such list."))
    which = which_form.cleaned_data["list"]
    period, scope = form.get_period(), form.get_scope()
    accounts = selectors.drilldown_accounts(scope=scope, period=period, which=which)
    if request.GET.get("export") == "accounts":
        return presenters.drilldown_table(accounts, shows_owner=True).csv_response(
            f"accounts-{which}-{period.start}-{period.end}.csv", by=request.user
        )
    page = Paginator(accounts, PAGE_SIZE).get_page(request.GET.get("page"))
    table = presenters.drilldown_table(page.object_list, shows_owner=True)
    titles = {
        "cohort": _("The starting cohort: accounts active on the first day"),
        "retained": _("Accounts retained: active on the first and the last day"),
        "lost": _("Accounts lost: active on the first day, not on the last"),
        "active": _("Accounts active on the last day"),
        "new": _("New accounts in the period"),
        "expansion": _("Accounts that expanded"),
        "contraction": _("Accounts that contracted"),
        "churn": _("Accounts that churned"),
        "reactivation": _("Accounts reactivated"),
    }
    table.title = titles[which]
    params = _params(request)
    return render(
        request,
        "dashboards/drilldown.html",
        _context(
            request,
            form,
            period,
            [table],
            page=page,
            table=table,
            back_href=reverse("dashboards:leadership") + with_params(params, list=None),
            pager=_pager(params, page),
            tab="overview",
        ),
    )
