"""List pages run a fixed number of queries: more rows do not mean more queries."""

from __future__ import annotations

import pytest
from django.urls import reverse

from feedback import services
from tests.factories import AccountFactory, ContactFactory

from . import factories as f


def _data(owner, n: int) -> None:
    account = AccountFactory(owner=owner)
    for i in range(n):
        campaign = f.campaign(by=owner, kind=["nps", "csat", "ces"][i % 3], name=f"Campaign {i}")
        invitation = f.invitation(contact=ContactFactory(account=account), campaign_obj=campaign)
        services.response_submit(invitation=invitation, score=1, comment=f"words {i}", follow_up="why")
        f.invitation(
            contact=ContactFactory(account=account),
            campaign_obj=campaign,
            status="skipped",
            skip_reason="throttled",
        )


PAGES = [
    ("feedback:campaign_list", {}),
    ("feedback:comments", {}),
    ("feedback:follow_up_list", {}),
    ("feedback:analysis", {}),
    ("feedback:survey_list", {}),
    ("feedback:outbox", {}),
]


@pytest.mark.parametrize(("name", "params"), PAGES)
def test_list_pages_do_not_grow_with_rows(
    client, alice, settings, django_assert_max_num_queries, name, params
):
    settings.DEBUG = True  # the outbox page exists in the local run only
    client.force_login(alice)
    _data(alice, 2)
    with django_assert_max_num_queries(30) as few:
        assert client.get(reverse(name), params).status_code == 200
    _data(alice, 9)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse(name), params).status_code == 200


def test_campaign_pages_do_not_grow_with_invitations(client, alice, django_assert_max_num_queries):
    campaign = f.campaign(by=alice, kind="nps")
    account = AccountFactory(owner=alice)
    for score in range(2):
        f.response(
            invitation_obj=f.invitation(contact=ContactFactory(account=account), campaign_obj=campaign),
            score=score,
        )
    client.force_login(alice)
    urls = [
        campaign.get_absolute_url(),
        reverse("feedback:campaign_progress", args=[campaign.pk]),
        reverse("feedback:campaign_invitations", args=[campaign.pk]),
        reverse("feedback:account_answers", args=[account.pk]),
    ]
    counts = []
    for url in urls:
        with django_assert_max_num_queries(30) as captured:
            client.get(url)
        counts.append(len(captured.captured_queries))
    for i in range(20):
        invitation = f.invitation(
            contact=ContactFactory(account=account), campaign_obj=campaign, number=1 + i % 3
        )
        f.response(invitation_obj=invitation, score=i % 11)
    for url, count in zip(urls, counts, strict=True):
        with django_assert_max_num_queries(count):
            client.get(url)
