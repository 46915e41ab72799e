"""Public pages (no login): the shareable referral form and a contact's rewards page.

The token in the address is the only credential. The referral page names who invited the
visitor (the company, nothing else); the rewards page shows that account's balance, tier and
the catalog, and lets the contact ask for a reward. Unknown or inactive tokens are a plain 404.
Rate-limited per address.

Both pages speak the contact's language (English, Turkish or Traditional Chinese): the link's
contact chooses, else the browser's Accept-Language; the visitor can switch (``?lang=``), and
the choice rides along with the form.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from cs_app.public_tokens import token_digest, token_matches

from . import ratelimit, selectors, services
from .forms import RedemptionRequestForm, ReferralForm
from .models import LinkKind, MemberLink, RedemptionChannel

TOKEN_MAX = 64


def _link(token: str, kind: str) -> MemberLink:
    if not token or len(token) > TOKEN_MAX:
        raise Http404
    link = (
        MemberLink.objects.select_related("account", "contact")
        .filter(token_digest=token_digest(token), kind=kind, is_active=True)
        .first()
    )
    if link is None or not token_matches(link.token, token):
        raise Http404
    return link


LANGUAGES = {code for code, _name in settings.LANGUAGES}


def _language(request: HttpRequest, link: MemberLink | None) -> str:
    wanted = request.POST.get("lang") or request.GET.get("lang") or ""
    if wanted in LANGUAGES:
        return wanted
    if link is not None and link.contact is not None and link.contact.language in LANGUAGES:
        return link.contact.language
    browser = translation.get_language_from_request(request)
    return browser if browser in LANGUAGES else settings.LANGUAGE_CODE


def _page(
    request: HttpRequest, template: str, context: dict, *, language: str, status: int = 200
) -> HttpResponse:
    context = {"language": language, "languages": settings.LANGUAGES, "lang_path": request.path, **context}
    response = render(request, template, context, status=status)
    response["Content-Language"] = language
    return response


def _redirect(name: str, token: str, language: str) -> HttpResponse:
    return HttpResponseRedirect(f"{reverse(name, args=[token])}?{urlencode({'lang': language})}")


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _too_many(request, language: str) -> HttpResponse:
    with translation.override(language):
        return _page(request, "loyalty/public/busy.html", {}, language=language, status=429)


@never_cache
@require_http_methods(["GET", "POST"])
def referral(request: HttpRequest, token: str) -> HttpResponse:
    if not ratelimit.allow(request, "read"):
        return _too_many(request, _language(request, None))
    link = _link(token, LinkKind.REFERRAL)
    language = _language(request, link)
    with translation.override(language):
        form = ReferralForm()
        status = 200
        if request.method == "POST":
            if not ratelimit.allow(request, "write"):
                return _too_many(request, language)
            form = ReferralForm(request.POST)
            if form.is_valid():
                try:
                    services.referral_submit(link=link, ip=_ip(request), **form.cleaned_data)
                except ValidationError as exc:
                    for field, errors in exc.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    return _redirect("loyalty_public:referral_thanks", token, language)
            status = 422
        return _page(
            request,
            "loyalty/public/referral.html",
            {"link": link, "form": form},
            language=language,
            status=status,
        )


@never_cache
@require_http_methods(["GET"])
def referral_thanks(request: HttpRequest, token: str) -> HttpResponse:
    if not ratelimit.allow(request, "read"):
        return _too_many(request, _language(request, None))
    link = _link(token, LinkKind.REFERRAL)
    language = _language(request, link)
    with translation.override(language):
        return _page(request, "loyalty/public/referral_thanks.html", {"link": link}, language=language)


@never_cache
@require_http_methods(["GET", "POST"])
def rewards(request: HttpRequest, token: str) -> HttpResponse:
    if not ratelimit.allow(request, "read"):
        return _too_many(request, _language(request, None))
    link = _link(token, LinkKind.REWARDS)
    language = _language(request, link)
    with translation.override(language):
        return _rewards(request, link, language)


def _rewards(request: HttpRequest, link: MemberLink, language: str) -> HttpResponse:
    account = link.account
    catalog = selectors.rewards_available(today=timezone.localdate())
    form = RedemptionRequestForm(rewards=catalog)
    status = 200
    if request.method == "POST":
        if not ratelimit.allow(request, "write"):
            return _too_many(request, language)
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
                return _redirect("loyalty_public:rewards", link.token, language)
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
    return _page(request, "loyalty/public/rewards.html", context, language=language, status=status)
