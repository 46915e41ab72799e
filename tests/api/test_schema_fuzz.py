"""Property-based run over the published schema: whatever the input, never a 5xx.

schemathesis generates valid and invalid requests for every operation from /api/schema/ and
sends them to the WSGI app with a manager's read-and-write token. Examples are bounded
(``CS_FUZZ_EXAMPLES``, default 25 per operation; ``CS_FUZZ_PATHS``, a regular expression, limits
the run to some paths) so the run takes well under two minutes; CI
runs it with the rest of the suite (marker: fuzz).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cs_app.wsgi import application
from tests.factories import AccountFactory, ContactFactory, UsageEventFactory

EXAMPLES = int(os.environ.get("CS_FUZZ_EXAMPLES", "25"))

config = SchemathesisConfig.from_dict({"generation": {"mode": "all"}})
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=config)
if os.environ.get("CS_FUZZ_PATHS"):  # a regular expression, to fuzz only some paths while working on them
    schema = schema.include(path_regex=os.environ["CS_FUZZ_PATHS"])


@pytest.fixture
def manager_token(db, carol, make_token):
    from django.utils import timezone

    from health.models import AccountHealth, Alert, AlertRule, Playbook, PlaybookStep, Task

    account = AccountFactory(owner=carol, external_id="crm-1")
    ContactFactory(account=account, email="ann@customer.example")
    UsageEventFactory(account=account)
    # a row behind each health resource, so generated ids can hit one
    today = timezone.localdate()
    AccountHealth.objects.create(account=account, day=today, score=35, grade="red", grade_order=1)
    rule, _ = AlertRule.objects.get_or_create(
        name="Fuzz: quiet account", defaults={"kind": "no_touch", "threshold": 30}
    )
    Alert.objects.create(account=account, rule=rule, severity="high", details="Quiet")
    Task.objects.create(account=account, owner=carol, title="Check in", due_date=today)
    playbook, _ = Playbook.objects.get_or_create(name="Fuzz playbook")
    PlaybookStep.objects.get_or_create(
        playbook=playbook, position=1, defaults={"title": "Call", "due_in_days": 1}
    )
    return make_token(carol, "write")


@pytest.fixture
def keep_test_connection():
    """The WSGI app closes "obsolete" connections after each request, as in production; inside a
    test transaction that would close the test's own connection. Django's test client does this too."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.fuzz
@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_gives_a_server_error(case, manager_token, settings_throttle_off, keep_test_connection):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {manager_token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )


@pytest.fixture
def settings_throttle_off(settings):
    rates = dict(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": dict.fromkeys(rates, "1000000/min"),
    }
