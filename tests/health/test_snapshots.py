"""A daily snapshot per account: unique per account and day, recomputing replaces it; the current
score row follows; the work is set-based (the query count does not grow with accounts)."""

import datetime as dt

import pytest
from django.db import IntegrityError
from django.utils import timezone

from accounts.models import Account
from health.models import AccountHealth, HealthSnapshot
from health.selectors import scores_compute
from health.services import health_scores_recompute
from tests.conftest import requires_postgres
from tests.factories import AccountFactory, UserFactory

from .conftest import past_snapshot, set_score


def test_one_snapshot_per_account_and_day_and_recompute_replaces(alice, touch_card):
    account = AccountFactory(owner=alice)
    set_score(account, 90)
    health_scores_recompute()
    set_score(account, 35)
    health_scores_recompute()
    snapshot = HealthSnapshot.objects.get(account=account)
    assert (snapshot.day, snapshot.score, snapshot.grade) == (timezone.localdate(), 35, "red")
    assert snapshot.raw == [65.0]
    assert snapshot.measures == {"days_since_touch": [65.0, 35.0, 10, 35.0]}  # raw, score, weight, points
    assert snapshot.card_version.scorecard == touch_card
    assert snapshot.card_version.config["measures"] == [["days_since_touch", 10, 100.0, 0.0]]


def test_database_refuses_a_second_snapshot_for_the_same_day(alice_account):
    past_snapshot(alice_account, dt.date(2026, 1, 5), 50, "yellow")
    with pytest.raises(IntegrityError):
        past_snapshot(alice_account, dt.date(2026, 1, 5), 51, "yellow")


def test_deleting_an_account_deletes_its_snapshots(alice, touch_card):
    # The snapshot table has no foreign-key constraint in the database (the nightly job writes
    # 100,000 rows; health migration 0007): Django's on_delete does the cascade.
    account, other = AccountFactory(owner=alice), AccountFactory(owner=alice)
    health_scores_recompute()
    past_snapshot(account, dt.date(2026, 1, 5), 50, "yellow")
    assert HealthSnapshot.objects.filter(account=account).count() == 2
    account.delete()
    assert not HealthSnapshot.objects.filter(account_id=account.pk).exists()
    assert HealthSnapshot.objects.filter(account=other).count() == 1


def test_current_health_row_has_score_grade_and_changes_over_7_and_30_days(alice, touch_card):
    account = AccountFactory(owner=alice)
    today = timezone.localdate()
    past_snapshot(account, today - dt.timedelta(days=7), 80, "green")
    past_snapshot(account, today - dt.timedelta(days=30), 95, "green")
    AccountHealth.objects.create(account=account, day=today - dt.timedelta(days=1), score=78, grade="green")
    set_score(account, 62)
    health_scores_recompute()
    health = AccountHealth.objects.get(account=account)
    assert (health.day, health.score, health.grade, health.grade_order) == (today, 62, "yellow", 2)
    assert (health.change_7d, health.change_30d) == (-18, -33)
    assert (health.previous_score, health.previous_grade) == (78, "green")
    # recomputing today keeps yesterday's as the previous score
    set_score(account, 60)
    health_scores_recompute()
    health.refresh_from_db()
    assert (health.score, health.previous_score, health.previous_grade) == (60, 78, "green")
    assert HealthSnapshot.objects.filter(account=account).count() == 3


def test_history_is_kept_one_row_per_day(alice, touch_card):
    account = AccountFactory(owner=alice)
    now = timezone.now()
    for days_ago, score in [(2, 90), (1, 80), (0, 70)]:
        when = now - dt.timedelta(days=days_ago)
        set_score(account, score, now=when)
        health_scores_recompute(now=when)
    assert list(
        HealthSnapshot.objects.filter(account=account).order_by("day").values_list("score", flat=True)
    ) == [
        90,
        80,
        70,
    ]


def test_recompute_is_set_based(alice, touch_card, django_assert_max_num_queries):
    for _ in range(3):
        set_score(AccountFactory(owner=alice), 50)
    with django_assert_max_num_queries(40) as small:
        health_scores_recompute()
    for _ in range(40):
        set_score(AccountFactory(owner=alice), 90)
    with django_assert_max_num_queries(len(small.captured_queries)):
        report = health_scores_recompute()
    assert report.accounts == 43 and report.scored == 43
    assert HealthSnapshot.objects.count() == 43 and AccountHealth.objects.count() == 43


def _backends() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_batches_processed_in_parallel_score_like_one_pass(touch_card):
    """On PostgreSQL outside a transaction, batches are processed three at a time, each in a thread
    and connection of its own: the result is the same as scoring everything in one pass, and the
    threads' connections are closed at the end, the run's settings gone from the caller's."""
    from django.db import connection

    owner = UserFactory()
    accounts = [AccountFactory(owner=owner) for _ in range(25)]
    for i, account in enumerate(accounts):
        set_score(account, (i * 37) % 101)
    before = _backends()
    report = health_scores_recompute(batch_size=6)
    assert report.accounts == report.scored == 25
    assert (report.batches, report.workers) == (6, 3)  # 25 accounts by 6: 5 batches, made a multiple of 3
    expected = scores_compute(day=timezone.localdate(), as_of=timezone.now()).results
    stored = dict(HealthSnapshot.objects.values_list("account_id", "score"))
    assert stored == {aid: result.score for aid, result in expected.items()}
    assert AccountHealth.objects.count() == 25
    assert report.alerts_opened == sum(1 for r in expected.values() if r.grade == "red")
    assert _backends() <= before  # the run's own connections are closed
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        jit = cursor.fetchone()[0]
        cursor.execute("SHOW random_page_cost")
        assert (jit, cursor.fetchone()[0]) == ("on", "4")


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_failing_batch_fails_the_run_and_leaves_no_connection(touch_card, monkeypatch):
    """A batch that fails fails the run (with its error), having written nothing; every batch
    written is whole (its own transaction); the batches not started by then are not; the threads'
    connections are closed."""
    from accounts.models import Account
    from health import services

    owner = UserFactory()
    for i in range(25):
        set_score(AccountFactory(owner=owner), i * 4)
    ranges = services._id_ranges(None, 6, multiple=services.BATCH_WORKERS)
    real = services._write

    def write(results, **kwargs):
        if min(results) >= ranges[1][0] and max(results) <= ranges[1][1]:
            raise RuntimeError("disk full")
        return real(results, **kwargs)

    monkeypatch.setattr(services, "_write", write)
    before = _backends()
    with pytest.raises(RuntimeError, match="disk full"):
        health_scores_recompute(batch_size=6)
    written = set(HealthSnapshot.objects.values_list("account_id", flat=True))
    assert set(AccountHealth.objects.values_list("account_id", flat=True)) == written
    for index, (lo, hi) in enumerate(ranges):
        batch = set(Account.objects.filter(pk__gte=lo, pk__lte=hi).values_list("pk", flat=True))
        assert written & batch in ((set(),) if index == 1 else (set(), batch))  # whole or not at all
    assert _backends() <= before  # the run's own connections are closed


@requires_postgres
def test_a_recompute_inside_a_transaction_leaves_the_planner_as_it_was(alice):
    """The current-health write turns nested-loop joins off for its two statements only: a
    recompute inside a longer transaction (a debounced one) must not change what follows."""
    from django.db import connection, transaction

    from accounts.models import Account

    account = AccountFactory(owner=alice)
    with transaction.atomic():
        report = health_scores_recompute(
            accounts=Account.objects.filter(pk=account.pk), evaluate_alerts=False
        )
        with connection.cursor() as cursor:
            cursor.execute("SHOW enable_nestloop")
            assert cursor.fetchone()[0] == "on"
            cursor.execute("SHOW synchronous_commit")  # the caller's commit still waits for the disk
            assert cursor.fetchone()[0] == "on"
    assert report.accounts == 1 and AccountHealth.objects.filter(account=account).exists()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_batch_in_its_own_transaction_commits_without_waiting_for_the_disk(touch_card):
    """Snapshots and current rows are derived data: a batch written in its own transaction commits
    asynchronously (SET LOCAL: that transaction only), and the connection is as it was after."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    set_score(AccountFactory(owner=UserFactory()), 50)
    with CaptureQueriesContext(connection) as queries:
        health_scores_recompute(parallel=False, evaluate_alerts=False)
    assert any(q["sql"] == "SET LOCAL synchronous_commit = off" for q in queries.captured_queries)
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
    assert HealthSnapshot.objects.count() == 1


@requires_postgres
def test_current_health_pages_keep_room_for_tonights_rows(db):
    """health 0009: pages half full, so a row whose indexed values do not change is rewritten in
    place (no new index entries), as about half are every night."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'health_accounthealth'")
        assert cursor.fetchone()[0] == ["fillfactor=50"]


def test_batches_come_in_multiples_of_the_workers_unless_too_few_accounts(db, monkeypatch):
    from health import services

    for _ in range(25):
        AccountFactory()
    assert len(services._id_ranges(None, 10_000, multiple=3)) == 1  # 25 accounts: one batch
    assert len(services._id_ranges(None, 6, multiple=3)) == 6  # 5 batches of 6, made 6
    assert len(services._id_ranges(None, 6)) == 5
    monkeypatch.setattr(services, "MIN_BATCH", 8)  # 25 accounts >= 3 x 8: shared out
    ranges = services._id_ranges(None, 10_000, multiple=3)
    assert len(ranges) == 3 and ranges[0][0] == min(a.pk for a in Account.objects.all())
