"""The Django admin for staff users: email login, role, password screens, access."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from team.models import Role, User
from tests.factories import UserFactory


@pytest.fixture
def admin_client(client, dave):
    client.force_login(dave)
    return client


def queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.django_db
def test_user_changelist_lists_columns_with_bounded_queries(
    admin_client, alice, bob, django_assert_max_num_queries
):
    url = reverse("admin:team_user_changelist")
    with django_assert_max_num_queries(10):
        response = admin_client.get(url)
    html = response.content.decode()
    for text in ("alice@staff.example", "Alice Archer", "CSM", "Last login", "Staff status"):
        assert text in html
    few = queries_for(admin_client, url)
    UserFactory.create_batch(15)
    assert queries_for(admin_client, url) == few


@pytest.mark.django_db
def test_user_changelist_filters_and_search(admin_client, alice, carol):
    url = reverse("admin:team_user_changelist")
    response = admin_client.get(url, {"role__exact": Role.MANAGER})
    assert list(response.context["cl"].result_list) == [carol]
    response = admin_client.get(url, {"q": "archer"})
    assert list(response.context["cl"].result_list) == [alice]
    response = admin_client.get(url, {"is_staff__exact": "1"})
    assert [u.email for u in response.context["cl"].result_list] == ["dave@staff.example"]


@pytest.mark.django_db
def test_csm_without_staff_flag_is_sent_to_the_admin_login(client, alice):
    client.force_login(alice)
    for url in (reverse("admin:index"), reverse("admin:team_user_changelist")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))


@pytest.mark.django_db
def test_add_user_with_password_and_confirmation(admin_client):
    response = admin_client.post(
        reverse("admin:team_user_add"),
        {
            "email": "  New.Person@Staff.Example ",
            "full_name": "New Person",
            "role": Role.CSM,
            "usable_password": "true",
            "password1": "a-long-enough-passphrase-42",
            "password2": "a-long-enough-passphrase-42",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(email="new.person@staff.example")
    assert user.full_name == "New Person"
    assert user.role == Role.CSM
    assert user.check_password("a-long-enough-passphrase-42")
    assert not user.is_staff


@pytest.mark.django_db
def test_add_user_rejects_mismatched_passwords_and_taken_email(admin_client, alice):
    response = admin_client.post(
        reverse("admin:team_user_add"),
        {
            "email": "ALICE@staff.example",
            "role": Role.CSM,
            "usable_password": "true",
            "password1": "a-long-enough-passphrase-42",
            "password2": "a-different-passphrase-42",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "Another user already signs in with this email." in errors["email"]
    assert "password2" in errors
    assert User.objects.count() == 2  # alice and dave


@pytest.mark.django_db
def test_change_form_links_to_the_password_screen(admin_client, alice, django_assert_max_num_queries):
    url = reverse("admin:team_user_change", args=[alice.pk])
    with django_assert_max_num_queries(15):
        response = admin_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="../password/"' in html
    assert "alice@staff.example" in html

    password_url = reverse("admin:auth_user_password_change", args=[alice.pk])
    assert password_url == url.replace("change/", "password/")
    response = admin_client.post(
        password_url,
        {
            "usable_password": "true",
            "password1": "another-long-passphrase-7",
            "password2": "another-long-passphrase-7",
        },
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("another-long-passphrase-7")


@pytest.mark.django_db
def test_change_user_role_and_email_lowercased(admin_client, alice):
    url = reverse("admin:team_user_change", args=[alice.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update({"email": "Alice.Archer@Staff.example", "role": Role.MANAGER})
    data["groups"] = []
    data["user_permissions"] = []
    data.pop("last_login", None)
    data.pop("date_joined", None)
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    alice.refresh_from_db()
    assert (alice.email, alice.role) == ("alice.archer@staff.example", Role.MANAGER)
