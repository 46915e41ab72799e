"""Score every account now (the nightly job, on demand). `--if-stale`: only when today has no
snapshots yet, so the run command can call it at every start and a fresh install shows scores."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from health.models import HealthSnapshot
from health.services import health_scores_recompute


class Command(BaseCommand):
    help = "Recompute every account's health score for today (and raise alerts)."

    def add_arguments(self, parser):
        parser.add_argument("--if-stale", action="store_true", help="do nothing if today is scored")

    def handle(self, *args, if_stale: bool = False, **options):
        if if_stale and HealthSnapshot.objects.filter(day=timezone.localdate()).exists():
            self.stdout.write("Health scores are up to date.")
            return
        report = health_scores_recompute()
        self.stdout.write(
            f"Scored {report.scored:,} of {report.accounts:,} accounts for {report.day}; "
            f"{report.alerts_opened:,} alerts opened, {report.tasks_created:,} tasks created."
        )
