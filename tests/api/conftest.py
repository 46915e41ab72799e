"""API fixtures: tokens for the standard people, and a client that sends one."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from api.services import token_create


def pytest_configure(config):
    config.addinivalue_line("markers", "fuzz: property-based run of the OpenAPI schema (schemathesis)")


@pytest.fixture(autouse=True)
def _fresh_throttle_cache():
    from django.core.cache import caches

    caches["throttle"].clear()
    yield
    caches["throttle"].clear()


@pytest.fixture
def make_token(db):
    def make(user, scope="write", name="Test integration"):
        return token_create(name=name, user=user, scope=scope, created_by=None).raw

    return make


@pytest.fixture
def client_for(make_token):
    """A DRF client authenticated with a fresh token acting for ``user``."""

    def make(user=None, scope="write", raw=None):
        client = APIClient()
        if raw is None and user is not None:
            raw = make_token(user, scope)
        if raw:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return make


@pytest.fixture
def alice_api(client_for, alice):
    return client_for(alice)


@pytest.fixture
def carol_api(client_for, carol):
    return client_for(carol)
