"""Staff users: email as the login, case-insensitive; the role decides what each person sees."""

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError

from accounts.models import Account
from team.models import Role, User
from tests.factories import PASSWORD, AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_create_user_lowercases_the_email():
    user = User.objects.create_user("  Erin.Ng@Staff.EXAMPLE ", password="s3cret-enough", role=Role.CSM)
    assert user.email == "erin.ng@staff.example"
    assert User.objects.get().email == "erin.ng@staff.example"
    assert user.check_password("s3cret-enough")
    assert not user.is_staff and not user.is_superuser


def test_create_user_needs_an_email():
    with pytest.raises(ValueError, match="email"):
        User.objects.create_user("", password="x")


def test_create_user_refuses_an_email_taken_in_another_case(alice):
    with pytest.raises(ValidationError) as exc:
        User.objects.create_user("ALICE@staff.example", password="x")
    assert "email" in exc.value.message_dict
    assert User.objects.count() == 1


def test_create_superuser_is_an_admin():
    user = User.objects.create_superuser("Root@Staff.Example", password="x")
    assert (user.email, user.role, user.is_staff, user.is_superuser) == (
        "root@staff.example",
        "admin",
        True,
        True,
    )


def test_get_by_natural_key_is_case_insensitive(alice):
    assert User.objects.get_by_natural_key("ALICE@Staff.Example") == alice
    assert User.objects.get_by_natural_key("alice@staff.example") == alice
    with pytest.raises(User.DoesNotExist):
        User.objects.get_by_natural_key("nobody@staff.example")


def test_authenticate_with_the_email_in_any_case(alice, rf):
    request = rf.post("/")
    assert authenticate(request, username="Alice@STAFF.example", password=PASSWORD) == alice
    assert authenticate(request, username="alice@staff.example", password="wrong") is None


@pytest.mark.parametrize(
    ("role", "is_superuser", "is_active", "sees_all", "has_access"),
    [
        (Role.CSM, False, True, False, True),
        (Role.MANAGER, False, True, True, True),
        (Role.ADMIN, False, True, True, True),
        ("", True, True, True, True),  # a superuser without a role still runs the platform
        ("", False, True, False, False),  # charlie: may log in to nothing
        (Role.CSM, False, False, False, False),
        (Role.MANAGER, False, False, False, False),
        (Role.ADMIN, True, False, False, False),
    ],
)
def test_role_decides_access(role, is_superuser, is_active, sees_all, has_access):
    user = UserFactory(role=role, is_superuser=is_superuser, is_active=is_active)
    assert (user.sees_all_accounts, user.has_app_access, user.is_manager) == (sees_all, has_access, sees_all)


def test_names(alice):
    assert (str(alice), alice.get_full_name(), alice.get_short_name()) == (
        "Alice Archer",
        "Alice Archer",
        "Alice",
    )
    nameless = UserFactory(email="x@staff.example", full_name="")
    assert (str(nameless), nameless.get_full_name(), nameless.get_short_name()) == ("x@staff.example",) * 3


@pytest.fixture
def portfolios(alice, bob):
    """Two accounts for alice, one for bob, one with no owner."""
    return {
        "alice": {AccountFactory(owner=alice).pk, AccountFactory(owner=alice).pk},
        "bob": {AccountFactory(owner=bob).pk},
        "nobody": {AccountFactory(owner=None).pk},
    }


def visible(user) -> set[int]:
    return set(Account.objects.visible_to(user).values_list("pk", flat=True))


def test_each_csm_sees_only_their_own_accounts(portfolios, alice, bob):
    assert visible(alice) == portfolios["alice"]
    assert visible(bob) == portfolios["bob"]


@pytest.mark.parametrize("person", ["carol", "dave"])
def test_managers_and_admins_see_every_account(request, portfolios, person):
    everyone = set().union(*portfolios.values())
    assert visible(request.getfixturevalue(person)) == everyone


def test_charlie_without_a_role_sees_nothing(portfolios, charlie):
    assert visible(charlie) == set()


def test_anonymous_sees_nothing(portfolios):
    assert visible(AnonymousUser()) == set()
    assert visible(None) == set()


def test_a_deactivated_user_sees_nothing(portfolios, alice, carol):
    for user in (alice, carol):
        user.is_active = False
        user.save(update_fields=["is_active"])
        assert visible(user) == set()


def test_visible_to_is_one_query(portfolios, alice, carol, django_assert_num_queries):
    for user in (alice, carol):
        with django_assert_num_queries(1):
            list(Account.objects.visible_to(user))
