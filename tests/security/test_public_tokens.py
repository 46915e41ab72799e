"""Public tokens (survey answer, onboarding share, referral, rewards, API): at least 128 random
bits, checked safely, revocable or expiring, and every public page rate-limited."""

from __future__ import annotations

import base64
import datetime as dt
import hmac

import pytest
from django.core.cache import cache
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from api import services as api_services
from feedback import ratelimit as feedback_ratelimit
from feedback.models import CampaignStatus
from feedback.services_outbox import LINK_VALID_DAYS
from feedback.services_outbox import new_token as survey_token
from loyalty import ratelimit as loyalty_ratelimit
from loyalty import services as loyalty_services
from loyalty.models import LinkKind
from loyalty.models import new_token as member_token
from onboarding import services as onboarding_services
from onboarding import views as onboarding_views
from tests.factories import ContactFactory
from tests.feedback.factories import campaign, invitation
from tests.onboarding.factories import TemplateFactory, milestone_templates

pytestmark = pytest.mark.django_db


def random_bits(token: str) -> int:
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    return len(raw) * 8


@pytest.fixture
def share(alice, alice_account):
    template = TemplateFactory()
    milestone_templates(template)
    plan = onboarding_services.plan_start(account=alice_account, template=template)
    link = onboarding_services.share_link_create(plan=plan, by=alice)
    return link, onboarding_services.share_link_token(link)


@pytest.fixture
def survey_link(alice, alice_account):
    contact = ContactFactory(account=alice_account)
    return invitation(contact=contact, campaign_obj=campaign(by=alice))


# ----------------------------------------------------------------------------- entropy


def test_every_public_token_has_at_least_128_random_bits(share):
    assert random_bits(survey_token()) >= 128
    assert random_bits(member_token()) >= 128
    _link, token = share
    selector, verifier = token.split(".")
    assert random_bits(verifier) == 256  # an HMAC-SHA256 of the selector, keyed with SECRET_KEY
    assert random_bits(selector) >= 96  # the lookup key; the verifier is the secret
    issued = api_services.token_create(name="feed", user=share[0].created_by, scope="read", created_by=None)
    assert random_bits(issued.raw.removeprefix(api_services.TOKEN_PREFIX)) >= 256
    assert len({survey_token() for _ in range(2000)}) == 2000
    assert len({member_token() for _ in range(2000)}) == 2000


def test_api_tokens_and_share_secrets_are_never_stored(share, alice):
    issued = api_services.token_create(name="feed", user=alice, scope="read", created_by=None)
    issued.token.refresh_from_db()
    stored = " ".join(str(v) for v in issued.token.__dict__.values())
    assert issued.raw not in stored and issued.token.digest == api_services.token_digest(issued.raw)
    link, token = share
    link.refresh_from_db()
    assert token.split(".")[1] not in " ".join(str(v) for v in link.__dict__.values())


# ----------------------------------------------------------------------------- checked safely


def test_share_link_secret_is_compared_in_constant_time(share, monkeypatch):
    link, token = share
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(onboarding_services.hmac, "compare_digest", spy)
    assert onboarding_services.share_link_resolve(token=token) == link
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert onboarding_services.share_link_resolve(token=forged) is None
    assert len(calls) == 2


@pytest.mark.parametrize("bad", ["", "x", "a" * 300, "../../etc/passwd", "abc.def", "%00", "' OR 1=1 --"])
def test_malformed_tokens_are_plain_404s(client, bad, share, survey_link):
    assert onboarding_services.share_link_resolve(token=bad) is None
    for name in (
        "feedback_public:answer",
        "loyalty_public:referral",
        "loyalty_public:rewards",
        "onboarding:shared",
    ):
        try:
            url = reverse(name, args=[bad])
        except NoReverseMatch:  # not even a valid address
            continue
        response = client.get(url)
        assert response.status_code == 404, (name, bad, response.status_code)


# ----------------------------------------------------------------------------- revocation and expiry


def test_revoked_share_link_stops_working(client, share, alice):
    link, token = share
    url = reverse("onboarding:shared", args=[token])
    assert client.get(url).status_code == 200
    onboarding_services.share_link_revoke(link=link, by=alice)
    assert client.get(url).status_code == 404


def test_closed_member_link_stops_working(client, alice_account):
    link = loyalty_services.member_link_get(account=alice_account, kind=LinkKind.REWARDS)
    assert client.get(link.get_absolute_url()).status_code == 200
    type(link).objects.filter(pk=link.pk).update(is_active=False)
    assert client.get(link.get_absolute_url()).status_code == 404


def test_survey_link_expires_and_dies_with_its_campaign(client, survey_link):
    url = survey_link.get_public_url()
    assert client.get(url).status_code == 200
    type(survey_link).objects.filter(pk=survey_link.pk).update(
        sent_at=timezone.now() - dt.timedelta(days=LINK_VALID_DAYS + 1)
    )
    assert client.get(url).status_code == 410
    type(survey_link).objects.filter(pk=survey_link.pk).update(sent_at=timezone.now())
    type(survey_link.campaign).objects.filter(pk=survey_link.campaign_id).update(
        status=CampaignStatus.CANCELLED
    )
    assert client.get(url).status_code == 410


def test_revoked_api_token_is_refused(client, alice, carol):
    issued = api_services.token_create(name="feed", user=alice, scope="read", created_by=carol)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {issued.raw}"}
    assert client.get("/api/v1/accounts/", **auth).status_code == 200
    api_services.token_revoke(token=issued.token, by=carol)
    assert client.get("/api/v1/accounts/", **auth).status_code == 401


# ----------------------------------------------------------------------------- rate limits


def test_every_public_page_is_rate_limited(client, monkeypatch, share, survey_link, alice_account):
    monkeypatch.setitem(feedback_ratelimit.LIMITS, "read", 3)
    monkeypatch.setitem(loyalty_ratelimit.LIMITS, "read", 3)
    monkeypatch.setattr(onboarding_views, "SHARED_PAGE_LIMIT", 3)
    referral = loyalty_services.member_link_get(account=alice_account, kind=LinkKind.REFERRAL)
    rewards = loyalty_services.member_link_get(account=alice_account, kind=LinkKind.REWARDS)
    guess = "x" * 32
    pages = {  # what: (its addresses, the first one with a guessed token)
        "survey answer": ([survey_link.get_public_url()], reverse("feedback_public:answer", args=[guess])),
        "survey thanks and unsubscribe": (
            [
                reverse("feedback_public:thanks", args=[survey_link.token]),
                reverse("feedback_public:unsubscribe", args=[survey_link.token]),
            ],
            reverse("feedback_public:thanks", args=[guess]),
        ),
        "referral and its thanks": (
            [referral.get_absolute_url(), reverse("loyalty_public:referral_thanks", args=[referral.token])],
            reverse("loyalty_public:referral_thanks", args=[guess]),
        ),
        "rewards": ([rewards.get_absolute_url()], reverse("loyalty_public:rewards", args=[guess])),
        "onboarding share": (
            [reverse("onboarding:shared", args=[share[1]])],
            reverse("onboarding:shared", args=[guess + "." + guess]),
        ),
    }
    for what, (urls, guessed) in pages.items():
        cache.clear()
        codes = [client.get(url, REMOTE_ADDR="203.0.113.50").status_code for url in (urls * 4)[:4]]
        assert all(code < 400 for code in codes[:3]) and codes[3] == 429, (what, codes)
        # Guessing tokens counts against the same limit: an unknown token is no way around it.
        cache.clear()
        guesses = [client.get(guessed, REMOTE_ADDR="203.0.113.51").status_code for _ in range(4)]
        assert guesses[:3] == [404] * 3 and guesses[3] == 429, (what, guesses)
