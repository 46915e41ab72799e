"""Who sees what: the leadership pages and their API are for managers and admins; a CSM's
dashboard and renewals show only their own accounts; a manager sees every account."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api.services import token_create

from .conftest import customer

pytestmark = pytest.mark.django_db

LEADERSHIP_PAGES = ["dashboards:leadership", "dashboards:cohorts"]
LEADERSHIP_API = ["summary", "breakdown", "trend", "health", "churn-reasons", "cohorts"]


@pytest.fixture
def book(alice, bob):
    soon = timezone.localdate() + dt.timedelta(days=20)
    customer(alice, [("new", "2025-06-01", 100)], name="Alpha Mine", renewal_date=soon)
    customer(bob, [("new", "2025-06-01", 700)], name="Bravo Theirs", renewal_date=soon)


@pytest.mark.parametrize("name", LEADERSHIP_PAGES)
def test_a_csm_gets_403_on_the_leadership_pages(client, alice, name):
    client.force_login(alice)
    assert client.get(reverse(name)).status_code == 403
    assert client.get(reverse(name) + "?export=breakdown").status_code == 403


def test_a_csm_gets_403_on_the_drilldown_lists(client, alice):
    client.force_login(alice)
    assert client.get(reverse("dashboards:drilldown") + "?list=lost").status_code == 403


@pytest.mark.parametrize("name", LEADERSHIP_API)
def test_a_csm_gets_403_on_the_leadership_api(client, alice, name):
    client.force_login(alice)
    response = client.get(reverse(f"api:metrics-{name}"))
    assert response.status_code == 403
    assert "manager" in response.json()["detail"].lower()


def test_a_csm_token_gets_403_too(alice, carol):
    issued = token_create(name="CSM script", user=alice, scope="read", created_by=carol)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.raw}")
    assert api.get(reverse("api:metrics-summary")).status_code == 403
    assert api.get(reverse("api:metrics-portfolio")).status_code == 200


@pytest.mark.parametrize("name", ["dashboards:home", "dashboards:leadership", "dashboards:renewals"])
def test_logged_out_goes_to_login_and_no_role_is_403(client, charlie, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and reverse("team:login") in response["Location"]
    client.force_login(charlie)
    assert client.get(reverse(name)).status_code == 403


def test_api_without_credentials_is_401(db):
    assert APIClient().get(reverse("api:metrics-summary")).status_code == 401


def test_the_csm_dashboard_shows_only_their_accounts(client, alice, book):
    client.force_login(alice)
    html = client.get(reverse("dashboards:home")).content.decode()
    assert "$100.00" in html and "$700.00" not in html and "$800.00" not in html
    data = client.get(reverse("api:metrics-portfolio")).json()
    assert (data["accounts"], data["mrr"]) == (1, "100.00")


def test_renewals_of_a_csm_are_their_own(client, alice, book, settings):
    client.force_login(alice)
    html = client.get(reverse("dashboards:renewals")).content.decode()
    assert "Alpha Mine" in html and "Bravo Theirs" not in html


def test_a_manager_sees_every_account(client, carol, book):
    client.force_login(carol)
    data = client.get(reverse("api:metrics-portfolio")).json()
    assert (data["accounts"], data["mrr"]) == (2, "800.00")
    html = client.get(reverse("dashboards:renewals")).content.decode()
    assert "Alpha Mine" in html and "Bravo Theirs" in html
    assert client.get(reverse("dashboards:leadership")).status_code == 200


def test_an_admin_sees_the_leadership_pages(client, dave):
    client.force_login(dave)
    assert client.get(reverse("dashboards:leadership")).status_code == 200
    assert client.get(reverse("api:metrics-summary")).status_code == 200


def test_the_scope_is_exactly_the_accounts_a_user_may_see(alice, bob, carol, charlie, book):
    from accounts.models import Account
    from dashboards.selectors import Scope

    for user in (alice, bob, carol, charlie):
        assert set(Scope(user=user).accounts()) == set(Account.objects.visible_to(user))
