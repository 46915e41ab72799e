"""Survey tests: Celery runs in process (eager) so that work enqueued on commit happens in the
test, and the health app's debounced recompute is not enqueued (its own tests cover it)."""

from __future__ import annotations

from unittest import mock

import pytest

from cs_app.celery import app as celery_app


@pytest.fixture(autouse=True)
def _eager_celery():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    with mock.patch("health.tasks.account_health_recompute_task.apply_async") as recompute:
        yield recompute
    celery_app.conf.task_always_eager = previous
