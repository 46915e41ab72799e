"""The first two rows of the permission matrix over every operation the schema publishes, so a
resource added later is covered without a new test: no token is a 401, and a read-only token
may read but every write is a 403 that writes nothing."""

from __future__ import annotations

import json
import re

import pytest
from django.apps import apps
from rest_framework.test import APIClient

WRITES = {"post", "put", "patch", "delete"}


@pytest.fixture
def operations(db):
    schema = json.loads(APIClient().get("/api/schema/?format=json").content)
    found = [
        (method, re.sub(r"{[^}]+}", "1", path))
        for path, item in schema["paths"].items()
        for method in item
        if method in WRITES | {"get"}
    ]
    assert len(found) >= 80
    return found


def _row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in {"accounts", "health", "onboarding", "feedback", "loyalty"}
    }


def test_no_token_is_401_everywhere(operations, alice_account):
    client = APIClient()
    for method, path in operations:
        response = getattr(client, method)(path, {}, format="json")
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.json()["code"] == "not_authenticated"


def test_read_only_token_writes_nothing_anywhere(operations, client_for, carol, alice_account):
    """A manager's read-only token (it could otherwise write anything): every write is a 403."""
    client = client_for(carol, scope="read")
    before = _row_counts()
    for method, path in operations:
        if method not in WRITES:
            continue
        response = getattr(client, method)(path, {}, format="json")
        assert response.status_code == 403, (method, path, response.status_code)
        assert "read-only" in response.json()["detail"]
    assert _row_counts() == before
