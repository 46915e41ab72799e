from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.models import Account

from .decorators import role_required
from .forms import EmailLoginForm


class LoginView(auth_views.LoginView):
    template_name = "team/login.html"
    authentication_form = EmailLoginForm
    redirect_authenticated_user = True


@role_required
@require_GET
def me(request: HttpRequest) -> HttpResponse:
    """Who am I: name, role, and how many accounts I own. Also the benchmark's floor page."""
    return render(request, "team/me.html", {"owned": Account.objects.filter(owner=request.user).count()})
