"""Data rights: export everything about a contact (JSON) and erase them, keeping every figure.
As a service, an admin action and an API endpoint; managers and admins only; both audited."""

import json

import pytest
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import services_privacy
from accounts.models import Contact, Touchpoint, UsageEvent
from audit.models import AuditAction, AuditEntry
from feedback import selectors as feedback_selectors
from feedback.models import Answer, FollowUp, Invitation, Question, Response, Suppression
from loyalty import services as loyalty_services
from loyalty.models import AdvocacyAsk, LedgerEntry, LinkKind, MemberLink, PointsBalance, Referral
from onboarding import services as onboarding_services
from onboarding.models import Celebration, ShareLink
from tests.factories import ContactFactory, TouchpointFactory, UsageEventFactory
from tests.feedback.factories import campaign, invitation, response
from tests.loyalty.factories import AdvocacyAskFactory, ReferralFactory
from tests.onboarding.factories import TemplateFactory, milestone_templates

pytestmark = pytest.mark.django_db

NAME, EMAIL = "Jane Roebuck", "jane.roebuck@alpha.example"


@pytest.fixture
def jane(alice, carol, alice_account):
    """A contact whose data is spread over every part of the product."""
    jane = ContactFactory(account=alice_account, name=NAME, email=EMAIL)
    other = ContactFactory(account=alice_account, name="Olga Other", email="olga@alpha.example")
    active = campaign(by=alice, name="Pulse")
    mine = invitation(contact=jane, campaign_obj=active)
    answer = response(invitation_obj=mine, score=3, comment=f"Call me, {NAME}!", follow_up="too slow")
    FollowUp.objects.create(
        response=answer, account=alice_account, owner=alice, note=f"Spoke to {NAME}, calmer"
    )
    question = Question.objects.filter(survey=active.survey).first() or Question.objects.create(
        survey=active.survey, position=9, kind="long_text", prompt="Anything else?"
    )
    Answer.objects.create(response=answer, question=question, text="my phone is 555-0100")
    response(invitation_obj=invitation(contact=other, campaign_obj=active), score=10)
    Suppression.objects.create(email=EMAIL.upper(), reason="unsubscribed", detail="replied STOP")
    TouchpointFactory(account=alice_account, contact=jane, summary=f"Called {NAME} about renewal")
    TouchpointFactory(account=alice_account, summary=f"Olga forwarded mail from {EMAIL}")
    UsageEventFactory(account=alice_account, contact=jane, properties={"user": EMAIL, "page": "/reports"})
    UsageEventFactory(account=alice_account, properties={"seat": EMAIL})
    loyalty_services.points_adjust(account=alice_account, points=300, reason="welcome", by=carol)
    LedgerEntry.objects.filter(account=alice_account).update(contact=jane)
    link = loyalty_services.member_link_get(account=alice_account, kind=LinkKind.REFERRAL, contact=jane)
    ReferralFactory(link=link, note="my old boss", submitted_ip="198.51.100.9")
    ReferralFactory(link__account=alice_account, contact_email=EMAIL, contact_name=NAME)
    AdvocacyAskFactory(contact=jane, notes=f"{NAME} will do a case study", link="https://review.example/jane")
    template = TemplateFactory()
    milestone_templates(template)
    plan = onboarding_services.plan_start(account=alice_account, template=template)
    onboarding_services.share_link_create(plan=plan, by=alice, contact=jane)
    Celebration.objects.create(milestone=plan.milestones.first(), contact=jane, email=EMAIL)
    return jane


def personal_strings(data) -> str:
    return json.dumps(data, default=str).lower()


def test_export_holds_every_part(jane, carol):
    data = services_privacy.contact_data_export(contact=jane, by=carol)
    assert data["contact"]["email"] == EMAIL and data["contact"]["name"] == NAME
    assert [r["score"] for r in data["survey_responses"]] == [3]
    assert data["survey_responses"][0]["answers"][0]["text"] == "my phone is 555-0100"
    assert len(data["survey_invitations"]) == 1 and data["suppressions"][0]["reason"] == "unsubscribed"
    assert len(data["touchpoints"]) == 2 and len(data["usage_events"]) == 2
    loyalty = data["loyalty"]
    assert loyalty["ledger_entries"] and loyalty["links"][0]["kind"] == "referral"
    assert loyalty["referrals_made"][0]["note"] == "my old boss"
    assert loyalty["referred_as"][0]["email"] == EMAIL
    assert loyalty["advocacy_asks"][0]["notes"].startswith(NAME)
    assert data["onboarding"]["share_links"] and data["onboarding"]["celebration_emails"][0]["email"] == EMAIL
    assert "olga" not in personal_strings(data["survey_responses"])  # only hers
    json.dumps(data)  # JSON as it is
    entry = AuditEntry.objects.get(action=AuditAction.CONTACT_EXPORT)
    assert entry.actor == carol and entry.target_id == str(jane.pk)
    assert NAME.lower() not in entry.target_label.lower() and EMAIL not in json.dumps(entry.details)


def test_erase_removes_personal_data_and_keeps_every_figure(jane, carol, alice_account):
    responses = Response.objects.filter(account=alice_account)
    nps_before = feedback_selectors.metric(responses=responses, kind="nps")
    kept = (Response, Invitation, Touchpoint, UsageEvent, LedgerEntry, Referral, AdvocacyAsk, Contact)
    counts_before = {model: model.objects.count() for model in kept}
    balance_before = PointsBalance.objects.get(account=alice_account).balance
    old_token = Invitation.objects.get(contact=jane).token

    report = services_privacy.contact_erase(contact=jane, by=carol)

    assert report.changed["contact"] == 1 and report.changed["survey_invitations"] == 1
    # Figures and counts: unchanged.
    after = feedback_selectors.metric(responses=responses, kind="nps")
    assert (after.answers, after.high, after.low, after.total) == (
        nps_before.answers,
        nps_before.high,
        nps_before.low,
        nps_before.total,
    )
    assert {model: model.objects.count() for model in counts_before} == counts_before
    assert PointsBalance.objects.get(account=alice_account).balance == balance_before
    assert Response.objects.get(contact=jane).score == 3
    # Personal data: gone from every copy.
    jane.refresh_from_db()
    assert jane.name == services_privacy.ERASED_NAME and jane.email.endswith("@erased.invalid")
    assert not jane.accepts_surveys
    needles = [NAME.lower(), EMAIL.lower(), "555-0100", "my old boss", "198.51.100.9", "call me"]
    everything = personal_strings(
        [
            list(Invitation.objects.values()),
            list(Response.objects.values()),
            list(Answer.objects.values()),
            list(Suppression.objects.values()),
            list(Touchpoint.objects.values()),
            list(UsageEvent.objects.values("properties")),
            list(Referral.objects.values()),
            list(AdvocacyAsk.objects.values()),
            list(Celebration.objects.values()),
            list(Contact.objects.values()),
            list(FollowUp.objects.values()),
            list(AuditEntry.objects.values()),
        ]
    )
    for needle in needles:
        assert needle not in everything, needle
    assert "olga@alpha.example" in everything  # the other contact is untouched
    # Links that opened her pages no longer work.
    assert Invitation.objects.get(contact=jane).token != old_token
    assert not MemberLink.objects.filter(contact=jane, is_active=True).exists()
    assert not ShareLink.objects.filter(contact=jane, revoked_at__isnull=True).exists()
    entry = AuditEntry.objects.get(action=AuditAction.CONTACT_ERASE)
    assert entry.actor == carol and entry.details["changed"]["touchpoints"] == 2


def test_old_survey_link_is_gone_after_erasure(client, jane, carol):
    url = Invitation.objects.get(contact=jane).get_public_url()
    assert client.get(url).status_code == 200
    services_privacy.contact_erase(contact=jane, by=carol)
    page = client.get(url)
    assert page.status_code in (404, 410) or NAME not in page.content.decode()
    assert not Invitation.objects.filter(token=url.strip("/").split("/")[-1]).exists()


def test_erasing_twice_changes_nothing_more(jane, carol):
    services_privacy.contact_erase(contact=jane, by=carol)
    again = services_privacy.contact_erase(contact=jane, by=carol)
    assert not any(again.changed.values()), again.changed


def test_csms_may_neither_export_nor_erase(jane, alice):
    with pytest.raises(PermissionDenied):
        services_privacy.contact_data_export(contact=jane, by=alice)
    with pytest.raises(PermissionDenied):
        services_privacy.contact_erase(contact=jane, by=alice)
    jane.refresh_from_db()
    assert jane.email == EMAIL and not AuditEntry.objects.filter(action__startswith="privacy.").exists()


# ----------------------------------------------------------------------------- API


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_export_and_erase_for_managers(jane, carol):
    export = api(carol).get(f"/api/v1/contacts/{jane.pk}/personal-data/")
    assert export.status_code == 200 and export.json()["contact"]["email"] == EMAIL
    erased = api(carol).post(f"/api/v1/contacts/{jane.pk}/erase/", {"reason": "GDPR #12"}, format="json")
    assert erased.status_code == 200 and erased.json()["contact"] == jane.pk
    assert erased.json()["changed"]["contact"] == 1
    assert AuditEntry.objects.get(action=AuditAction.CONTACT_ERASE).details["reason"] == "GDPR #12"
    too_long = api(carol).post(f"/api/v1/contacts/{jane.pk}/erase/", {"reason": "x" * 501}, format="json")
    assert too_long.status_code == 400 and "reason" in too_long.json()["errors"]
    jane.refresh_from_db()
    assert jane.email.endswith("@erased.invalid")


def test_api_denies_csms_403_on_their_own_and_404_on_others(jane, alice, bob):
    own = api(alice)
    assert own.get(f"/api/v1/contacts/{jane.pk}/personal-data/").status_code == 403
    assert own.post(f"/api/v1/contacts/{jane.pk}/erase/").status_code == 403
    other = api(bob)
    assert other.get(f"/api/v1/contacts/{jane.pk}/personal-data/").status_code == 404
    assert other.post(f"/api/v1/contacts/{jane.pk}/erase/").status_code == 404
    assert APIClient().get(f"/api/v1/contacts/{jane.pk}/personal-data/").status_code == 401
    jane.refresh_from_db()
    assert jane.email == EMAIL


# ----------------------------------------------------------------------------- admin


def test_admin_action_exports_json(jane, dave, client):
    client.force_login(dave)
    changelist = reverse("admin:accounts_contact_changelist")
    response_ = client.post(changelist, {"action": "export_personal_data", "_selected_action": [jane.pk]})
    assert response_.status_code == 200 and response_["Content-Type"].startswith("application/json")
    assert json.loads(response_.content)["contact"]["email"] == EMAIL
    assert "attachment" in response_["Content-Disposition"]


def test_admin_action_erases_after_confirmation(jane, dave, client):
    client.force_login(dave)
    changelist = reverse("admin:accounts_contact_changelist")
    page = client.post(changelist, {"action": "erase_personal_data", "_selected_action": [jane.pk]})
    assert page.status_code == 200 and "cannot be undone" in page.content.decode()
    jane.refresh_from_db()
    assert jane.email == EMAIL  # nothing yet
    done = client.post(
        changelist, {"action": "erase_personal_data", "_selected_action": [jane.pk], "confirm": "yes"}
    )
    assert done.status_code == 302
    jane.refresh_from_db()
    assert jane.email.endswith("@erased.invalid")
    assert AuditEntry.objects.filter(Q(action=AuditAction.CONTACT_ERASE), actor=dave).count() == 1
