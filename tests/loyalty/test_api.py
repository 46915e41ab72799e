"""The loyalty API: awards with idempotency keys, redemptions with approval, access, bad input."""

import pytest

from loyalty import services
from loyalty.models import LedgerEntry, LinkKind, PointsBalance
from tests.factories import ContactFactory

from .factories import RewardFactory
from .helpers import give, rule

pytestmark = pytest.mark.django_db


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def test_award_is_idempotent(client, alice, alice_account):
    rule("webinar_attended", 25)
    client.force_login(alice)
    body = {"account": alice_account.pk, "event": "webinar_attended", "idempotency_key": "webinar:7:alice"}
    first = post(client, "/api/v1/loyalty-awards/", body)
    assert first.status_code == 201 and first.json()["entry"]["points"] == 25
    again = post(client, "/api/v1/loyalty-awards/", body)
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert again.json()["entry"]["id"] == first.json()["entry"]["id"]
    assert LedgerEntry.objects.filter(account=alice_account).count() == 1


def test_award_bad_input_is_400_with_field_errors(client, alice, bob_account):
    client.force_login(alice)
    response = post(client, "/api/v1/loyalty-awards/", {"account": bob_account.pk, "event": "nope"})
    assert response.status_code == 400
    body = response.content.decode()
    for field in ("account", "event", "idempotency_key"):
        assert f'"{field}"' in body


def test_redemption_request_and_manager_approval(client, alice, carol, alice_account):
    give(alice_account, 200)
    reward = RewardFactory(cost=150)
    client.force_login(alice)
    created = post(client, "/api/v1/redemptions/", {"account": alice_account.pk, "reward": reward.pk})
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert PointsBalance.objects.get(account=alice_account).balance == 50
    assert post(client, f"/api/v1/redemptions/{pk}/approve/", {}).status_code == 403
    refused = post(client, "/api/v1/redemptions/", {"account": alice_account.pk, "reward": reward.pk})
    assert refused.status_code == 400 and "Not enough points" in refused.content.decode()
    client.force_login(carol)
    assert post(client, f"/api/v1/redemptions/{pk}/reject/", {"note": ""}).status_code == 400
    approved = post(client, f"/api/v1/redemptions/{pk}/approve/", {})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"


def test_other_portfolio_is_404(client, alice, bob_account):
    give(bob_account, 500)
    redemption = services.redemption_request(account=bob_account, reward=RewardFactory(cost=10))
    client.force_login(alice)
    assert client.get(f"/api/v1/redemptions/{redemption.pk}/").status_code == 404
    assert not any(
        row["account"] == bob_account.pk for row in _rows(client.get("/api/v1/loyalty-ledger/").json())
    )


def _rows(body):
    return body.get("results", body) if isinstance(body, dict) else body


def test_referral_from_public_form_then_account_via_api_converts(
    client, carol, alice_account, django_capture_on_commit_callbacks
):
    rule("referral_converted", 1000)
    link = services.member_link_get(
        account=alice_account, kind=LinkKind.REFERRAL, contact=ContactFactory(account=alice_account)
    )
    client.post(
        link.get_absolute_url(),
        {"company_name": "Omega", "domain": "omega.example", "contact_email": "a@omega.example"},
    )
    client.force_login(carol)
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            post(
                client,
                "/api/v1/accounts/",
                {
                    "name": "Omega",
                    "domain": "omega.example",
                    "segment": "smb",
                    "contract_start": "2026-01-01",
                },
            ).status_code
            == 201
        )
    referrals = _rows(client.get("/api/v1/referrals/").json())
    assert referrals[0]["status"] == "converted"
    assert PointsBalance.objects.get(account=alice_account).balance == 1000


def test_metrics_match_the_ledger(client, carol, alice_account, bob_account):
    give(alice_account, 300)
    give(bob_account, 100)
    services.redemption_request(account=alice_account, reward=RewardFactory(cost=120))
    client.force_login(carol)
    body = client.get("/api/v1/loyalty-metrics/").json()
    total = sum(LedgerEntry.objects.values_list("points", flat=True))
    assert (body["issued"], body["redeemed"], body["outstanding"]) == (400, 120, total)
    assert body["redemption_rate"] == pytest.approx(0.3)
