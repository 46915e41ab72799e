"""After new data arrives for an account its score is recomputed soon, once per burst: the claim
is a flag on its current-health row, the task is enqueued on commit with a countdown."""

import datetime as dt
from unittest import mock

from django.db import transaction
from django.utils import timezone

from health.models import AccountHealth, HealthSnapshot
from health.services import account_health_schedule_recompute, accounts_health_schedule_recompute
from health.tasks import account_health_recompute_task
from tests.factories import AccountFactory

from .conftest import set_score

ENQUEUE = "health.tasks.account_health_recompute_task.apply_async"


def test_a_burst_enqueues_once_after_commit(alice_account, django_capture_on_commit_callbacks):
    with mock.patch(ENQUEUE) as enqueue, django_capture_on_commit_callbacks(execute=True) as callbacks:
        for _ in range(5):
            account_health_schedule_recompute(account_id=alice_account.pk)
        assert enqueue.call_count == 0  # nothing before the commit
    assert len(callbacks) == 1
    enqueue.assert_called_once_with(kwargs={"account_ids": [alice_account.pk]}, countdown=30)
    assert AccountHealth.objects.get(account=alice_account).recompute_requested_at is not None


def test_rolled_back_data_enqueues_nothing_and_leaves_no_claim(alice_account):
    with mock.patch(ENQUEUE) as enqueue:
        try:
            with transaction.atomic():
                account_health_schedule_recompute(account_id=alice_account.pk)
                raise RuntimeError("the touchpoint failed")
        except RuntimeError:
            pass
    enqueue.assert_not_called()
    assert not AccountHealth.objects.filter(
        account=alice_account, recompute_requested_at__isnull=False
    ).exists()


def test_the_task_recomputes_and_frees_the_claim(alice, touch_card, django_capture_on_commit_callbacks):
    account = AccountFactory(owner=alice)
    set_score(account, 80)
    with mock.patch(ENQUEUE), django_capture_on_commit_callbacks(execute=True):
        account_health_schedule_recompute(account_id=account.pk)
    assert account_health_recompute_task(account_ids=[account.pk]) == 1
    health = AccountHealth.objects.get(account=account)
    assert (health.score, health.recompute_requested_at) == (80, None)
    assert HealthSnapshot.objects.get(account=account).score == 80
    # the next data enqueues again
    with mock.patch(ENQUEUE) as enqueue, django_capture_on_commit_callbacks(execute=True):
        account_health_schedule_recompute(account_id=account.pk)
    enqueue.assert_called_once()


def test_a_stale_claim_is_taken_over(alice_account, django_capture_on_commit_callbacks):
    AccountHealth.objects.create(
        account=alice_account, recompute_requested_at=timezone.now() - dt.timedelta(minutes=11)
    )
    with mock.patch(ENQUEUE) as enqueue, django_capture_on_commit_callbacks(execute=True):
        account_health_schedule_recompute(account_id=alice_account.pk)
    enqueue.assert_called_once()


def test_many_accounts_at_once_in_one_task(alice, django_capture_on_commit_callbacks):
    accounts = [AccountFactory(owner=alice) for _ in range(4)]
    AccountHealth.objects.create(
        account=accounts[0], recompute_requested_at=timezone.now()
    )  # already waiting
    with mock.patch(ENQUEUE) as enqueue, django_capture_on_commit_callbacks(execute=True):
        accounts_health_schedule_recompute(account_ids=[a.pk for a in accounts] * 2)
    enqueue.assert_called_once_with(kwargs={"account_ids": sorted(a.pk for a in accounts[1:])}, countdown=30)


def test_recompute_of_one_account_leaves_the_others(alice, touch_card):
    mine, other = AccountFactory(owner=alice), AccountFactory(owner=alice)
    set_score(mine, 75)
    set_score(other, 75)
    account_health_recompute_task(account_ids=[mine.pk])
    assert list(HealthSnapshot.objects.values_list("account_id", flat=True)) == [mine.pk]
