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
    _rows_of_every_part(account, carol)
    return make_token(carol, "write")


def _rows_of_every_part(account, manager) -> None:
    """Rows with the blanks and nulls answers really carry (no author, an automatic ledger entry,
    an unanswered question...), so the fuzzer checks the documented answers against them."""
    from loyalty import services as loyalty_services
    from loyalty.models import LinkKind
    from onboarding import services as onboarding_services
    from onboarding.models import OnboardingPlan
    from tests.factories import MrrMovementFactory, TouchpointFactory
    from tests.feedback import factories as f
    from tests.loyalty.helpers import rule
    from tests.onboarding.factories import TemplateFactory, milestone_templates

    TouchpointFactory(account=account, author=None)
    MrrMovementFactory(account=account)
    if not OnboardingPlan.objects.filter(account=account).exists():
        template = TemplateFactory(name="Fuzz onboarding")
        milestone_templates(template)
        onboarding_services.plan_start(account=account, template=template, start_date=account.contract_start)
    contact = ContactFactory(account=account, email="fuzz@customer.example")
    invitation = f.invitation(contact=contact, campaign_obj=f.campaign(by=manager, kind="nps"))
    from feedback import services as feedback_services

    feedback_services.response_submit(invitation=invitation, score=4, comment="")
    rule("survey_answered", 10)
    loyalty_services.points_award_for_event(
        account=account, event="survey_answered", source="fuzz", idempotency_key="fuzz-auto"
    )
    loyalty_services.points_adjust(
        account=account, points=50, reason="fuzz", by=manager, idempotency_key="fuzz-adjust"
    )
    link = loyalty_services.member_link_get(account=account, contact=contact, kind=LinkKind.REFERRAL)
    loyalty_services.referral_submit(
        link=link, company_name="Fuzz Co", domain="fuzzco.example", contact_email="a@fuzzco.example", ip=None
    )


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
