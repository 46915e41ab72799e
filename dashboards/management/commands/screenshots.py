"""``manage.py screenshots``: the README's pictures, taken in headless Chromium from demo data.

By default it builds a throw-away demo database in a temporary folder (migrate, ``seed_demo``
with its onboarding plans, survey history and loyalty programme, health scores with their
history), serves it on 127.0.0.1 and photographs the main pages at 1280x800
and the customer's pages on a phone, into docs/screenshots/. Your own database is not touched.

``--here`` photographs the configured database instead (it must hold the demo logins).
Needs Chromium (``/usr/bin/chromium`` or ``CS_CHROMIUM``) and Playwright (requirements-dev.txt).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 (accounts.demo's public demo logins)
CSM, MANAGER = "csm@demo.example", "manager@demo.example"
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]


class Command(BaseCommand):
    help = "Take the README's screenshots of the main pages in headless Chromium, from demo data."

    def add_arguments(self, parser):
        parser.add_argument(
            "--out",
            default=str(Path(settings.BASE_DIR) / "docs" / "screenshots"),
            help="folder for the PNG files (default: %(default)s)",
        )
        parser.add_argument("--seed", type=int, default=7, help="demo data seed (default: %(default)s)")
        parser.add_argument("--accounts", type=int, default=300, help="demo accounts (default: %(default)s)")
        parser.add_argument(
            "--here",
            action="store_true",
            help="photograph the configured database (with the demo logins) instead of a fresh demo one",
        )

    def handle(self, *args, **options):
        out = Path(options["out"]).resolve()
        out.mkdir(parents=True, exist_ok=True)
        if options["here"]:
            self._capture(out)
            return
        with tempfile.TemporaryDirectory(prefix="cs-screenshots-") as tmp:
            env = {
                **os.environ,
                "DATABASE_URL": f"sqlite:///{Path(tmp) / 'demo.sqlite3'}",
                "CS_VAR_DIR": tmp,
                "CELERY_TASK_ALWAYS_EAGER": "true",  # background jobs run inline: no worker needed
                "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
                "CACHE_URL": "locmemcache://",
                "DJANGO_LOG_LEVEL": "WARNING",
                "DJANGO_DEBUG": "true",  # the local settings, whatever the shell says
            }
            manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
            steps = [
                ["migrate", "--no-input", "-v", "0"],
                [
                    "seed_demo",
                    "--quiet",
                    "--seed",
                    str(options["seed"]),
                    "--accounts",
                    str(options["accounts"]),
                ],
                ["health_recompute", "--if-stale"],
                ["screenshots", "--here", "--out", str(out)],
            ]
            for step in steps:
                self.stdout.write(f"==> manage.py {' '.join(step)}")
                if subprocess.run([*manage, *step], env=env, check=False).returncode:  # noqa: S603
                    raise CommandError(f"manage.py {step[0]} failed")

    # ------------------------------------------------------------------ in the demo database

    def _capture(self, out: Path) -> None:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError as exc:
            raise CommandError("Playwright is missing: pip install -r requirements-dev.txt") from exc
        chromium = os.environ.get("CS_CHROMIUM", "/usr/bin/chromium")
        if not Path(chromium).exists():
            raise CommandError(f"Chromium is missing at {chromium} (apt-get install chromium)")
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # ORM calls beside Playwright's loop

        demo = _demo_extras()
        server, url = _serve()
        shots: list[Path] = []
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                try:
                    shots += self._staff(browser, url, out, CSM, _csm_pages(demo))
                    shots += self._staff(browser, url, out, MANAGER, _manager_pages())
                    shots += self._public(browser, url, out, demo)
                finally:
                    browser.close()
        finally:
            server.shutdown()
        for path in shots:
            self.stdout.write(f"{path}  {path.stat().st_size // 1024} KB")

    def _staff(self, browser, url: str, out: Path, email: str, pages) -> list[Path]:
        context = browser.new_context(base_url=url, **DESKTOP)
        page = context.new_page()
        page.goto("/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/dashboard/")
        written = []
        for name, path, scroll_to in pages:
            page.goto(path)
            page.wait_for_load_state("networkidle")
            if scroll_to:
                page.locator(scroll_to).first.scroll_into_view_if_needed()
            written.append(_shot(page, out / f"{name}.png"))
        context.close()
        return written

    def _public(self, browser, url: str, out: Path, demo: dict) -> list[Path]:
        written = []
        for name, path, locale in (
            ("survey-answer-phone", demo["answer_url"], "tr-TR"),
            ("shared-plan-phone", demo["shared_plan_url"], "en-US"),
        ):
            context = browser.new_context(base_url=url, locale=locale, **PHONE)
            page = context.new_page()
            page.goto(path)
            page.wait_for_load_state("networkidle")
            written.append(_shot(page, out / f"{name}.png"))
            context.close()
        return written


def _shot(page, path: Path) -> Path:
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.screenshot(path=str(path), animations="disabled", caret="hide")
    return path


def _csm_pages(demo: dict) -> list[tuple[str, str, str | None]]:
    return [
        ("dashboard", "/dashboard/", None),
        ("portfolio", "/accounts/", None),
        ("account-360", f"/accounts/{demo['account_id']}/", None),
        ("account-health", f"/accounts/{demo['account_id']}/", "#health"),
        ("tasks", "/tasks/", None),
        ("onboarding-plan", f"/onboarding/accounts/{demo['plan_account_id']}/", None),
        ("survey-campaign", f"/feedback/campaigns/{demo['campaign_id']}/", None),
    ]


def _manager_pages() -> list[tuple[str, str, str | None]]:
    return [
        ("leadership", "/dashboard/leadership/", None),
        ("onboarding-board", "/onboarding/", None),
        ("loyalty", "/loyalty/", None),
    ]


def _serve():
    """The app on 127.0.0.1 (a free port) in a thread, static files included."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(StaticFilesHandler(get_wsgi_application()))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _demo_extras() -> dict:
    """The objects the pictures show, picked from what seed_demo made (onboarding plans, survey
    campaigns with answers, the loyalty programme). Only a share link for the plan is created
    when it has none, through the service, as a user would."""
    from django.utils import timezone

    from accounts.models import Account, Contact
    from feedback.models import Campaign, CampaignStatus, Invitation, InvitationStatus
    from feedback.services_outbox import LINK_VALID_DAYS
    from onboarding import services as onboarding
    from onboarding.models import OnboardingPlan, ShareLink
    from team.models import User

    today = timezone.localdate()
    csm = User.objects.get(email=CSM)
    mine = Account.objects.filter(owner=csm, churned_at__isnull=True)

    plan = (
        OnboardingPlan.objects.filter(account__owner=csm, completed_at__isnull=True).order_by("-pk").first()
        or OnboardingPlan.objects.filter(account__owner=csm).order_by("-pk").first()
    )
    if plan is None:
        raise CommandError("The demo data has no onboarding plan of the demo CSM: run seed_demo first.")
    link = ShareLink.objects.filter(plan=plan, revoked_at__isnull=True).first()
    link = link or onboarding.share_link_create(
        plan=plan, by=csm, contact=plan.account.contacts.order_by("pk").first()
    )

    # The CSM's own campaign (CSMs see the campaigns they created).
    campaign = Campaign.objects.visible_to(csm).order_by("-launched_at", "-pk").first()
    if campaign is None:
        raise CommandError("The demo data has no survey campaign of the demo CSM: run seed_demo first.")
    # An NPS link that still answers, of a Turkish contact when there is one.
    unanswered = Invitation.objects.filter(
        status=InvitationStatus.SENT,
        response__isnull=True,
        campaign__survey__kind="nps",
        sent_at__gte=timezone.now() - dt.timedelta(days=LINK_VALID_DAYS - 1),
    ).exclude(campaign__status=CampaignStatus.CANCELLED)
    open_invitation = (
        unanswered.filter(language="tr").order_by("-sent_at", "pk").first()
        or unanswered.order_by("-sent_at", "pk").first()
    )
    if open_invitation is None:
        raise CommandError("The demo data has no unanswered survey invitation to photograph.")
    if open_invitation.language != "tr":
        Contact.objects.filter(pk=open_invitation.contact_id).update(language="tr")
        Invitation.objects.filter(pk=open_invitation.pk).update(language="tr")

    account = (
        mine.filter(health__score__isnull=False, touchpoints__isnull=False)
        .order_by("health__score", "pk")
        .distinct()
        .first()
    ) or mine.order_by("pk").first()
    return {
        "account_id": account.pk,
        "plan_account_id": plan.account_id,
        "campaign_id": campaign.pk,
        "answer_url": f"/s/{open_invitation.token}/?score=8",
        "shared_plan_url": f"/onboarding/shared/{onboarding.share_link_token(link)}/",
        "today": dt.date.isoformat(today),
    }
