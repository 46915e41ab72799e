"""`manage.py health_recompute --if-stale`: the run command scores a fresh install once a day."""

from io import StringIO

from django.core.management import call_command

from health.models import HealthSnapshot
from tests.factories import AccountFactory


def test_scores_once_then_reports_up_to_date(alice):
    AccountFactory.create_batch(3, owner=alice)
    out = StringIO()
    call_command("health_recompute", "--if-stale", stdout=out)
    assert "Scored 3 of 3 accounts" in out.getvalue()
    assert HealthSnapshot.objects.count() == 3
    out = StringIO()
    call_command("health_recompute", "--if-stale", stdout=out)
    assert "up to date" in out.getvalue()
    assert HealthSnapshot.objects.count() == 3
