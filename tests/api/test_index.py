"""/api/v1/ reaches every part of the product: each resource the schema publishes is linked from
the index, and each link answers (with a manager's token, a CSM's, and none)."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

PARTS = {
    "accounts": ["accounts", "contacts", "mrr-movements", "touchpoints", "usage-events"],
    "health": ["health-scores", "alerts", "tasks", "playbooks"],
    "onboarding": ["onboarding-templates", "onboarding-plans", "onboarding-milestones"],
    "feedback": ["surveys", "survey-campaigns", "survey-invitations", "survey-responses"],
    "loyalty": [
        "loyalty-ledger",
        "loyalty-awards",
        "rewards",
        "redemptions",
        "referrals",
        "advocacy-asks",
        "loyalty-metrics",
    ],
    "dashboards": ["metrics"],
}
WRITE_ONLY = {"loyalty-awards"}  # POST only: a GET is 405


@pytest.fixture
def links(carol_api):
    response = carol_api.get("/api/v1/")
    assert response.status_code == 200
    return response.json()


def test_index_links_every_part_of_the_product(links):
    for part, resources in PARTS.items():
        for name in resources:
            assert name in links, (part, name)
            assert links[name].endswith(f"/api/v1/{name}/"), links[name]
    assert links["schema"].endswith("/api/schema/") and links["docs"].endswith("/api/docs/")


def test_every_resource_in_the_schema_is_in_the_index(links, db):
    schema = json.loads(APIClient().get("/api/schema/?format=json").content)
    top = {path.split("/")[3] for path in schema["paths"]}
    assert top - set(links) == set()
    assert {name for names in PARTS.values() for name in names} == top


def test_every_link_answers_a_manager_and_a_csm(links, client_for, carol, alice):
    manager, csm = client_for(carol, scope="read"), client_for(alice, scope="read")
    for name, url in links.items():
        path = url.split("testserver", 1)[-1]
        expected = 405 if name in WRITE_ONLY else 200
        if name == "docs":
            continue  # an HTML page, tested with the schema
        assert manager.get(path).status_code == expected, name
        assert csm.get(path).status_code == expected, name
        if name != "schema":
            assert APIClient().get(path).status_code == 401, name


def test_docs_list_every_resource():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    for resources in PARTS.values():
        for name in resources:
            assert f"`{name}/" in doc, name
