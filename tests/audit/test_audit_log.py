"""The audit log: each sensitive action writes one entry (who, what, when, from where); the
admin shows it to admins only, filterable and searchable, and nobody can change it."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from accounts.services import account_reassign_owner
from api import services as api_services
from audit.models import AuditAction, AuditEntry
from audit.services import audit_record
from feedback import services as feedback_services
from loyalty import services as loyalty_services
from onboarding import services as onboarding_services
from team.models import Role, User
from tests.factories import AccountFactory, UserFactory
from tests.feedback.factories import campaign
from tests.loyalty.factories import RewardFactory
from tests.loyalty.helpers import give
from tests.onboarding.factories import TemplateFactory, milestone_templates

pytestmark = pytest.mark.django_db


def only_entry(action: str) -> AuditEntry:
    entries = list(AuditEntry.objects.filter(action=action))
    assert len(entries) == 1, entries
    return entries[0]


def test_owner_reassignment_is_recorded_with_both_owners(carol, alice, bob, alice_account):
    account_reassign_owner(account=alice_account, owner=bob, by=carol)
    entry = only_entry(AuditAction.OWNER_REASSIGN)
    assert entry.actor == carol and entry.actor_label == carol.email
    assert (entry.target_type, entry.target_id) == ("accounts.account", str(alice_account.pk))
    assert entry.details["from_owner_id"] == alice.pk and entry.details["to_owner_id"] == bob.pk
    assert entry.created_at is not None


def test_reassignment_from_the_page_records_the_client_address(client, carol, bob, alice_account):
    client.force_login(carol)
    client.post(
        reverse("accounts:reassign", args=[alice_account.pk]), {"owner": bob.pk}, REMOTE_ADDR="203.0.113.7"
    )
    alice_account.refresh_from_db()
    assert alice_account.owner == bob
    assert only_entry(AuditAction.OWNER_REASSIGN).ip == "203.0.113.7"


def test_refused_reassignment_leaves_no_entry(alice, bob, alice_account):
    with pytest.raises(PermissionError):
        account_reassign_owner(account=alice_account, owner=bob, by=alice)
    assert not AuditEntry.objects.exists()


def test_points_adjustment_is_recorded(carol, alice_account):
    give(alice_account, 100)
    loyalty_services.points_adjust(account=alice_account, points=-40, reason="Duplicate award", by=carol)
    entry = AuditEntry.objects.filter(action=AuditAction.POINTS_ADJUST).first()  # newest first
    assert entry.actor == carol and entry.target_id == str(alice_account.pk)
    assert entry.details["points"] == -40 and entry.details["reason"] == "Duplicate award"


def test_redemption_approval_is_recorded(carol, alice_account):
    give(alice_account, 500)
    redemption = loyalty_services.redemption_request(account=alice_account, reward=RewardFactory(cost=100))
    loyalty_services.redemption_approve(redemption=redemption, by=carol)
    entry = only_entry(AuditAction.REDEMPTION_APPROVE)
    assert entry.actor == carol and entry.target_type == "loyalty.redemption"
    assert entry.details["points"] == 100 and entry.details["account_id"] == alice_account.pk


def test_token_creation_and_revocation_are_recorded_once(carol, alice):
    issued = api_services.token_create(name="CRM sync", user=alice, scope="read", created_by=carol)
    created = only_entry(AuditAction.TOKEN_CREATE)
    assert created.actor == carol and created.details["acts_for"] == alice.email
    assert issued.raw not in str(created.details)  # the secret itself is never logged
    api_services.token_revoke(token=issued.token, by=carol)
    api_services.token_revoke(token=issued.token, by=carol)  # twice changes nothing
    assert only_entry(AuditAction.TOKEN_REVOKE).target_id == str(issued.token.pk)


def test_role_change_in_the_admin_is_recorded(dave):
    user = UserFactory(role=Role.CSM)
    model_admin = admin.site._registry[User]
    request = RequestFactory().post("/admin/", REMOTE_ADDR="198.51.100.4")
    request.user = dave
    user.role = Role.MANAGER
    model_admin.save_model(request, user, form=None, change=True)
    entry = only_entry(AuditAction.ROLE_CHANGE)
    assert entry.actor == dave and entry.target_id == str(user.pk)
    assert entry.details["changes"] == {"role": ["csm", "manager"]}
    model_admin.save_model(request, user, form=None, change=True)  # nothing changed: no entry
    assert AuditEntry.objects.count() == 1


def test_admin_delete_page_and_bulk_delete_are_recorded(admin_client, admin_user):
    one, two, three = AccountFactory.create_batch(3)
    admin_client.post(reverse("admin:accounts_account_delete", args=[one.pk]), {"post": "yes"})
    admin_client.post(
        reverse("admin:accounts_account_changelist"),
        {"action": "delete_selected", "_selected_action": [two.pk, three.pk], "post": "yes"},
    )
    entries = AuditEntry.objects.filter(action=AuditAction.DELETE)
    assert sorted(int(e.target_id) for e in entries) == sorted([one.pk, two.pk, three.pk])
    assert {(e.target_type, e.actor_id) for e in entries} == {("accounts.account", admin_user.pk)}
    assert one.name in {e.target_label for e in entries}  # the name survives the row


def test_campaign_and_plan_deletions_from_the_pages_are_recorded(alice, alice_account):
    draft = campaign(by=alice, status="draft", name="Q3 pulse")
    feedback_services.campaign_delete_draft(campaign=draft, by=alice)
    assert only_entry(AuditAction.DELETE).target_label.startswith("Q3 pulse")
    template = TemplateFactory()
    milestone_templates(template)
    plan = onboarding_services.plan_start(account=alice_account, template=template, by=alice)
    onboarding_services.plan_delete(plan=plan, by=alice)
    entry = AuditEntry.objects.get(target_type="onboarding.onboardingplan")
    assert entry.actor == alice and entry.details["account_id"] == alice_account.pk


def test_admin_csv_export_is_recorded(admin_client, admin_user):
    AccountFactory.create_batch(2)
    data = {"format": "0", "resource": "0", "accountresource_name": "on"}
    response = admin_client.post(reverse("admin:accounts_account_export"), data)
    assert response.status_code == 200
    entry = only_entry(AuditAction.EXPORT)
    assert entry.actor == admin_user and entry.target_type == "accounts.account"
    assert entry.details["rows"] == 2


def test_dashboard_csv_export_is_recorded(client, carol):
    client.force_login(carol)
    response = client.get(reverse("dashboards:renewals"), {"export": "renewing-accounts"})
    assert response["Content-Type"].startswith("text/csv")
    entry = only_entry(AuditAction.EXPORT)
    assert entry.actor == carol and entry.target_label.startswith("renewals-")


def test_backtest_csv_export_is_recorded(client, carol):
    client.force_login(carol)
    response = client.get(reverse("health:backtest"), {"format": "csv", "day": "2026-01-01", "horizon": 90})
    assert response["Content-Type"].startswith("text/csv")
    assert only_entry(AuditAction.EXPORT).target_type == "health.backtest"


# --------------------------------------------------------------------- the admin


def test_admins_read_filter_and_search_the_log(admin_client, dave, carol):
    audit_record(actor=carol, action=AuditAction.POINTS_ADJUST, target_label="Alpha", details={})
    audit_record(actor=dave, action=AuditAction.TOKEN_CREATE, target_label="Zulu token", details={})
    url = reverse("admin:audit_auditentry_changelist")
    page = admin_client.get(url).content.decode()
    assert "Alpha" in page and "Zulu token" in page
    filtered = admin_client.get(url, {"action__exact": AuditAction.TOKEN_CREATE}).content.decode()
    assert "Zulu token" in filtered and "Alpha" not in filtered
    searched = admin_client.get(url, {"q": "carol@"}).content.decode()
    assert "Alpha" in searched and "Zulu token" not in searched
    entry = AuditEntry.objects.get(target_label="Alpha")
    assert admin_client.get(reverse("admin:audit_auditentry_change", args=[entry.pk])).status_code == 200


def test_nobody_adds_changes_or_deletes_an_entry(admin_client, carol):
    entry = audit_record(actor=carol, action=AuditAction.EXPORT, target_label="x")
    assert admin_client.get(reverse("admin:audit_auditentry_add")).status_code == 403
    assert (
        admin_client.post(reverse("admin:audit_auditentry_change", args=[entry.pk]), {"target_label": "y"})
    ).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:audit_auditentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    entry.refresh_from_db()
    assert entry.target_label == "x"
    entry.target_label = "y"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()


def test_staff_who_are_not_admins_cannot_read_the_log(client):
    manager = UserFactory(role=Role.MANAGER, is_staff=True)
    client.force_login(manager)
    assert client.get(reverse("admin:audit_auditentry_changelist")).status_code == 403


def test_unknown_action_is_refused(carol):
    with pytest.raises(ValueError):
        audit_record(actor=carol, action="made.up")


def test_owner_change_through_the_api_is_recorded_with_the_tokens_user(client, carol, bob, alice_account):
    issued = api_services.token_create(name="CRM", user=carol, scope="write", created_by=carol)
    response = client.patch(
        f"/api/v1/accounts/{alice_account.pk}/",
        data={"owner": bob.email},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {issued.raw}",
        REMOTE_ADDR="192.0.2.10",
    )
    assert response.status_code == 200, response.content
    entry = only_entry(AuditAction.OWNER_REASSIGN)
    assert entry.actor == carol and entry.ip == "192.0.2.10" and entry.details["to_owner_id"] == bob.pk


def test_task_without_a_request_records_the_system(bob, alice_account):
    from accounts.services import account_update

    account_update(account=alice_account, data={"owner": bob})
    entry = only_entry(AuditAction.OWNER_REASSIGN)
    assert entry.actor is None and entry.actor_label == "" and entry.ip is None
