"""Thin HTTP for health: the task inbox and its in-place actions, alerts and tasks on the account
page, and the backtest. Parse, call a service or selector, render a page or an htmx partial."""

from __future__ import annotations

import csv
import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Account
from accounts.resources import escape_formula
from audit.models import AuditAction
from audit.services import audit_record
from team.decorators import role_required

from . import selectors, services
from .forms import (
    AlertResolveForm,
    BacktestForm,
    InboxForm,
    PlaybookApplyForm,
    ReassignForm,
    SnoozeForm,
    TaskCreateForm,
    snooze_choices,
)
from .models import Alert, Task

INBOX_PAGE_SIZE = 50


def _errors_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(default)


# ---------------------------------------------------------------- account page


def account_health_context(request: HttpRequest, account: Account) -> dict:
    """The account 360's health card: score, why, trend. One query."""
    return {"health": selectors.account_health(account=account)}


def account_work_context(request: HttpRequest, account: Account) -> dict:
    """The account 360's alerts and tasks (its side column, loaded after the page). Two queries,
    or one when the timeline's first page was read for the same account object (it brings the
    open alerts along); the playbook menu loads when it is opened."""
    return {
        "health_alerts": selectors.account_alerts(account=account),
        "health_tasks": selectors.account_tasks(account=account),
        "task_form": TaskCreateForm(initial={"due_date": timezone.localdate() + dt.timedelta(days=3)}),
        "snooze_choices": snooze_choices(),
        "resolve_form": AlertResolveForm(),
    }


def _visible_account(request: HttpRequest, pk: int) -> Account:
    return get_object_or_404(Account.objects.visible_to(request.user), pk=pk)


@role_required
@require_POST
def task_create(request: HttpRequest, pk: int) -> HttpResponse:
    account = _visible_account(request, pk)
    form = TaskCreateForm(request.POST)
    if form.is_valid():
        try:
            services.task_create(account=account, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, _errors_text(exc))
        else:
            messages.success(
                request, _("Task added for %(owner)s.") % {"owner": account.owner or _("nobody yet")}
            )
    else:
        messages.error(
            request,
            _("Could not add the task: %(errors)s")
            % {"errors": "; ".join(f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items())},
        )
    return redirect(reverse("accounts:detail", args=[account.pk]) + "#health-tasks")


@role_required
@require_GET
def playbook_menu(request: HttpRequest, pk: int) -> HttpResponse:
    """The "apply a playbook" form: a partial when the account page opens it, a page without JS."""
    account = _visible_account(request, pk)
    playbooks = selectors.active_playbooks()
    context = {
        "account": account,
        "playbook_form": PlaybookApplyForm(playbooks=playbooks) if playbooks else None,
    }
    template = "health/playbook_menu.html#menu" if request.htmx else "health/playbook_menu.html"
    return render(request, template, context)


@role_required
@require_POST
def playbook_apply(request: HttpRequest, pk: int) -> HttpResponse:
    account = _visible_account(request, pk)
    form = PlaybookApplyForm(request.POST)
    if form.is_valid():
        try:
            tasks = services.playbook_apply(
                playbook=form.cleaned_data["playbook"], account=account, by=request.user
            )
        except ValidationError as exc:
            messages.error(request, _errors_text(exc))
        else:
            messages.success(request, _("%(n)s tasks added from the playbook.") % {"n": len(tasks)})
    else:
        messages.error(request, _("Choose a playbook."))
    return redirect(reverse("accounts:detail", args=[account.pk]) + "#health-tasks")


def _visible_alert(request: HttpRequest, pk: int) -> Alert:
    return get_object_or_404(
        Alert.objects.filter(account__in=Account.objects.visible_to(request.user)).select_related(
            "account", "rule"
        ),
        pk=pk,
    )


@role_required
@require_POST
def alert_snooze(request: HttpRequest, pk: int) -> HttpResponse:
    alert = _visible_alert(request, pk)
    form = SnoozeForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.get("until", [_("Choose a day.")])[0])
        services.alert_snooze(alert=alert, until=form.cleaned_data["until"], by=request.user)
        messages.success(request, _("Alert snoozed until %(day)s.") % {"day": form.cleaned_data["until"]})
    except ValidationError as exc:
        messages.error(request, _errors_text(exc))
    return _back(request, reverse("accounts:detail", args=[alert.account_id]))


@role_required
@require_POST
def alert_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    alert = _visible_alert(request, pk)
    form = AlertResolveForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Choose an outcome to resolve the alert."))
        services.alert_resolve(
            alert=alert, outcome=form.cleaned_data["outcome"], note=form.cleaned_data["note"], by=request.user
        )
        messages.success(request, _("Alert resolved."))
    except ValidationError as exc:
        messages.error(request, _errors_text(exc))
    return _back(request, reverse("accounts:detail", args=[alert.account_id]))


@role_required
@require_POST
def alert_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    alert = _visible_alert(request, pk)
    try:
        services.alert_reopen(alert=alert, by=request.user)
        messages.success(request, _("Alert opened again."))
    except ValidationError as exc:
        messages.error(request, _errors_text(exc))
    return _back(request, reverse("accounts:detail", args=[alert.account_id]))


# ---------------------------------------------------------------- task inbox


@role_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    form = InboxForm(request.GET or None, user=request.user)
    view = form.value("view", "open")
    owner = form.value("owner") if "owner" in form.fields else None
    owner = owner or request.user
    today = timezone.localdate()
    tasks = selectors.inbox_tasks(user=request.user, view=view, owner=owner, today=today)
    page = Paginator(tasks, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "view": view,
        "owner": owner,
        "is_own": owner.pk == request.user.pk,
        "page": page,
        "today": today,
        "snooze_choices": snooze_choices(today),
        "assignees": selectors.assignees(),
        "owner_counts": selectors.task_counts(user=owner, today=today),
    }
    return render(request, "health/inbox.html", context)


def _visible_task(request: HttpRequest, pk: int) -> Task:
    """The task if this user may work it (their own; any for managers); 404 otherwise."""
    return get_object_or_404(Task.objects.visible_to(request.user).select_related("account", "owner"), pk=pk)


def _task_response(request: HttpRequest, task: Task, *, notice: str = "", error: str = "") -> HttpResponse:
    if not request.htmx:
        if error:
            messages.error(request, error)
        elif notice:
            messages.success(request, notice)
        return _back(request, reverse("health:inbox"))
    today = timezone.localdate()
    context = {
        "task": task,
        "today": today,
        "notice": notice,
        "error": error,
        "snooze_choices": snooze_choices(today),
        "assignees": selectors.assignees() if not notice else [],
        "task_counts": selectors.task_counts(user=request.user, today=today),
        "oob_counts": True,
    }
    return render(request, "health/inbox.html#task-row", context)


@role_required
@require_POST
def task_complete(request: HttpRequest, pk: int) -> HttpResponse:
    task = _visible_task(request, pk)
    try:
        task = services.task_complete(task=task, by=request.user)
    except ValidationError as exc:
        return _task_response(request, task, error=_errors_text(exc))
    return _task_response(request, task, notice=_("Done."))


@role_required
@require_POST
def task_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    task = _visible_task(request, pk)
    task = services.task_reopen(task=task, by=request.user)
    return _task_response(request, task)


@role_required
@require_POST
def task_snooze(request: HttpRequest, pk: int) -> HttpResponse:
    task = _visible_task(request, pk)
    form = SnoozeForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors["until"][0])
        task = services.task_snooze(task=task, until=form.cleaned_data["until"], by=request.user)
    except ValidationError as exc:
        return _task_response(request, task, error=_errors_text(exc))
    return _task_response(
        request, task, notice=_("Snoozed until %(day)s.") % {"day": task.snoozed_until.strftime("%b %-d")}
    )


@role_required
@require_POST
def task_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    task = _visible_task(request, pk)
    form = ReassignForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Choose a CSM or manager."))
        task = services.task_reassign(task=task, owner=form.cleaned_data["owner"], by=request.user)
    except ValidationError as exc:
        return _task_response(request, task, error=_errors_text(exc))
    if task.owner_id == request.user.pk:
        return _task_response(request, task)
    return _task_response(request, task, notice=_("Reassigned to %(owner)s.") % {"owner": task.owner})


# ---------------------------------------------------------------- backtest


@role_required
@require_GET
def backtest(request: HttpRequest) -> HttpResponse:
    if not request.user.sees_all_accounts:
        raise PermissionDenied
    today = timezone.localdate()
    initial = {"day": today - dt.timedelta(days=90), "horizon": 90}
    form = BacktestForm(request.GET or None, initial=initial)
    result = None
    if form.is_bound and form.is_valid():
        result = selectors.backtest(day=form.cleaned_data["day"], horizon=form.cleaned_data["horizon"])
    elif not form.is_bound:
        result = selectors.backtest(day=initial["day"], horizon=initial["horizon"])
    if result is not None and request.GET.get("format") == "csv":
        return _backtest_csv(result, by=request.user)
    return render(request, "health/backtest.html", {"form": form, "result": result})


def _backtest_csv(result: selectors.Backtest, *, by) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="backtest-{result.day.isoformat()}.csv"'
    names = dict(Account.objects.values_list("pk", "name").iterator(chunk_size=5000))
    writer = csv.writer(response)
    writer.writerow(["account_id", "account", "score", "grade", f"churned_within_{result.horizon}_days"])
    for account_id, score, grade, churned in result.rows:
        writer.writerow([account_id, escape_formula(names.get(account_id, "")), score, grade, int(churned)])
    audit_record(
        actor=by,
        action=AuditAction.EXPORT,
        target_type="health.backtest",
        target_label=f"backtest-{result.day.isoformat()}.csv",
        details={"via": "backtest", "rows": len(result.rows), "horizon": result.horizon},
    )
    return response
