"""The respondent's pages: public, no login, reached by the unguessable link of one invitation.

- A GET never records an answer (mail scanners open every link): the score clicked in the email
  is pre-selected and the respondent confirms it, with the follow-up and a comment.
- Re-submitting within a day changes the answer; after that the answer is kept as given.
- The contact's language is used unless the respondent switches (``?lang=``).
- Nothing about the account is shown; unknown, expired and closed links get a friendly page.
- Rate-limited per address and per link; the answer form is CSRF-protected. Unsubscribing also
  answers RFC 8058 one-click POSTs (no CSRF token: the link itself is the credential).
"""

from __future__ import annotations

import re
from html import escape

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from cs_app.public_tokens import token_digest, token_matches

from . import emails, ratelimit, services
from .forms import SurveyAnswerForm
from .invitation_lookup import invitation_by_digest
from .models import LANGUAGES, Band, Invitation, QuestionKind, Response, Survey, band_for
from .survey_cache import survey_questions_attach

TOKEN_MAX = 64
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]+")  # secrets.token_urlsafe's alphabet


def _language(request: HttpRequest, invitation: Invitation | None) -> str:
    wanted = request.POST.get("lang") or request.GET.get("lang") or ""
    if wanted in LANGUAGES:
        return wanted
    if invitation is not None and invitation.language in LANGUAGES:
        return invitation.language
    return "en"


def _find(token: str) -> Invitation | None:
    """The invitation with its campaign, survey and any response in one query; the
    survey's questions come from the cache (feedback.survey_cache). Looked up by the token's
    digest, then compared in constant time (cs_app.public_tokens)."""
    if not token or len(token) > TOKEN_MAX or not TOKEN_RE.fullmatch(token):
        return None
    invitation = invitation_by_digest(token_digest(token))  # SQL written once (invitation_lookup)
    if invitation is None or not token_matches(invitation.token, token):
        return None
    survey_questions_attach(invitation.campaign.survey)
    return invitation


def _response(invitation: Invitation) -> Response | None:
    try:
        return invitation.response  # loaded with the invitation
    except Response.DoesNotExist:
        return None


def _page(
    request: HttpRequest, template: str, context: dict, *, language: str, status: int = 200
) -> HttpResponse:
    with translation.override(language):
        context = {
            "language": language,
            "languages": settings.LANGUAGES,
            "lang_path": request.path,
            **context,
        }
        response = render(request, template, context, status=status)
    response["Content-Language"] = language
    response["X-Robots-Tag"] = "noindex, nofollow"
    # Same-origin, not no-referrer: a browser sends "Origin: null" with a form posted from a
    # no-referrer page, which fails Django's CSRF origin check. Other sites still get nothing.
    response["Referrer-Policy"] = "same-origin"
    return response


def _problem(request: HttpRequest, state: str, language: str) -> HttpResponse:
    status = {"unknown": 404, "closed": 404, "expired": 410, "limited": 429}[state]
    response = _page(
        request, "feedback/public/problem.html", {"state": state}, language=language, status=status
    )
    if state == "limited":
        response["Retry-After"] = "60"
    return response


def _limited(request: HttpRequest, *scopes: tuple[str, str]) -> bool:
    return not all(ratelimit.allow(request, scope, key) for scope, key in scopes)


def _score_param(value, survey: Survey) -> int | None:
    try:
        score = int(value)
    except (TypeError, ValueError):
        return None
    return score if survey.accepts(score) else None


def _answer_context(
    invitation: Invitation, form: SurveyAnswerForm, language: str, selected: int | None
) -> dict:
    survey = invitation.campaign.survey
    band = band_for(survey.kind, selected) if selected is not None and survey.asks_score else ""
    with translation.override(language):
        points = [{**p, "band": band_for(survey.kind, p["value"])} for p in emails.scale_points(survey)]
        return {
            "survey": survey,
            "form": form,
            "points": points,
            "points_html": points_html(points, selected),
            "selected": selected,
            "follow_up_label": survey.follow_up_text(band, language),
            "follow_ups": {b: survey.follow_up_text(b, language) for b in Band.values},
            "invitation": invitation,
        }


def points_html(points: list[dict], selected: int | None) -> SafeString:
    """The scale's radio buttons and labels, built here rather than by the template engine (the
    page's longest loop; the values are integers and the labels escaped)."""
    parts = []
    for point in points:
        value = point["value"]
        label = f'<span class="point-label">{escape(point["label"])}</span>' if point["named"] else ""
        checked = " checked" if selected == value else ""
        parts.append(
            f'<input type="radio" name="score" id="score-{value}" value="{value}" '
            f'data-band="{escape(point["band"])}"{checked}>\n'
            f'<label for="score-{value}" class="point">'
            f'<span class="point-value">{value}</span>{label}</label>\n'
        )
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


@never_cache
@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, token: str) -> HttpResponse:
    language = _language(request, None)
    scopes = [("read", "")] if request.method == "GET" else [("write", ""), ("token", token[:TOKEN_MAX])]
    if _limited(request, *scopes):
        return _problem(request, "limited", language)
    invitation = _find(token)
    if invitation is None:
        return _problem(request, "unknown", language)
    language = _language(request, invitation)
    state = services.invitation_state(invitation)
    if state != "open":
        return _problem(request, state, language)
    survey = invitation.campaign.survey
    existing = _response(invitation)
    locked = existing is not None and timezone.now() - existing.answered_at > services.REVISION_WINDOW

    if request.method == "GET":
        services.invitation_opened(invitation=invitation)
        if locked:
            return _page(
                request,
                "feedback/public/thanks.html",
                {"response": existing, "locked": True, "token": token},
                language=language,
            )
        clicked = _score_param(request.GET.get("score"), survey)
        selected = clicked if clicked is not None else (existing.score if existing else None)
        initial = {"score": selected}
        if existing:
            initial |= {"follow_up": existing.follow_up, "comment": existing.comment}
            for answer_row in existing.answers.select_related("question").prefetch_related("choices"):
                picked = [c.pk for c in answer_row.choices.all()]
                if answer_row.question.kind == QuestionKind.MULTIPLE:
                    value = picked
                elif answer_row.question.kind == QuestionKind.SINGLE:
                    value = picked[0] if picked else None
                else:
                    value = answer_row.rating or answer_row.text
                initial[f"q_{answer_row.question_id}"] = value
        with translation.override(language):
            form = SurveyAnswerForm(initial=initial, survey=survey, language=language)
        context = _answer_context(invitation, form, language, selected) | {"existing": existing}
        return _page(request, "feedback/public/answer.html", context, language=language)

    with translation.override(language):
        form = SurveyAnswerForm(request.POST, survey=survey, language=language)
        valid = form.is_valid()
    if valid:
        try:
            with translation.override(language):
                services.response_submit(
                    invitation=invitation,
                    score=form.cleaned_data.get("score"),
                    follow_up=form.cleaned_data.get("follow_up", ""),
                    comment=form.cleaned_data.get("comment", ""),
                    answers=form.answers(),
                    language=language,
                )
        except ValidationError as exc:
            if exc.code in ("expired", "closed"):
                return _problem(request, exc.code, language)
            if exc.code == "locked":
                return _page(
                    request,
                    "feedback/public/thanks.html",
                    {"response": existing, "locked": True, "token": token},
                    language=language,
                )
            with translation.override(language):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
        else:
            return redirect(reverse("feedback_public:thanks", args=[token]) + f"?lang={language}")
    selected = _score_param(request.POST.get("score"), survey)
    context = _answer_context(invitation, form, language, selected) | {"existing": existing}
    return _page(request, "feedback/public/answer.html", context, language=language, status=422)


@never_cache
@require_GET
def thanks(request: HttpRequest, token: str) -> HttpResponse:
    language = _language(request, None)
    if _limited(request, ("read", "")):
        return _problem(request, "limited", language)
    invitation = _find(token)
    if invitation is None:
        return _problem(request, "unknown", language)
    language = _language(request, invitation)
    response = Response.objects.filter(invitation=invitation).first()
    if response is None:
        return redirect(reverse("feedback_public:answer", args=[token]) + f"?lang={language}")
    locked = timezone.now() - response.answered_at > services.REVISION_WINDOW
    return _page(
        request,
        "feedback/public/thanks.html",
        {"response": response, "locked": locked, "token": token},
        language=language,
    )


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a confirmation page (never unsubscribes: scanners follow links). POST: unsubscribe,
    from the page's button or a mail provider's one-click request (RFC 8058)."""
    language = _language(request, None)
    if _limited(request, ("read" if request.method == "GET" else "write", "")):
        return _problem(request, "limited", language)
    invitation = _find(token)
    if invitation is None:
        return _problem(request, "unknown", language)
    language = _language(request, invitation)
    if request.method == "POST":
        services.unsubscribe(invitation=invitation)
        return _page(request, "feedback/public/unsubscribed.html", {"token": token}, language=language)
    already = services.suppressed(invitation.email)
    return _page(
        request, "feedback/public/unsubscribe.html", {"token": token, "already": already}, language=language
    )


@require_GET
def unknown(request: HttpRequest, rest: str = "") -> HttpResponse:
    return _problem(request, "unknown", _language(request, None))
