"""Onboarding fixtures: a template with milestones, a plan for alice's and bob's accounts, an
API client for a token, and Celery run in process (eagerly) when a test asks for it."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from api.services import token_create
from cs_app.celery import app as celery_app
from onboarding import services
from onboarding.models import PlanTemplate

from .factories import TemplateFactory, milestone_templates


@pytest.fixture
def template(db):
    """A template with four milestones: two CSM-side, two customer-side; the third delivers value."""
    template = TemplateFactory(name="Test onboarding", segment="", auto_assign=False)
    milestone_templates(template)
    return template


@pytest.fixture
def plan(alice_account, template):
    return services.plan_start(
        account=alice_account, template=template, start_date=alice_account.contract_start
    )


@pytest.fixture
def bob_plan(bob_account, template):
    return services.plan_start(account=bob_account, template=template)


@pytest.fixture
def recent_account(alice):
    """Alice's account whose contract started 20 days ago (milestones partly overdue)."""
    from tests.factories import AccountFactory

    return AccountFactory(
        owner=alice,
        name="Recent Co",
        domain="recent.example",
        contract_start=dt.date.today() - dt.timedelta(days=20),
        lifecycle_stage="onboarding",
    )


@pytest.fixture
def eager_celery():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def api_client_for(db):
    def make(user, scope="write"):
        raw = token_create(name="Test", user=user, scope=scope, created_by=None).raw
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return make


@pytest.fixture(autouse=True)
def _fresh_throttle_cache():
    from django.core.cache import caches

    caches["throttle"].clear()
    yield


def default_template(segment: str) -> PlanTemplate:
    return PlanTemplate.objects.get(segment=segment, auto_assign=True, is_active=True, account_plan="")
