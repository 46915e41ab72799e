"""Score every account now (the nightly job, on demand).

`--if-stale`: only when today has no snapshots yet, so the run command can call it at every start
and a fresh install shows scores. When there is no snapshot at all (a fresh install), it first
fills in the last `--history` days (default 30) by replaying each day from the data recorded before
it, as the backtest does, so the 7- and 30-day changes and the score charts have something to show.
`--history N` without `--if-stale` replays the last N days whatever is stored (replacing them).
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account
from health.models import HealthSnapshot
from health.services import health_scores_recompute

FRESH_INSTALL_HISTORY_DAYS = 30


class Command(BaseCommand):
    help = "Recompute every account's health score for today (and raise alerts)."

    def add_arguments(self, parser):
        parser.add_argument("--if-stale", action="store_true", help="do nothing if today is scored")
        parser.add_argument(
            "--history",
            type=int,
            default=None,
            metavar="DAYS",
            help="first replay the last DAYS days (default with --if-stale on a fresh install: "
            f"{FRESH_INSTALL_HISTORY_DAYS}; 0 for none)",
        )

    def handle(self, *args, if_stale: bool = False, history: int | None = None, **options):
        if history is not None and not 0 <= history <= 400:
            raise CommandError("--history takes 0 to 400 days.")
        if if_stale:
            if HealthSnapshot.objects.filter(day=timezone.localdate()).exists():
                self.stdout.write("Health scores are up to date.")
                return
            if history is None:
                history = 0 if HealthSnapshot.objects.exists() else FRESH_INSTALL_HISTORY_DAYS
        if history:
            self._replay(days=history)
        report = health_scores_recompute()
        self.stdout.write(
            f"Scored {report.scored:,} of {report.accounts:,} accounts for {report.day}; "
            f"{report.alerts_opened:,} alerts opened, {report.tasks_created:,} tasks created."
        )

    def _replay(self, *, days: int) -> None:
        """The last ``days`` days, oldest first, each from the data before that day's end; no alerts
        (they would be raised late, for the past). Current customers only: a churned account keeps
        no current score, and an account has no score before its contract started."""
        current = Account.objects.filter(churned_at__isnull=True)
        today = timezone.localdate()
        tz = timezone.get_current_timezone()
        for back in range(days, 0, -1):
            day = today - dt.timedelta(days=back)
            end_of_day = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=tz)
            customers = current.filter(Q(contract_start__isnull=True) | Q(contract_start__lte=day))
            health_scores_recompute(accounts=customers, now=end_of_day, evaluate_alerts=False, replay=True)
        self.stdout.write(f"Replayed the health scores of the last {days} days.")
