"""Each product event reaches a subscribed webhook: the change commits, the delivery is queued on
commit, Celery (run in process here) POSTs it to a real HTTP receiver, signed with HMAC-SHA256,
and the delivery is recorded as delivered. A change that rolls back sends nothing."""

from __future__ import annotations

import datetime as dt
import importlib
import json

import pytest
from django.apps import apps
from django.db import transaction
from django.utils import timezone

from accounts.services import account_create
from api import services
from api.models import DeliveryStatus, Webhook, WebhookDelivery
from cs_app.celery import app as celery_app
from health.models import Alert
from health.services import health_scores_recompute
from tests.factories import AccountFactory, ContactFactory
from tests.health.conftest import only_measures, set_score

from .webhook_receiver import Receiver

ALL_EVENTS = ["alert.raised", "response.detractor", "milestone.completed", "referral.converted"]


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def hook(db, receiver):
    return Webhook.objects.create(name="CRM", url=receiver.url, events=ALL_EVENTS, secret="whsec_test")


@pytest.fixture
def eager_celery():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def health_defaults(db):
    """The default scorecard, rules and playbooks (a transactional test may have flushed them)."""
    importlib.import_module("health.migrations.0002_defaults").create_defaults(apps, None)
    importlib.import_module("health.migrations.0005_usage_collapse_cap").add_cap(apps, None)
    card = only_measures(("days_since_touch", 10, 100, 0))  # score = 100 - days since the last touch
    card.caps.all().delete()


def _delivered(receiver, hook, event: str) -> dict:
    """The one request the receiver got for ``event``, checked for its signature; its document."""
    requests = [r for r in receiver.requests if r["headers"]["X-CS-Event"] == event]
    assert len(requests) == 1, [r["headers"]["X-CS-Event"] for r in receiver.requests]
    (request,) = requests
    assert services.webhook_signature_verify(
        secret=hook.secret, header=request["headers"]["X-CS-Signature"], body=request["body"]
    )
    assert not services.webhook_signature_verify(
        secret="whsec_other", header=request["headers"]["X-CS-Signature"], body=request["body"]
    )
    document = json.loads(request["body"])
    assert document["event"] == event
    delivery = WebhookDelivery.objects.get(uuid=document["id"])
    assert (delivery.status, delivery.attempts, delivery.response_status) == (
        DeliveryStatus.SUCCEEDED,
        1,
        200,
    )
    assert request["headers"]["X-CS-Delivery"] == str(delivery.uuid)
    return document


def test_alert_raised(
    hook, receiver, alice, health_defaults, eager_celery, django_capture_on_commit_callbacks
):
    account = AccountFactory(owner=alice, name="Quiet Co", external_id="CRM-Q")
    set_score(account, 20)  # red: the "fell into red" and "no touchpoint" rules fire
    with django_capture_on_commit_callbacks(execute=True):
        report = health_scores_recompute()
        assert receiver.requests == []  # nothing leaves before the commit
    assert report.alerts_opened >= 1
    alerts = Alert.objects.filter(account=account).select_related("rule")
    assert alerts.exists()
    documents = [
        json.loads(r["body"]) for r in receiver.requests if r["headers"]["X-CS-Event"] == "alert.raised"
    ]
    assert sorted(d["data"]["alert"]["id"] for d in documents) == sorted(a.pk for a in alerts)
    assert len(receiver.requests) == alerts.count()
    alert = alerts.first()
    document = next(d for d in documents if d["data"]["alert"]["id"] == alert.pk)
    assert document["data"]["account"] == {"id": account.pk, "name": "Quiet Co", "external_id": "CRM-Q"}
    assert document["data"]["owner"] == alice.email
    assert document["data"]["alert"]["rule"] == alert.rule.name
    assert document["data"]["alert"]["severity"] == alert.severity
    for request in receiver.requests:
        assert services.webhook_signature_verify(
            secret=hook.secret, header=request["headers"]["X-CS-Signature"], body=request["body"]
        )
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SUCCEEDED}

    # The next run raises nothing new (one open alert per account and rule), so sends nothing.
    with django_capture_on_commit_callbacks(execute=True):
        health_scores_recompute()
    assert WebhookDelivery.objects.count() == alerts.count()


def test_no_subscriber_no_delivery_and_one_query(alice, health_defaults, django_assert_max_num_queries):
    from health.services import _alerts_raised_emit

    Webhook.objects.create(name="Other", url="http://127.0.0.1:9/", events=["referral.converted"])
    account = AccountFactory(owner=alice)
    set_score(account, 20)  # red: the "fell into red" and "no touchpoint" rules fire
    health_scores_recompute()
    alerts = list(Alert.objects.select_related("rule"))
    assert alerts
    with django_assert_max_num_queries(1):
        _alerts_raised_emit(alerts)
    assert not WebhookDelivery.objects.exists()


def test_detractor_response(hook, receiver, alice, eager_celery, django_capture_on_commit_callbacks):
    from feedback import services as feedback_services
    from tests.feedback import factories as f

    account = AccountFactory(owner=alice, name="Alpha Co")
    contact = ContactFactory(account=account, name="Dana Decider", email="dana@alpha.example")
    invitation = f.invitation(contact=contact, campaign_obj=f.campaign(by=alice, kind="nps"))
    with django_capture_on_commit_callbacks(execute=True):
        response = feedback_services.response_submit(invitation=invitation, score=3, comment="Too slow")
        assert receiver.requests == []
    data = _delivered(receiver, hook, "response.detractor")["data"]
    assert (data["response_id"], data["score"], data["comment"]) == (response.pk, 3, "Too slow")
    assert data["account"]["id"] == account.pk and data["contact"]["email"] == "dana@alpha.example"

    # A promoter's answer is no detractor: no second "response.detractor" (the answers may raise
    # health alerts, which go out as "alert.raised").
    happy = f.invitation(contact=ContactFactory(account=account), campaign_obj=invitation.campaign)
    with django_capture_on_commit_callbacks(execute=True):
        feedback_services.response_submit(invitation=happy, score=10)
    _delivered(receiver, hook, "response.detractor")


def test_milestone_completed(
    hook, receiver, alice, alice_account, eager_celery, django_capture_on_commit_callbacks
):
    from onboarding import services as onboarding_services
    from tests.onboarding.factories import TemplateFactory, milestone_templates

    template = TemplateFactory(name="Webhook onboarding")
    milestone_templates(template)
    plan = onboarding_services.plan_start(
        account=alice_account, template=template, start_date=alice_account.contract_start
    )
    milestone = plan.milestones.get(name="First report live")
    with django_capture_on_commit_callbacks(execute=True):
        onboarding_services.milestone_status_set(
            milestone=milestone, status="done", done_on=timezone.localdate(), by=alice
        )
        assert receiver.requests == []
    data = _delivered(receiver, hook, "milestone.completed")["data"]
    assert data["milestone"]["id"] == milestone.pk and data["milestone"]["delivers_value"] is True
    assert data["account"]["id"] == alice_account.pk and data["done_by"] == alice.email


def test_referral_converted(hook, receiver, alice_account, eager_celery, django_capture_on_commit_callbacks):
    from loyalty import services as loyalty_services
    from loyalty.models import LinkKind
    from tests.loyalty.helpers import rule

    rule("referral_converted", 1000)
    contact = ContactFactory(account=alice_account, email="pat@alpha.example")
    link = loyalty_services.member_link_get(account=alice_account, contact=contact, kind=LinkKind.REFERRAL)
    referral = loyalty_services.referral_submit(
        link=link,
        company_name="Zeta Corp",
        domain="zeta.example",
        contact_email="cto@zeta.example",
        ip="203.0.113.5",
    )
    with django_capture_on_commit_callbacks(execute=True):
        account = account_create(
            name="Zeta", domain="zeta.example", segment="smb", contract_start=dt.date(2026, 1, 1)
        )
        assert receiver.requests == []
    data = _delivered(receiver, hook, "referral.converted")["data"]
    assert data["referral"]["id"] == referral.pk and data["referral"]["domain"] == "zeta.example"
    assert data["account"] == {"id": account.pk, "name": "Zeta", "external_id": None}
    assert data["referrer_account"]["id"] == alice_account.pk
    assert data["points"] == 1000


def test_a_rolled_back_recompute_sends_no_alert(
    hook, receiver, alice, health_defaults, django_capture_on_commit_callbacks
):
    account = AccountFactory(owner=alice)
    set_score(account, 20)  # red: the "fell into red" and "no touchpoint" rules fire
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        health_scores_recompute()
        assert WebhookDelivery.objects.exists()
        transaction.set_rollback(True)
    assert callbacks == []
    assert not WebhookDelivery.objects.exists() and receiver.requests == []
