"""The health grade distribution on S and E (from the daily snapshots) and the migration
matrix between grades."""

import pytest

from dashboards.selectors import health_report
from health.models import HealthSnapshot, ScorecardVersion
from tests.factories import AccountFactory

from .conftest import day, period

pytestmark = pytest.mark.django_db


def snapshot(account, on: str, grade: str, version):
    score = {"green": 80, "yellow": 55, "red": 20, "": None}[grade]
    HealthSnapshot.objects.create(
        account=account, day=day(on), grade=grade, score=score, card_version=version
    )


@pytest.fixture
def version(db):
    return ScorecardVersion.objects.create(digest="test", config={"name": "Test"})


def test_grades_on_S_and_E_and_the_moves_between_them(everyone, alice, version):
    moves = [("green", "green"), ("green", "yellow"), ("yellow", "red"), ("red", "green"), ("red", "red")]
    for before, after in moves:
        account = AccountFactory(owner=alice)
        snapshot(account, "2026-01-01", before, version)
        snapshot(account, "2026-01-31", after, version)
    newcomer = AccountFactory(owner=alice)
    snapshot(newcomer, "2026-01-31", "yellow", version)  # not scored on S
    leaver = AccountFactory(owner=alice)
    snapshot(leaver, "2026-01-01", "red", version)  # not scored on E (churned, say)
    report = health_report(scope=everyone, period=period("2026-01-01", "2026-01-31"))
    assert report.start == {"green": 2, "yellow": 1, "red": 3}
    assert report.end == {"green": 2, "yellow": 2, "red": 2}
    assert report.matrix == {
        ("green", "green"): 1,
        ("green", "yellow"): 1,
        ("yellow", "red"): 1,
        ("red", "green"): 1,
        ("red", "red"): 1,
        (None, "yellow"): 1,
        ("red", None): 1,
    }


def test_the_latest_snapshot_day_on_or_before_each_day_is_used(everyone, alice, version):
    account = AccountFactory(owner=alice)
    snapshot(account, "2025-12-30", "red", version)  # S is Jan 1: no snapshot that day
    snapshot(account, "2026-01-20", "green", version)
    snapshot(account, "2026-02-05", "red", version)  # after E
    report = health_report(scope=everyone, period=period("2026-01-01", "2026-01-31"))
    assert (report.day_start, report.day_end) == (day("2025-12-30"), day("2026-01-20"))
    assert report.matrix == {("red", "green"): 1}


def test_no_snapshots_is_no_data(everyone, alice):
    AccountFactory(owner=alice)
    report = health_report(scope=everyone, period=period("2026-01-01", "2026-01-31"))
    assert not report.has_data and report.end == {} and report.matrix == {}
