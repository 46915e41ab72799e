"""Account 360: header, contacts, MRR history, usage summary, timeline, touchpoints, reassignment."""

import datetime as dt
import re
from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Touchpoint
from accounts.selectors import account_timeline
from accounts.services import mrr_movement_record
from tests.account_page import HX, side, timeline
from tests.factories import AccountFactory, ContactFactory, TouchpointFactory, UsageEventFactory, UserFactory


def detail(account):
    return reverse("accounts:detail", args=[account.pk])


def test_header_shows_the_account_facts(client, alice):
    parent = AccountFactory(owner=alice, name="Parent Holdings")
    account = AccountFactory(
        owner=alice,
        name="Child Retail",
        plan="Enterprise Plus",
        segment="enterprise",
        tier="platinum",
        lifecycle_stage="growth",
        contract_start=dt.date(2024, 5, 1),
        renewal_date=dt.date(2031, 5, 1),
        parent=parent,
    )
    mrr_movement_record(account=account, kind="new", date=dt.date(2024, 5, 1), amount=Decimal("2500"))
    client.force_login(alice)
    html = client.get(detail(account)).content.decode()
    for text in [
        "Child Retail",
        "2,500.00 USD",  # MRR
        "30,000.00 USD",  # ARR
        "Enterprise Plus",
        "Enterprise",
        "Platinum",
        "Growth",
        "May 1, 2024",
        "May 1, 2031",
        "Alice Archer",
        "Parent Holdings",
    ]:
        assert text in html, text


def test_contacts_with_role_and_survey_consent(client, alice, alice_account):
    ContactFactory(account=alice_account, name="Cara Champion", role="champion", accepts_surveys=True)
    ContactFactory(account=alice_account, name="Bill Payer", role="billing", accepts_surveys=False)
    client.force_login(alice)
    html = client.get(detail(alice_account)).content.decode()
    assert "Cara Champion" in html and "Champion" in html
    assert "Bill Payer" in html and "Billing" in html
    assert "accepts surveys" in html and "no surveys" in html


def test_mrr_history_by_month_as_chart_and_table(client, alice, alice_account):
    today = timezone.localdate()
    start = (today.replace(day=1) - dt.timedelta(days=100)).replace(day=1)
    mrr_movement_record(account=alice_account, kind="new", date=start, amount=Decimal("1000"))
    mrr_movement_record(
        account=alice_account, kind="expansion", date=today.replace(day=1), amount=Decimal("500")
    )
    client.force_login(alice)
    response = side(client, alice_account)  # a side card, loaded by htmx
    bars = response.context["bars"]
    assert len(bars) == 12
    assert bars[-1]["month"].mrr == Decimal("1500")
    assert bars[-2]["month"].mrr == Decimal("1000")
    assert bars[-1]["height"] == 100.0
    html = response.content.decode()
    assert "<svg" in html and "Show as table" in html and "1,500" in html


def test_usage_summary_compares_last_30_days_with_the_30_before(client, alice, alice_account):
    now = timezone.now()
    a, b, c = ContactFactory.create_batch(3, account=alice_account)
    for contact, days in [(a, 1), (a, 2), (b, 5), (c, 40), (c, 45), (None, 50), (a, 70)]:
        UsageEventFactory(account=alice_account, contact=contact, occurred_at=now - dt.timedelta(days=days))
    client.force_login(alice)
    usage = side(client, alice_account).context["usage"]
    assert (usage.events_last_30, usage.events_prior_30) == (3, 3)
    assert (usage.active_users_last_30, usage.active_users_prior_30) == (2, 1)
    assert usage.active_users_change == 100.0


def test_timeline_merges_touchpoints_and_usage_newest_first(client, alice, alice_account):
    now = timezone.now()
    TouchpointFactory(account=alice_account, summary="Kick-off call", occurred_at=now - dt.timedelta(days=20))
    TouchpointFactory(
        account=alice_account, summary="QBR held", kind="qbr", occurred_at=now - dt.timedelta(hours=1)
    )
    UsageEventFactory(account=alice_account, occurred_at=now - dt.timedelta(days=10))
    client.force_login(alice)
    entries = timeline(client, alice_account, htmx=False).context["timeline"].entries
    kinds = [entry.kind for entry in entries]
    assert kinds == ["touchpoint", "usage", "touchpoint"]
    assert entries[0].body == "QBR held" and entries[-1].body == "Kick-off call"
    assert [e.occurred_at for e in entries] == sorted((e.occurred_at for e in entries), reverse=True)
    assert entries[1].title == "Usage: 1 event"  # no contact behind it


def test_usage_highlights_count_in_words(client, alice, alice_account):
    now = timezone.now()
    contact = ContactFactory(account=alice_account)
    UsageEventFactory(account=alice_account, contact=contact, occurred_at=now - dt.timedelta(days=10))
    client.force_login(alice)
    (entry,) = timeline(client, alice_account, htmx=False).context["timeline"].entries
    assert entry.title == "Usage: 1 event by 1 active user"
    UsageEventFactory.create_batch(999, account=alice_account, contact=contact, occurred_at=entry.occurred_at)
    (entry,) = timeline(client, alice_account, htmx=False).context["timeline"].entries
    assert entry.title == "Usage: 1,000 events by 1 active user"


def test_timeline_paginates_without_gaps_or_repeats(client, alice, alice_account):
    base = timezone.now().replace(microsecond=0) - dt.timedelta(days=1)
    for i in range(45):  # several share a timestamp, to test the tie-break
        TouchpointFactory(
            account=alice_account, summary=f"tp {i}", occurred_at=base - dt.timedelta(minutes=i // 3)
        )
    client.force_login(alice)
    assert "tp 0" not in client.get(detail(alice_account)).content.decode()  # htmx loads it
    html = timeline(client, alice_account).content.decode()
    seen = re.findall(r'<p class="tl-text">(tp \d+)</p>', html)
    pages = 1
    while match := re.search(r'hx-get="(/accounts/\d+/timeline/\?cursor=[^"]+)"', html):
        response = client.get(unescape(match.group(1)), headers={"HX-Request": "true"})
        html = response.content.decode()
        assert response.status_code == 200 and "<html" not in html
        seen += re.findall(r'<p class="tl-text">(tp \d+)</p>', html)
        pages += 1
    assert pages == 3
    assert sorted(seen) == sorted(f"tp {i}" for i in range(45))


def test_timeline_page_without_javascript_and_bad_cursor(client, alice, alice_account):
    TouchpointFactory(account=alice_account, summary="Only entry")
    client.force_login(alice)
    url = reverse("accounts:timeline", args=[alice_account.pk])
    response = client.get(url, {"cursor": "not-a-cursor"})
    assert response.status_code == 200
    assert "Only entry" in response.content.decode() and "<html" in response.content.decode()


def test_log_touchpoint_with_htmx_puts_it_on_top_of_the_timeline(client, alice, alice_account):
    contact = ContactFactory(account=alice_account, name="Dana Decider")
    TouchpointFactory(
        account=alice_account, summary="Older", occurred_at=timezone.now() - dt.timedelta(days=2)
    )
    client.force_login(alice)
    url = reverse("accounts:touchpoint_create", args=[alice_account.pk])
    response = client.post(
        url,
        {"kind": "meeting", "summary": "Renewal meeting went well", "contact": contact.pk},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="timeline"' in html and 'hx-swap-oob="true"' in html
    assert html.index("Renewal meeting went well") < html.index("Older")
    touchpoint = Touchpoint.objects.get(summary="Renewal meeting went well")
    assert touchpoint.author == alice and touchpoint.contact == contact
    alice_account.refresh_from_db()
    assert alice_account.last_touch_at == touchpoint.occurred_at


def test_log_touchpoint_without_javascript_redirects_back(client, alice, alice_account):
    client.force_login(alice)
    url = reverse("accounts:touchpoint_create", args=[alice_account.pk])
    response = client.post(url, {"kind": "note", "summary": "Plain form"})
    assert response.status_code == 302 and response["Location"] == detail(alice_account)
    assert Touchpoint.objects.filter(summary="Plain form").exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "call", "summary": ""}, "summary", "This field is required."),
        ({"kind": "telepathy", "summary": "x"}, "kind", "Select a valid choice."),
        (
            {"kind": "call", "summary": "x", "occurred_at": "2999-01-01T10:00"},
            "occurred_at",
            "cannot be in the future",
        ),
        (
            {"kind": "call", "summary": "x", "occurred_at": "yesterday-ish"},
            "occurred_at",
            "Enter a valid date/time.",
        ),
    ],
)
def test_bad_touchpoint_shows_field_error_and_writes_nothing(
    client, alice, alice_account, data, field, message
):
    client.force_login(alice)
    url = reverse("accounts:touchpoint_create", args=[alice_account.pk])
    for headers, status in (({"HX-Request": "true"}, 200), ({}, 422)):
        response = client.post(url, data, headers=headers)
        assert response.status_code == status
        assert message in response.content.decode()
        assert field in response.context["touchpoint_form"].errors
    assert not Touchpoint.objects.exists()


def test_contact_of_another_account_is_refused(client, alice, alice_account, bob_account):
    other = ContactFactory(account=bob_account)
    client.force_login(alice)
    url = reverse("accounts:touchpoint_create", args=[alice_account.pk])
    response = client.post(url, {"kind": "call", "summary": "x", "contact": other.pk})
    assert response.status_code == 422
    assert not Touchpoint.objects.exists()


@pytest.mark.parametrize("name", ["detail", "side", "timeline"])
def test_other_csms_account_is_404_by_page_and_partial(client, alice, bob_account, name):
    client.force_login(alice)
    url = reverse(f"accounts:{name}", args=[bob_account.pk])
    assert client.get(url).status_code == 404
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 404


def test_other_csms_account_cannot_get_touchpoints_or_be_reassigned(client, alice, bob, bob_account):
    client.force_login(alice)
    create = reverse("accounts:touchpoint_create", args=[bob_account.pk])
    assert (
        client.post(create, {"kind": "call", "summary": "sneaky"}, headers={"HX-Request": "true"}).status_code
        == 404
    )
    reassign = reverse("accounts:reassign", args=[bob_account.pk])
    assert client.post(reassign, {"owner": alice.pk}).status_code == 404
    bob_account.refresh_from_db()
    assert bob_account.owner == bob and not Touchpoint.objects.exists()


def test_csm_cannot_reassign_even_own_account(client, alice, bob, alice_account):
    client.force_login(alice)
    response = client.post(reverse("accounts:reassign", args=[alice_account.pk]), {"owner": bob.pk})
    assert response.status_code == 403
    alice_account.refresh_from_db()
    assert alice_account.owner == alice
    assert b"Reassign" not in client.get(detail(alice_account)).content


def test_manager_and_admin_see_any_account_and_reassign(client, carol, dave, bob, alice, alice_account):
    for user in (carol, dave):
        client.force_login(user)
        assert client.get(detail(alice_account)).status_code == 200
    client.force_login(carol)
    response = client.post(
        reverse("accounts:reassign", args=[alice_account.pk]), {"owner": bob.pk}, follow=True
    )
    assert "now belongs to Bob Baker" in response.content.decode()
    alice_account.refresh_from_db()
    assert alice_account.owner == bob


def test_reassign_to_a_user_without_role_is_refused(client, carol, charlie, alice, alice_account):
    client.force_login(carol)
    response = client.post(
        reverse("accounts:reassign", args=[alice_account.pk]), {"owner": charlie.pk}, follow=True
    )
    assert "Could not reassign" in response.content.decode()
    alice_account.refresh_from_db()
    assert alice_account.owner == alice


def test_no_role_user_gets_403_and_anonymous_goes_to_login(client, charlie, alice_account):
    assert client.get(detail(alice_account)).status_code == 302
    client.force_login(charlie)
    assert client.get(detail(alice_account)).status_code == 403


def test_account_360_query_count_is_constant(client, alice, carol, django_assert_max_num_queries):
    """The page (header, health, touchpoint form, contacts), the timeline's first page and the
    side cards, which htmx loads with it, cost a fixed number of queries each, whatever the
    account's history."""
    account = AccountFactory(owner=alice)
    client.force_login(alice)
    with django_assert_max_num_queries(12) as small:
        client.get(detail(account))
    with django_assert_max_num_queries(14) as small_side:
        side(client, account)
    with django_assert_max_num_queries(12) as small_timeline:
        timeline(client, account)
    now = timezone.now()
    contacts = ContactFactory.create_batch(15, account=account)
    mrr_movement_record(account=account, kind="new", date=dt.date(2025, 1, 1), amount=Decimal("100"))
    for i in range(40):
        TouchpointFactory(
            account=account, contact=contacts[i % 15], author=UserFactory() if i % 10 == 0 else alice
        )
        UsageEventFactory(
            account=account, contact=contacts[i % 15], occurred_at=now - dt.timedelta(days=i * 3)
        )
    AccountFactory(owner=alice, parent=account)  # a child account: one more query, named
    with django_assert_max_num_queries(len(small.captured_queries) + 1):
        response = client.get(detail(account))
    with django_assert_max_num_queries(len(small_timeline.captured_queries)):
        entries = timeline(client, account).content.decode()
    assert entries.count('<li class="tl-item') == 20
    assert len(response.context["contacts"]) == 15 and len(response.context["children"]) == 1
    with django_assert_max_num_queries(len(small_side.captured_queries)):
        side(client, account)
    client.force_login(carol)  # a manager also gets the owner list to reassign: one query more
    with django_assert_max_num_queries(len(small.captured_queries) + 2):
        client.get(detail(account))


def test_side_cards_load_with_htmx_and_are_a_page_without_javascript(client, alice, alice_account):
    """The page links to its side cards; htmx swaps them in on load, a plain GET shows them as a
    page of their own."""
    UsageEventFactory(account=alice_account, occurred_at=timezone.now() - dt.timedelta(days=2))
    client.force_login(alice)
    url = reverse("accounts:side", args=[alice_account.pk])
    page = client.get(detail(alice_account)).content.decode()
    assert f'hx-get="{url}" hx-trigger="load"' in page and f'href="{url}"' in page
    assert "Usage, last 30 days" not in page  # not in the first response
    partial = client.get(url, headers=HX).content.decode()
    assert "<html" not in partial
    for card in ("Alerts", "Open tasks", "Rewards", "Survey answers", "Onboarding", "Usage, last 30 days"):
        assert card in partial, card
    assert "MRR by month" in partial
    full = client.get(url).content.decode()
    assert "<html" in full and "Usage, last 30 days" in full and detail(alice_account) in full


def test_usage_weeks_page_through_long_history_and_gaps(alice_account):
    """The usage source reads only the weeks a page can show; weeks beyond a gap still come, and
    every week is counted whole, once."""
    now = timezone.now()
    expected = {}
    for weeks_ago in [*range(30), 100, 101]:  # 30 weeks in a row, a gap, two weeks two years ago
        for i in range(1 + weeks_ago % 3):
            UsageEventFactory(account=alice_account, occurred_at=now - dt.timedelta(weeks=weeks_ago, hours=i))
    for event in alice_account.usage_events.all():
        local = timezone.localtime(event.occurred_at)
        monday = (local - dt.timedelta(days=local.weekday())).date()
        expected[monday] = expected.get(monday, 0) + 1
    seen, cursor = {}, None
    while True:
        page = account_timeline(account=alice_account, cursor=cursor)
        for entry in page.entries:
            week = timezone.localtime(entry.occurred_at).date()
            assert week not in seen
            seen[week] = entry.extra["events"]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == expected
