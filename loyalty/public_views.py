"""Public pages (no login): the shareable referral form and a contact's rewards page.

The token in the address is the only credential. The referral page names who invited the
visitor (the company, nothing else); the rewards page shows that account's balance, tier and
the catalog, and lets the contact ask for a reward. Unknown or inactive tokens are a plain 404.
Rate-limited per address.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from . import ratelimit, selectors, services
from .forms import RedemptionRequestForm, ReferralForm
from .models import LinkKind, MemberLink, RedemptionChannel

TOKEN_MAX = 64


def _link(token: str, kind: str) -> MemberLink:
    if not token or len(token) > TOKEN_MAX:
        raise Http404
    link = (
        MemberLink.objects.select_related("account", "contact")
        .filter(token=token, kind=kind, is_active=True)
        .first()
    )
    if link is None:
        raise Http404
    return link


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _too_many(request) -> HttpResponse:
    return render(request, "loyalty/public/busy.html", status=429)


@never_cache
@require_http_methods(["GET", "POST"])
def referral(request: HttpRequest, token: str) -> HttpResponse:
    if not ratelimit.allow(request, "read"):
        return _too_many(request)
    link = _link(token, LinkKind.REFERRAL)
    form = ReferralForm()
    status = 200
    if request.method == "POST":
        if not ratelimit.allow(request, "write"):
            return _too_many(request)
        form = ReferralForm(request.POST)
        if form.is_valid():
            try:
                services.referral_submit(link=link, ip=_ip(request), **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                return redirect("loyalty_public:referral_thanks", token=token)
        status = 422
    return render(request, "loyalty/public/referral.html", {"link": link, "form": form}, status=status)


@never_cache
@require_http_methods(["GET"])
def referral_thanks(request: HttpRequest, token: str) -> HttpResponse:
    link = _link(token, LinkKind.REFERRAL)
    return render(request, "loyalty/public/referral_thanks.html", {"link": link})


@never_cache
@require_http_methods(["GET", "POST"])
def rewards(request: HttpRequest, token: str) -> HttpResponse:
    if not ratelimit.allow(request, "read"):
        return _too_many(request)
    link = _link(token, LinkKind.REWARDS)
    account = link.account
    catalog = selectors.rewards_available(today=timezone.localdate())
    form = RedemptionRequestForm(rewards=catalog)
    status = 200
    if request.method == "POST":
        if not ratelimit.allow(request, "write"):
            return _too_many(request)
        form = RedemptionRequestForm(request.POST, rewards=catalog)
        if form.is_valid():
            try:
                services.redemption_request(
                    account=account,
                    reward=form.cleaned_data["reward"],
                    contact=link.contact,
                    channel=RedemptionChannel.CUSTOMER,
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                request.session[f"rewards-done-{link.pk}"] = True
                return redirect("loyalty_public:rewards", token=token)
        status = 422
    done = request.session.pop(f"rewards-done-{link.pk}", False)
    context = {
        "link": link,
        "card": selectors.account_loyalty_card(account=account),
        "catalog": list(catalog),
        "form": form,
        "done": done,
        "requests": list(
            account.redemptions.filter(contact=link.contact)
            .select_related("reward")
            .order_by("-requested_at")[:10]
        )
        if link.contact_id
        else [],
        "message": _("Thanks! Your request is with our team; we will email you when it is on its way.")
        if done
        else "",
    }
    return render(request, "loyalty/public/rewards.html", context, status=status)
