"""The health admin: scorecards with their measures, thresholds and caps (documented on the page),
alert rules, playbooks, alerts, tasks and snapshots."""

import pytest
from django.urls import reverse

from health.models import AlertRule, Playbook, Scorecard
from health.services import health_scores_recompute
from tests.factories import AccountFactory

from .conftest import set_score


@pytest.mark.parametrize(
    "name",
    ["scorecard", "alertrule", "playbook", "alert", "task", "healthsnapshot", "accounthealth", "digestsent"],
)
def test_lists_open(client, dave, name):
    client.force_login(dave)
    assert client.get(reverse(f"admin:health_{name}_changelist")).status_code == 200


def test_scorecard_page_documents_every_measure_and_its_thresholds(client, dave):
    client.force_login(dave)
    card = Scorecard.objects.get(segment="")
    html = client.get(reverse("admin:health_scorecard_change", args=[card.pk])).content.decode()
    for text in ["Days since last usage", "Scores 0 at", "Scores 100 at", "Has data", "Green from"]:
        assert text in html, text
    assert "A score at or above this is green (default 70)." in html
    # the default scorecard cannot be deleted: accounts without their own need it
    assert client.get(reverse("admin:health_scorecard_delete", args=[card.pk])).status_code == 403


def test_rule_and_playbook_pages_explain_their_parameters(client, dave):
    client.force_login(dave)
    rule = AlertRule.objects.get(name="Health turned red")
    html = client.get(reverse("admin:health_alertrule_change", args=[rule.pk])).content.decode()
    assert "What N means for each kind" in html and "cool-down" in html.lower()
    playbook = Playbook.objects.get(name="Save an at-risk account")
    html = client.get(reverse("admin:health_playbook_change", args=[playbook.pk])).content.decode()
    assert "Call the champion about goals and blockers" in html


def test_snapshot_page_shows_its_measures(client, dave, alice, touch_card):
    account = AccountFactory(owner=alice)
    set_score(account, 42)
    health_scores_recompute()
    snapshot = account.health_snapshots.get()
    client.force_login(dave)
    html = client.get(reverse("admin:health_healthsnapshot_change", args=[snapshot.pk])).content.decode()
    assert "Days since last touchpoint" in html and "42" in html
