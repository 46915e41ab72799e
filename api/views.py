"""Pages around the API: interactive docs, the v1 index, and the managers' token pages."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.response import Response
from rest_framework.reverse import reverse

from team.decorators import role_required

from . import services
from .forms import TokenCreateForm
from .models import ApiToken
from .viewsets import ApiView


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI under the site's strict Content Security Policy, with no exception needed:
    its bundle and CSS come from our static files (drf-spectacular-sidecar), the start-up
    script is a separate same-origin request (the "split" view), and our template drops the
    inline <style> drf-spectacular would add (api/docs.css instead)."""

    template_name = "api/swagger_ui.html"
    title = "CS Platform API"


class ApiRootView(ApiView):
    """The v1 index: a link to each resource (api/urls.py passes the router's and the metrics')."""

    routes: list[tuple[str, str]] = []  # (prefix, url name in the api namespace)

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        links = {prefix: reverse(f"api:{name}", request=request) for prefix, name in self.routes}
        links["schema"] = reverse("api:schema", request=request)
        links["docs"] = reverse("api:docs", request=request)
        return Response(links)


def _manager(request: HttpRequest) -> None:
    if not request.user.sees_all_accounts:
        raise PermissionDenied


@role_required
@require_http_methods(["GET"])
def token_list(request: HttpRequest) -> HttpResponse:
    _manager(request)
    tokens = ApiToken.objects.select_related("user", "created_by").order_by("revoked_at", "-created_at")
    return render(request, "api/token_list.html", {"tokens": tokens})


@role_required
@never_cache
@require_http_methods(["GET", "POST"])
def token_create(request: HttpRequest) -> HttpResponse:
    _manager(request)
    form = TokenCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.token_create(
                name=form.cleaned_data["name"],
                user=form.cleaned_data["user"],
                scope=form.cleaned_data["scope"],
                created_by=request.user,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            # Shown once, on this answer only; never stored, never redirected through a cookie.
            return render(request, "api/token_created.html", {"token": issued.token, "raw": issued.raw})
    status = 422 if request.method == "POST" else 200
    return render(request, "api/token_form.html", {"form": form}, status=status)


@role_required
@require_http_methods(["GET", "POST"])
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    _manager(request)
    token = get_object_or_404(ApiToken.objects.select_related("user"), pk=pk)
    if request.method == "POST":
        services.token_revoke(token=token, by=request.user)
        messages.success(
            request, _("Token “%(name)s” is revoked; requests with it now get 401.") % {"name": token.name}
        )
        return redirect("api:tokens")
    return render(request, "api/token_revoke.html", {"token": token})
