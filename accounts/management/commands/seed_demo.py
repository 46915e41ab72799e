"""``manage.py seed_demo``: demo logins and a deterministic, realistic portfolio (see accounts.demo)."""

from __future__ import annotations

import datetime as dt
import sys

from django.core.management.base import BaseCommand, CommandError

from accounts import demo


def _positive(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Create the demo logins and a realistic portfolio of customer accounts, contacts, MRR history, "
        "touchpoints and usage events, with their onboarding plans, survey campaigns and answers, "
        "follow-ups and loyalty programme. The same --seed and --today always give the same data."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--accounts", type=_positive, default=demo.DEFAULT_ACCOUNTS, help="default: %(default)s"
        )
        parser.add_argument(
            "--events-per-account",
            type=float,
            default=demo.DEFAULT_EVENTS_PER_ACCOUNT,
            help="average usage events per account over the last 26 weeks (default: %(default)s)",
        )
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED, help="default: %(default)s")
        parser.add_argument(
            "--csms",
            type=_positive,
            default=None,
            help="CSMs besides csm@demo.example (default: one per ~2,000 accounts, at least 4)",
        )
        parser.add_argument(
            "--today",
            type=dt.date.fromisoformat,
            default=None,
            help="the day the data is anchored to, YYYY-MM-DD (default: today)",
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when the database already has accounts"
        )
        parser.add_argument("--quiet", action="store_true", help="no progress bar")
        parser.add_argument("--database", default="default", help="database alias (default: %(default)s)")

    def handle(self, *args, **options):
        if options["events_per_account"] < 0:
            raise CommandError("--events-per-account cannot be negative.")
        progress = not options["quiet"] and options["verbosity"] > 0 and sys.stderr.isatty()
        report = demo.seed_demo(
            accounts=options["accounts"],
            events_per_account=options["events_per_account"],
            seed=options["seed"],
            extra_csms=options["csms"],
            today=options["today"],
            if_empty=options["if_empty"],
            progress=progress,
            using=options["database"],
            log=lambda message: self.stdout.write(message) if options["verbosity"] > 1 else None,
        )
        if report.skipped:
            self.stdout.write("The database already has accounts; demo data left as it is.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {report.accounts:,} accounts, {report.contacts:,} contacts, "
                f"{report.movements:,} MRR movements, {report.touchpoints:,} touchpoints and "
                f"{report.events:,} usage events in {report.seconds:.1f} s."
            )
        )
        onboarding, feedback, loyalty = report.onboarding, report.feedback, report.loyalty
        if onboarding and onboarding.plans:
            self.stdout.write(
                f"Onboarding: {onboarding.plans:,} plans with {onboarding.milestones:,} milestones."
            )
        if feedback and feedback.campaigns:
            self.stdout.write(
                f"Surveys: {feedback.campaigns} campaigns, {feedback.invitations:,} invitations, "
                f"{feedback.responses:,} answers, {feedback.follow_ups:,} follow-ups "
                f"({feedback.open_follow_ups:,} open)."
            )
        if loyalty and loyalty.rewards:
            self.stdout.write(
                f"Loyalty: {loyalty.rewards} rewards, {loyalty.members:,} member accounts, "
                f"{loyalty.entries:,} ledger entries, {loyalty.redemptions:,} redemptions, "
                f"{loyalty.referrals} referrals, {loyalty.asks} advocacy asks."
            )
        if options["verbosity"] > 1:
            timings = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in report.timings.items())
            self.stdout.write(f"Timings: {timings}")
        self.stdout.write(f"\nDemo logins (password for all three: {demo.DEMO_PASSWORD})")
        notes = {"CSM": f"owns {report.demo_csm_accounts:,} accounts", "admin": "Django admin at /admin/"}
        for role, email in report.logins:
            note = f"  ({notes[role]})" if role in notes else ""
            self.stdout.write(f"  {role:<8} {email:<22}{note}".rstrip())
