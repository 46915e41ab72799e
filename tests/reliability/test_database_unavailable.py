"""A database that cannot be reached answers 503 with a clear page (JSON under /api/), with
Retry-After and no traceback; any other unhandled error stays a 500. The real outage (a
PostgreSQL server restarted under load) is the drill in test_postgres_restart.py."""

from __future__ import annotations

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.test import Client
from rest_framework.test import APIClient

from api.services import token_create
from feedback.models import Response
from tests.factories import ContactFactory
from tests.feedback import factories as f


def _database_down(error: type[Exception] = OperationalError):
    def fail(execute, sql, params, many, context):
        raise error("connection to server at 127.0.0.1, port 5432 failed: Connection refused")

    return connection.execute_wrapper(fail)


def _assert_clear_page(response) -> str:
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    assert "Back in a moment" in body and "try again" in body
    for leak in ("Traceback", "OperationalError", "InterfaceError", "5432", "psycopg"):
        assert leak not in body
    return body


@pytest.mark.django_db
@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_a_staff_page_answers_503_with_a_clear_page(alice, alice_account, error):
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    assert client.get("/accounts/").status_code == 200
    with _database_down(error):
        response = client.get("/accounts/")
    body = _assert_clear_page(response)
    assert "<html" in body and "css/app.css" in body
    assert client.get("/accounts/").status_code == 200  # and recovers with the database


@pytest.mark.django_db
def test_the_public_survey_page_and_its_answer_answer_503(alice, alice_account):
    contact = ContactFactory(account=alice_account)
    invitation = f.invitation(contact=contact, campaign_obj=f.campaign(by=alice))
    client = Client(raise_request_exception=False)
    with _database_down():
        _assert_clear_page(client.get(f"/s/{invitation.token}/"))
        _assert_clear_page(client.post(f"/s/{invitation.token}/", {"score": "9"}))
    assert not Response.objects.filter(invitation=invitation).exists()
    assert client.get(f"/s/{invitation.token}/").status_code == 200


@pytest.mark.django_db
def test_the_api_answers_503_in_its_json_error_shape(alice, alice_account):
    raw = token_create(name="Drill", user=alice, scope="write", created_by=None).raw
    api = APIClient(raise_request_exception=False)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/accounts/").status_code == 200
    with _database_down():
        response = api.get("/api/v1/accounts/")  # fails in the token look-up (authentication)
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert response.json() == {
        "detail": "The service is briefly unavailable; try again in a few seconds.",
        "code": "service_unavailable",
    }


@pytest.mark.django_db
def test_the_api_answers_503_when_the_database_fails_inside_the_view(alice, alice_account, monkeypatch):
    raw = token_create(name="Drill", user=alice, scope="write", created_by=None).raw
    api = APIClient(raise_request_exception=False)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    from accounts import api as accounts_api

    def broken(self):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(accounts_api.AccountViewSet, "get_queryset", broken)
    response = api.get("/api/v1/accounts/")
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"


@pytest.mark.django_db
def test_any_other_error_stays_a_500(alice, monkeypatch):

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    client = Client(raise_request_exception=False)
    client.force_login(alice)
    monkeypatch.setattr("accounts.views.render", broken)
    response = client.get("/accounts/")
    assert response.status_code == 500
    assert "Retry-After" not in response
