"""Survey and member-link tokens are found by their SHA-256 digest, never by the secret itself,
then compared in constant time: every way a row is made fills the digest, the migration fills
it for rows that existed before, and a wrong token gets the same 404 as any other."""

from __future__ import annotations

import hashlib
from unittest import mock

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cs_app import public_tokens
from feedback import services_outbox as outbox
from feedback.models import Invitation
from loyalty import services as loyalty_services
from loyalty.models import LinkKind, MemberLink
from tests.factories import AccountFactory, ContactFactory
from tests.feedback import factories as f

pytestmark = pytest.mark.django_db


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def wrong(token: str) -> str:
    """The same token with its last character changed: same length, same alphabet."""
    return token[:-1] + ("A" if token[-1] != "A" else "B")


@pytest.fixture
def survey_link(alice, alice_account):
    contact = ContactFactory(account=alice_account)
    return f.invitation(contact=contact, campaign_obj=f.campaign(by=alice))


@pytest.fixture
def rewards_link(alice_account):
    contact = ContactFactory(account=alice_account)
    return loyalty_services.member_link_get(account=alice_account, kind=LinkKind.REWARDS, contact=contact)


# ----------------------------------------------------------------------------- the lookup


def lookups(client, url: str) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        status = client.get(url).status_code
    return status, [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize(
    "page", ["feedback_public:answer", "feedback_public:thanks", "feedback_public:unsubscribe"]
)
def test_survey_pages_look_the_invitation_up_by_digest(client, survey_link, page):
    status, sqls = lookups(client, reverse(page, args=[survey_link.token]))
    assert status in (200, 302)  # thanks before an answer goes back to the question
    assert any("token_digest" in sql and sha256(survey_link.token) in sql for sql in sqls)
    assert not any(survey_link.token in sql for sql in sqls)


@pytest.mark.parametrize("kind", [LinkKind.REWARDS, LinkKind.REFERRAL])
def test_member_pages_look_the_link_up_by_digest(client, alice_account, kind):
    link = loyalty_services.member_link_get(account=alice_account, kind=kind)
    status, sqls = lookups(client, link.get_absolute_url())
    assert status == 200
    assert any("token_digest" in sql and sha256(link.token) in sql for sql in sqls)
    assert not any(link.token in sql for sql in sqls)


def test_a_wrong_survey_token_of_the_same_length_gets_the_same_404(client, survey_link):
    answer = lambda token: client.get(reverse("feedback_public:answer", args=[token]))  # noqa: E731
    guess, other = wrong(survey_link.token), "Z" * len(survey_link.token)
    guessed, unknown = answer(guess), answer(other)
    assert guessed.status_code == unknown.status_code == 404
    # the same page, but for the address it shows (its language links)
    assert guessed.content.replace(guess.encode(), b"T") == unknown.content.replace(other.encode(), b"T")


def test_a_wrong_member_token_of_the_same_length_gets_the_same_404(client, rewards_link):
    rewards = lambda token: client.get(reverse("loyalty_public:rewards", args=[token]))  # noqa: E731
    guess, other = wrong(rewards_link.token), "Z" * len(rewards_link.token)
    guessed, unknown = rewards(guess), rewards(other)
    assert guessed.status_code == unknown.status_code == 404
    # the same page, but for the address it shows (its language links)
    assert guessed.content.replace(guess.encode(), b"T") == unknown.content.replace(other.encode(), b"T")


def test_the_stored_token_is_compared_in_constant_time_after_the_digest(
    client, survey_link, rewards_link, monkeypatch
):
    calls = []
    real = public_tokens.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(public_tokens.hmac, "compare_digest", spy)
    assert client.get(survey_link.get_public_url()).status_code == 200
    assert client.get(rewards_link.get_absolute_url()).status_code == 200
    assert len(calls) == 2
    # A row whose digest matches but whose token does not (never happens by itself) is refused.
    survey_url, rewards_url = survey_link.get_public_url(), rewards_link.get_absolute_url()
    Invitation.objects.filter(pk=survey_link.pk).update(token=wrong(survey_link.token))
    MemberLink.objects.filter(pk=rewards_link.pk).update(token=wrong(rewards_link.token))
    assert client.get(survey_url).status_code == 404
    assert client.get(rewards_url).status_code == 404


# ----------------------------------------------------------------------------- every row has one


def test_invitations_made_by_save_and_by_the_outbox_bulk_create_get_digests(alice, survey_link):
    assert survey_link.token_digest == sha256(survey_link.token)
    account = AccountFactory(owner=alice)
    for i in range(3):
        ContactFactory(account=account, email=f"digest{i}@customer.example")
    rnd = f.round_of(f.campaign(by=alice, name="Digests"), 1, status="scheduled")
    with mock.patch("feedback.tasks.enqueue"):
        assert outbox.round_start(round_id=rnd.pk).started
    made = list(Invitation.objects.filter(round=rnd))
    assert len(made) >= 3  # the three new contacts and any other of the audience
    assert all(i.token_digest == sha256(i.token) for i in made)
    # and through .using(), as the demo data does
    contact = ContactFactory(account=account, email="digest-using@customer.example")
    [extra] = Invitation.objects.using("default").bulk_create(
        [
            Invitation(
                campaign=rnd.campaign,
                round=rnd,
                contact=contact,
                account=account,
                email=contact.email,
                token=outbox.new_token(),
            )
        ]
    )
    assert Invitation.objects.get(pk=extra.pk).token_digest == sha256(extra.token)


def test_member_links_made_by_save_and_by_bulk_create_get_digests(rewards_link):
    assert MemberLink.objects.get(pk=rewards_link.pk).token_digest == sha256(rewards_link.token)
    accounts = [AccountFactory(), AccountFactory()]
    MemberLink.objects.using("default").bulk_create(
        [MemberLink(kind=LinkKind.REFERRAL, account=account) for account in accounts]
    )
    links = MemberLink.objects.filter(account__in=accounts, kind=LinkKind.REFERRAL)
    assert len(links) == 2 and all(link.token_digest == sha256(link.token) for link in links)


# ----------------------------------------------------------------------------- the migration


@pytest.mark.django_db(transaction=True)
def test_the_migrations_fill_digests_for_rows_made_before_them(alice, alice_account):
    invitation = f.invitation(
        contact=ContactFactory(account=alice_account), campaign_obj=f.campaign(by=alice)
    )
    link = loyalty_services.member_link_get(account=alice_account, kind=LinkKind.REFERRAL)
    before = [("feedback", "0003_invitation_email_index"), ("loyalty", "0003_tier_history_on_loyalty_record")]
    after = [
        ("feedback", "0005_invitation_token_digest_required"),
        ("loyalty", "0005_memberlink_token_digest_required"),
    ]
    executor = MigrationExecutor(connection)
    executor.migrate(before)  # the column is dropped; the rows and their tokens stay
    with connection.cursor() as cursor:
        columns = [
            c.name for c in connection.introspection.get_table_description(cursor, "feedback_invitation")
        ]
    assert "token_digest" not in columns
    executor.loader.build_graph()
    executor.migrate(after)
    assert Invitation.objects.get(pk=invitation.pk).token_digest == sha256(invitation.token)
    assert MemberLink.objects.get(pk=link.pk).token_digest == sha256(link.token)
    assert public_tokens.token_digest(invitation.token) == sha256(invitation.token)


def test_erasing_the_contact_gives_a_new_token_with_its_digest(client, survey_link, carol):
    from accounts import services_privacy

    old_url = survey_link.get_public_url()
    services_privacy.contact_erase(contact=survey_link.contact, by=carol)
    survey_link.refresh_from_db()
    assert survey_link.token_digest == sha256(survey_link.token)
    assert client.get(old_url).status_code == 404
