"""Production headers: HSTS, frame denial, referrer policy, no sniffing, a Content Security Policy
with no inline script anywhere (htmx configured for it), and Secure + HttpOnly cookies.

The production values are read the way production reads them: the settings module loaded in a
subprocess with DJANGO_DEBUG=false, its security settings applied here."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse

from tests.factories import PASSWORD

BASE_DIR = Path(__file__).resolve().parent.parent.parent
SECURITY_SETTINGS = [
    "DEBUG",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SECURE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "X_FRAME_OPTIONS",
]


@pytest.fixture(scope="module")
def production_settings(tmp_path_factory) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "CS_"))}
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="cs.example.com",
        CS_VAR_DIR=str(tmp_path_factory.mktemp("var")),
        DJANGO_SETTINGS_MODULE="cs_app.settings",
    )
    code = (
        "import json; from cs_app import settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {SECURITY_SETTINGS!r}}}))"
    )
    out = subprocess.run(  # noqa: S603 (our own interpreter and settings)
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    values = json.loads(out.stdout.strip().splitlines()[-1])
    values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"] or ()) or None
    return values


@pytest.fixture
def production(production_settings):
    applied = {k: v for k, v in production_settings.items() if k != "DEBUG"}
    with override_settings(**applied, DEBUG=False):
        yield production_settings


def test_production_turns_every_protection_on(production_settings):
    s = production_settings
    assert s["DEBUG"] is False
    assert s["SESSION_COOKIE_SECURE"] and s["SESSION_COOKIE_HTTPONLY"] and s["CSRF_COOKIE_SECURE"]
    assert s["SECURE_SSL_REDIRECT"] and s["SECURE_HSTS_SECONDS"] >= 31536000
    assert s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] and s["X_FRAME_OPTIONS"] == "DENY"


@pytest.mark.django_db
def test_pages_carry_the_headers_over_https(client, production, alice, alice_account):
    client.force_login(alice)
    for url in (reverse("accounts:portfolio"), reverse("accounts:detail", args=[alice_account.pk])):
        response = client.get(url, secure=True)
        assert response.status_code == 200, url
        assert response["Strict-Transport-Security"].startswith("max-age=31536000")
        assert "includeSubDomains" in response["Strict-Transport-Security"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"
        parts = [part.split() for part in response["Content-Security-Policy"].split(";") if part.strip()]
        csp = {part[0]: part[1:] for part in parts}
        assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
        assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]
        assert "'unsafe-eval'" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_plain_http_is_sent_to_https(client, production):
    response = client.get(reverse("team:login"))
    assert response.status_code == 301 and response["Location"].startswith("https://")


@pytest.mark.django_db
def test_public_token_pages_carry_the_policy(client, production, alice_account):
    from loyalty import services
    from loyalty.models import LinkKind

    link = services.member_link_get(account=alice_account, kind=LinkKind.REFERRAL)
    response = client.get(link.get_absolute_url(), secure=True)
    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_login_cookies_are_secure_and_http_only(client, production, alice):
    page = client.get(reverse("team:login"), secure=True)
    csrf = page.cookies["csrftoken"]
    assert csrf["secure"]
    response = client.post(
        reverse("team:login"),
        {"username": alice.email, "password": PASSWORD},
        secure=True,
    )
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


def test_no_inline_script_or_event_handler_in_any_template():
    """The policy forbids inline script; so do the templates (htmx runs from its static file)."""
    offenders = []
    for path in [*BASE_DIR.glob("templates/**/*.html"), *BASE_DIR.glob("*/templates/**/*.html")]:
        if ".venv" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text, flags=re.IGNORECASE):
            if "src=" not in tag and 'type="application/json"' not in tag:
                offenders.append(f"{path}: {tag}")
        if re.search(r"\son[a-z]+\s*=\s*[\"']", text, flags=re.IGNORECASE):
            offenders.append(f"{path}: an on* event handler attribute")
        if re.search(r"(hx-on[:-]|javascript:)", text, flags=re.IGNORECASE):
            offenders.append(f"{path}: inline script through hx-on or javascript:")
    assert not offenders, "\n".join(offenders)


def test_htmx_is_configured_for_the_policy():
    base = (BASE_DIR / "templates" / "base.html").read_text(encoding="utf-8")
    config = json.loads(re.search(r'name="htmx-config" content=\'([^\']+)\'', base).group(1))
    assert config["includeIndicatorStyles"] is False  # htmx would inject an inline <style>
    assert config["allowEval"] is False  # no eval: hx-on, js: values and filters are off
