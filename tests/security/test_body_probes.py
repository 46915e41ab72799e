"""Writing into another portfolio through the body: every API write that names an account or a
contact in its body, sent by a CSM once with their own ids (accepted, so the body is right) and
once with another portfolio's (refused, and nothing written there)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Account, Contact, MrrMovement, Touchpoint, UsageEvent
from health.models import Playbook, PlaybookStep, Task
from loyalty.models import AdvocacyAsk, LedgerEntry, Redemption
from loyalty.services import points_adjust
from tests.factories import ContactFactory
from tests.loyalty.factories import RewardFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(alice_account, bob_account, carol):
    alice_account.external_id, bob_account.external_id = "ext-alice", "ext-bob"
    Account.objects.filter(pk=alice_account.pk).update(external_id="ext-alice")
    Account.objects.filter(pk=bob_account.pk).update(external_id="ext-bob")
    for account in (alice_account, bob_account):
        points_adjust(account=account, points=500, reason="probe", by=carol)
    playbook = Playbook.objects.create(name="Probe playbook")
    PlaybookStep.objects.create(playbook=playbook, position=1, title="Call", due_in_days=1)
    return {
        "alice": {"account": alice_account, "contact": ContactFactory(account=alice_account)},
        "bob": {"account": bob_account, "contact": ContactFactory(account=bob_account)},
        "reward": RewardFactory(cost=10),
        "playbook": playbook,
    }


def today() -> str:
    return timezone.localdate().isoformat()


# (address, body for a book, the rows of an account that must not grow)
WRITES = [
    (
        "/api/v1/touchpoints/",
        lambda b, x: {"account": b["account"].pk, "kind": "call", "summary": f"probe {x}"},
        lambda account: Touchpoint.objects.filter(account=account),
    ),
    (
        "/api/v1/touchpoints/",
        lambda b, x: {"account_external_id": b["account"].external_id, "kind": "note", "summary": "probe"},
        lambda account: Touchpoint.objects.filter(account=account),
    ),
    (
        "/api/v1/contacts/",
        lambda b, x: {"account": b["account"].pk, "name": "Probe", "email": f"probe-{x}@example.com"},
        lambda account: Contact.objects.filter(account=account),
    ),
    (
        "/api/v1/contacts/upsert/",
        lambda b, x: {"account": b["account"].pk, "name": "Probe", "email": f"probe2-{x}@example.com"},
        lambda account: Contact.objects.filter(account=account),
    ),
    (
        "/api/v1/mrr-movements/",
        lambda b, x: {"account": b["account"].pk, "kind": "new", "date": today(), "amount": "10.00"},
        lambda account: MrrMovement.objects.filter(account=account),
    ),
    (
        "/api/v1/usage-events/bulk/",
        lambda b, x: {
            "events": [
                {"account": b["account"].pk, "name": "probe", "occurred_at": timezone.now().isoformat()}
            ]
        },
        lambda account: UsageEvent.objects.filter(account=account),
    ),
    (
        "/api/v1/tasks/",
        lambda b, x: {
            "account": b["account"].pk,
            "title": "Probe",
            "due_date": (timezone.localdate() + dt.timedelta(days=2)).isoformat(),
        },
        lambda account: Task.objects.filter(account=account),
    ),
    (
        "/api/v1/playbooks/{playbook}/apply/",
        lambda b, x: {"account": b["account"].pk},
        lambda account: Task.objects.filter(account=account),
    ),
    (
        "/api/v1/redemptions/",
        lambda b, x: {"account": b["account"].pk, "reward": "{reward}"},
        lambda account: Redemption.objects.filter(account=account),
    ),
    (
        "/api/v1/advocacy-asks/",
        lambda b, x: {"contact": b["contact"].pk, "kind": "review"},
        lambda account: AdvocacyAsk.objects.filter(contact__account=account),
    ),
    (
        "/api/v1/loyalty-awards/",
        lambda b, x: {
            "account": b["account"].pk,
            "event": "survey_answered",
            "idempotency_key": f"probe-{x}",
        },
        lambda account: LedgerEntry.objects.filter(account=account),
    ),
    (
        "/api/v1/accounts/bulk-upsert/",
        lambda b, x: {"accounts": [{"external_id": b["account"].external_id, "name": f"Renamed by {x}"}]},
        lambda account: Account.objects.filter(pk=account.pk, name__startswith="Renamed"),
    ),
]


def fill(value, books):
    if isinstance(value, str):
        return int(books["reward"].pk) if value == "{reward}" else value
    if isinstance(value, dict):
        return {k: fill(v, books) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, books) for v in value]
    return value


@pytest.mark.parametrize("index", range(len(WRITES)), ids=[f"{w[0]}#{i}" for i, w in enumerate(WRITES)])
def test_a_csm_writes_only_into_their_own_portfolio(index, books, alice):
    url, body, rows = WRITES[index]
    url = url.format(playbook=books["playbook"].pk)
    client = APIClient()
    client.force_authenticate(alice)
    own = client.post(url, fill(body(books["alice"], "own"), books), format="json")
    assert own.status_code in (200, 201, 202, 207), (url, own.status_code, own.content[:400])
    before = rows(books["bob"]["account"]).count()
    other = client.post(url, fill(body(books["bob"], "other"), books), format="json")
    after = rows(books["bob"]["account"]).count()
    assert after == before, (url, other.status_code, other.content[:400])
    if other.status_code < 300:  # a batch answers per row: that row must be refused
        assert "error" in other.content.decode().lower() or "rejected" in other.content.decode().lower(), (
            url,
            other.content[:400],
        )
    else:
        assert other.status_code in (400, 403, 404), (url, other.status_code)
