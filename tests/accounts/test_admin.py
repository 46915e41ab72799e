"""The Django admin for accounts: lists, forms through the services, inlines, actions, access."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Contact, ExchangeRate, MrrMovement, Touchpoint
from accounts.services import mrr_movement_record
from tests.factories import (
    AccountFactory,
    ContactFactory,
    MrrMovementFactory,
    TouchpointFactory,
    UsageEventFactory,
    UserFactory,
)


@pytest.fixture
def admin_client(client, dave):
    client.force_login(dave)
    return client


def queries_for(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured)


def account_form_data(**overrides):
    data = {
        "name": "Gamma Systems",
        "domain": "gamma.example",
        "external_id": "",
        "owner": "",
        "parent": "",
        "segment": "smb",
        "tier": "bronze",
        "plan": "Starter",
        "lifecycle_stage": "onboarding",
        "contract_start": "2025-03-01",
        "renewal_date": "2026-03-01",
        "currency": "USD",
        "acquisition_cost": "",
        "contacts-TOTAL_FORMS": "0",
        "contacts-INITIAL_FORMS": "0",
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def change_form_data(account, **overrides):
    data = account_form_data(
        name=account.name,
        domain=account.domain,
        external_id=account.external_id or "",
        owner=account.owner_id or "",
        parent=account.parent_id or "",
        segment=account.segment,
        tier=account.tier,
        plan=account.plan,
        lifecycle_stage=account.lifecycle_stage,
        contract_start=account.contract_start.isoformat(),
        renewal_date=account.renewal_date.isoformat() if account.renewal_date else "",
        currency=account.currency,
        **{
            "movements-TOTAL_FORMS": "0",
            "movements-INITIAL_FORMS": "0",
            "movements-MIN_NUM_FORMS": "0",
            "movements-MAX_NUM_FORMS": "1000",
        },
    )
    data.update(overrides)
    return data


# --- access ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    ["account", "contact", "mrrmovement", "touchpoint", "usageevent", "exchangerate"],
)
def test_csm_without_staff_flag_is_redirected_away(client, alice, name):
    client.force_login(alice)
    response = client.get(reverse(f"admin:accounts_{name}_changelist"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


# --- changelists ----------------------------------------------------------------------------


def _more_accounts(n):
    for account in AccountFactory.create_batch(n, parent=AccountFactory()):
        ContactFactory(account=account)
        MrrMovementFactory(account=account)
        TouchpointFactory(account=account)
        UsageEventFactory(account=account, contact=account.contacts.first())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "limit"),
    [
        ("account", 10),
        ("contact", 7),
        ("mrrmovement", 6),
        ("touchpoint", 6),
        ("usageevent", 6),
        ("exchangerate", 10),
    ],
)
def test_changelists_open_with_bounded_queries_that_do_not_grow(
    admin_client, name, limit, django_assert_max_num_queries
):
    ExchangeRate.objects.create(currency="EUR", valid_from=dt.date(2025, 1, 1), rate=Decimal("1.1"))
    _more_accounts(2)
    url = reverse(f"admin:accounts_{name}_changelist")
    with django_assert_max_num_queries(limit):
        admin_client.get(url)
    few = queries_for(admin_client, url)
    _more_accounts(12)
    assert queries_for(admin_client, url) == few


@pytest.mark.django_db
def test_account_changelist_columns_filters_and_search(admin_client, alice, bob):
    AccountFactory(
        name="Alpha", domain="alpha.example", owner=alice, segment="enterprise", mrr=Decimal("500")
    )
    AccountFactory(name="Bravo", domain="bravo.example", owner=bob, external_id="CRM-7")
    churned = AccountFactory(name="Charlie", owner=bob, churned_at=dt.date(2025, 6, 1), churn_reason="price")
    url = reverse("admin:accounts_account_changelist")

    html = admin_client.get(url).content.decode()
    for heading in ("Name", "Domain", "Owner", "Segment", "Tier", "Lifecycle stage", "MRR", "Renewal date"):
        assert heading in html
    assert "Alice Archer" in html
    assert "Import" in html and "Export" in html

    def names(params):
        return [a.name for a in admin_client.get(url, params).context["cl"].result_list]

    assert names({"segment__exact": "enterprise"}) == ["Alpha"]
    assert names({"owner__id__exact": bob.pk}) == ["Bravo", "Charlie"]
    assert names({"churned": "yes"}) == [churned.name]
    assert names({"churned": "no"}) == ["Alpha", "Bravo"]
    assert names({"q": "bravo.ex"}) == ["Bravo"]
    assert names({"q": "CRM-7"}) == ["Bravo"]


@pytest.mark.django_db
def test_usage_event_list_never_counts_the_whole_table(admin_client):
    account = AccountFactory(domain="busy.example", external_id="CRM-BUSY")
    UsageEventFactory.create_batch(3, account=account)
    UsageEventFactory.create_batch(2)
    url = reverse("admin:accounts_usageevent_changelist")

    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(url)
    counts = [q["sql"] for q in captured if "COUNT(" in q["sql"].upper()]
    assert counts, "the paginator still counts (a capped count)"
    assert all("LIMIT" in sql.upper() for sql in counts), counts
    assert response.context["cl"].result_count == 5

    response = admin_client.get(url, {"account__id__exact": account.pk})
    assert response.context["cl"].result_count == 3
    response = admin_client.get(url, {"q": "BUSY.example"})
    assert response.context["cl"].result_count == 3
    response = admin_client.get(url, {"q": "CRM-BUSY"})
    assert response.context["cl"].result_count == 3
    response = admin_client.get(url, {"q": "nobody.example"})
    assert response.context["cl"].result_count == 0
    assert "Add usage event" not in response.content.decode()


# --- account change form --------------------------------------------------------------------


@pytest.mark.django_db
def test_account_change_form_opens_with_bounded_queries(admin_client, alice, django_assert_max_num_queries):
    account = AccountFactory(owner=alice, parent=AccountFactory())
    ContactFactory.create_batch(2, account=account)
    mrr_movement_record(account=account, kind="new", date=dt.date(2025, 1, 1), amount=Decimal("100"))
    url = reverse("admin:accounts_account_change", args=[account.pk])

    with django_assert_max_num_queries(12):
        response = admin_client.get(url)
    html = response.content.decode()
    assert "Add MRR movement" in html
    assert f"?account={account.pk}" in html
    assert "MRR movements" in html

    few = queries_for(admin_client, url)
    ContactFactory.create_batch(10, account=account)
    for month in range(2, 12):
        mrr_movement_record(
            account=account, kind="expansion", date=dt.date(2025, month, 1), amount=Decimal("5")
        )
    assert queries_for(admin_client, url) == few


@pytest.mark.django_db
def test_add_form_opens(admin_client, django_assert_max_num_queries):
    for name in ("account", "contact", "mrrmovement", "touchpoint", "exchangerate"):
        with django_assert_max_num_queries(12):
            response = admin_client.get(reverse(f"admin:accounts_{name}_add"))
        assert response.status_code == 200


@pytest.mark.django_db
def test_create_account_goes_through_the_service(admin_client, alice):
    data = account_form_data(
        domain="HTTPS://WWW.Gamma.Example/pricing",
        owner=alice.pk,
        currency="eur",
        **{
            "contacts-TOTAL_FORMS": "2",
            "contacts-0-name": " Gina ",
            "contacts-0-email": "Gina@Gamma.example",
            "contacts-0-role": "champion",
            "contacts-0-language": "en",
            "contacts-0-accepts_surveys": "on",
            "contacts-1-name": "Hal",
            "contacts-1-email": "hal@gamma.example",
            "contacts-1-role": "user",
            "contacts-1-language": "tr",
        },
    )
    response = admin_client.post(reverse("admin:accounts_account_add"), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    account = Account.objects.get()
    assert account.domain == "gamma.example"
    assert account.currency == "EUR"
    assert account.owner == alice
    assert sorted(account.contacts.values_list("name", "email")) == [
        ("Gina", "gina@gamma.example"),
        ("Hal", "hal@gamma.example"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"domain": "not a domain"}, "domain", "Enter a domain such as example.com."),
        ({"domain": "taken.example"}, "domain", "Another account already uses this domain."),
        ({"currency": "dollars"}, "currency", None),
        ({"acquisition_cost": "-1"}, "acquisition_cost", "zero or more"),
        (
            {"renewal_date": "2024-01-01"},
            "renewal_date",
            "The renewal date cannot be before the contract start.",
        ),
    ],
)
def test_create_account_with_bad_data_shows_the_field_error_and_writes_nothing(
    admin_client, overrides, field, message
):
    AccountFactory(domain="taken.example")
    before = Account.objects.count()
    response = admin_client.post(
        reverse("admin:accounts_account_add"),
        account_form_data(
            **overrides,
            **{
                "contacts-TOTAL_FORMS": "1",
                "contacts-0-name": "Gina",
                "contacts-0-email": "gina@gamma.example",
                "contacts-0-role": "user",
                "contacts-0-language": "en",
            },
        ),
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors, errors
    if message:
        assert any(message in error for error in errors[field]), errors
        assert message in response.content.decode()
    assert Account.objects.count() == before
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_owner_autocomplete_offers_only_people_with_a_role(admin_client, alice, charlie):
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "accounts", "model_name": "account", "field_name": "owner", "term": "staff"},
    )
    assert response.status_code == 200
    ids = {int(item["id"]) for item in response.json()["results"]}
    assert alice.pk in ids
    assert charlie.pk not in ids


@pytest.mark.django_db
def test_owner_without_a_role_is_refused(admin_client, charlie):
    response = admin_client.post(reverse("admin:accounts_account_add"), account_form_data(owner=charlie.pk))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["owner"] == [
        "The owner must be an active CSM or manager."
    ]
    assert not Account.objects.exists()


@pytest.mark.django_db
def test_duplicate_contact_emails_in_the_inline_are_an_error(admin_client):
    data = account_form_data(
        **{
            "contacts-TOTAL_FORMS": "2",
            "contacts-0-name": "Gina",
            "contacts-0-email": "gina@gamma.example",
            "contacts-0-role": "user",
            "contacts-0-language": "en",
            "contacts-1-name": "Gina again",
            "contacts-1-email": "GINA@gamma.example",
            "contacts-1-role": "user",
            "contacts-1-language": "en",
        }
    )
    response = admin_client.post(reverse("admin:accounts_account_add"), data)
    assert response.status_code == 200
    assert "This email is listed twice for this account." in response.content.decode()
    assert not Account.objects.exists()


@pytest.mark.django_db
def test_edit_account_goes_through_the_service(admin_client, alice):
    parent = AccountFactory(name="Parent")
    account = AccountFactory(name="Child", owner=alice)
    url = reverse("admin:accounts_account_change", args=[account.pk])

    response = admin_client.post(
        url, change_form_data(account, domain="http://www.NEW-domain.example/", parent=parent.pk, tier="gold")
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    account.refresh_from_db()
    assert (account.domain, account.parent, account.tier) == ("new-domain.example", parent, "gold")


@pytest.mark.django_db
def test_parent_cycle_is_a_field_error(admin_client):
    grandparent = AccountFactory(name="Top")
    parent = AccountFactory(name="Middle", parent=grandparent)
    url = reverse("admin:accounts_account_change", args=[grandparent.pk])

    response = admin_client.post(url, change_form_data(grandparent, parent=parent.pk))

    assert response.status_code == 200
    assert "An account cannot be its own parent" in response.context["adminform"].form.errors["parent"][0]
    grandparent.refresh_from_db()
    assert grandparent.parent is None


@pytest.mark.django_db
def test_a_conflict_at_save_time_is_a_message_not_a_500(admin_client, monkeypatch):
    """The form checked the rules; if another write gets in before the save, nothing is saved."""
    from django.core.exceptions import ValidationError

    import accounts.admin

    def refuse(**kwargs):
        raise ValidationError({"domain": "Another account already uses this domain."})

    monkeypatch.setattr(accounts.admin, "account_create", refuse)
    response = admin_client.post(reverse("admin:accounts_account_add"), account_form_data(), follow=True)
    assert response.status_code == 200
    assert "Nothing was saved" in response.content.decode()
    assert not Account.objects.exists()


def _delete_page_queries(client, account) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:accounts_account_delete", args=[account.pk]))
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_delete_page_summarises_related_rows(admin_client):
    small = AccountFactory(name="Small")  # one row of each kind the big one has
    ContactFactory(account=small)
    UsageEventFactory(account=small)
    TouchpointFactory(account=small)
    MrrMovementFactory(account=small)
    account = AccountFactory(name="Doomed")
    ContactFactory.create_batch(5, account=account)
    UsageEventFactory.create_batch(30, account=account)
    TouchpointFactory.create_batch(4, account=account)
    MrrMovementFactory.create_batch(3, account=account)
    url = reverse("admin:accounts_account_delete", args=[account.pk])

    # The collector asks once per kind of related row (each app with a foreign key to accounts
    # adds one), never once per row: the count does not grow with the rows, and stays within
    # the number of related tables (not a fixed figure that every new app has to raise).
    _delete_page_queries(admin_client, small)  # warm: sessions, content types
    few = _delete_page_queries(admin_client, small)
    many = _delete_page_queries(admin_client, account)
    assert many == few
    related_tables = len(Account._meta.related_objects)
    assert many <= related_tables + 12, (many, related_tables)
    html = admin_client.get(url).content.decode()
    assert "Usage events: 30" in html
    assert "Contacts: 5" in html

    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Account.objects.filter(pk=account.pk).exists()


# --- actions --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reassign_owner_action_with_an_intermediate_page(admin_client, alice, bob):
    accounts = AccountFactory.create_batch(3, owner=alice)
    url = reverse("admin:accounts_account_changelist")
    selected = [str(accounts[0].pk), str(accounts[1].pk)]

    page = admin_client.post(url, {"action": "reassign_owner", "_selected_action": selected})
    assert page.status_code == 200
    assert "Reassign" in page.content.decode()
    assert {a.owner_id for a in Account.objects.all()} == {alice.pk}

    done = admin_client.post(
        url, {"action": "reassign_owner", "_selected_action": selected, "apply": "1", "owner": bob.pk}
    )
    assert done.status_code == 302
    owners = dict(Account.objects.values_list("pk", "owner_id"))
    assert owners == {accounts[0].pk: bob.pk, accounts[1].pk: bob.pk, accounts[2].pk: alice.pk}


@pytest.mark.django_db
def test_reassign_owner_refuses_a_user_without_a_role(admin_client, alice, charlie):
    account = AccountFactory(owner=alice)
    response = admin_client.post(
        reverse("admin:accounts_account_changelist"),
        {"action": "reassign_owner", "_selected_action": [account.pk], "apply": "1", "owner": charlie.pk},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["owner"]
    account.refresh_from_db()
    assert account.owner == alice


@pytest.mark.django_db
def test_staff_csm_cannot_reassign(client, alice, bob):
    from django.contrib.auth.models import Permission

    staff_csm = UserFactory(email="staffcsm@staff.example", is_staff=True)
    staff_csm.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_account", "change_account"])
    )
    account = AccountFactory(owner=alice)
    client.force_login(staff_csm)
    response = client.post(
        reverse("admin:accounts_account_changelist"),
        {"action": "reassign_owner", "_selected_action": [account.pk], "apply": "1", "owner": bob.pk},
        follow=True,
    )
    assert "Only managers and admins can reassign accounts." in response.content.decode()
    account.refresh_from_db()
    assert account.owner == alice


# --- MRR movements --------------------------------------------------------------------------


def movement_data(account, **overrides):
    data = {
        "account": account.pk,
        "kind": "new",
        "date": "2025-01-01",
        "amount": "100",
        "currency": "",
        "churn_reason": "",
        "note": "",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_add_mrr_movement_calls_the_service(admin_client):
    account = AccountFactory()
    url = reverse("admin:accounts_mrrmovement_add")

    assert admin_client.get(url, {"account": account.pk}).context["adminform"].form.initial["account"] == str(
        account.pk
    )
    response = admin_client.post(url, movement_data(account, note="first invoice"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    movement = MrrMovement.objects.get()
    assert (movement.kind, movement.amount, movement.original_currency) == ("new", Decimal("100.00"), "USD")
    account.refresh_from_db()
    assert account.mrr == Decimal("100.00")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"kind": "contraction", "amount": "150"}, "amount", "A contraction must leave some MRR"),
        ({"kind": "new", "amount": "10"}, "kind", "already has revenue history"),
        ({"kind": "churn", "amount": ""}, "churn_reason", "Choose why the account churned."),
        ({"kind": "expansion", "amount": "-5"}, "amount", "Enter an amount above zero."),
        ({"kind": "expansion", "amount": "10", "currency": "EUR"}, "currency", "No exchange rate from EUR"),
        ({"kind": "expansion", "amount": "10", "date": "2024-06-01"}, "kind", "no MRR on that date"),
    ],
)
def test_mrr_movement_rules_are_form_errors_not_500(admin_client, overrides, field, message):
    account = AccountFactory()
    mrr_movement_record(account=account, kind="new", date=dt.date(2025, 1, 1), amount=Decimal("100"))

    response = admin_client.post(
        reverse("admin:accounts_mrrmovement_add"), movement_data(account, **overrides)
    )

    assert response.status_code == 200
    form = response.context["adminform"].form
    errors = form.errors.get(field) if field else form.non_field_errors()
    assert errors and any(message in e for e in errors), form.errors
    assert MrrMovement.objects.count() == 1
    account.refresh_from_db()
    assert account.mrr == Decimal("100.00")


@pytest.mark.django_db
def test_churn_through_the_admin_marks_the_account(admin_client):
    account = AccountFactory()
    mrr_movement_record(account=account, kind="new", date=dt.date(2025, 1, 1), amount=Decimal("100"))
    response = admin_client.post(
        reverse("admin:accounts_mrrmovement_add"),
        movement_data(account, kind="churn", amount="", date="2025-03-01", churn_reason="price"),
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.mrr, account.churned_at, account.churn_reason) == (
        Decimal("0.00"),
        dt.date(2025, 3, 1),
        "price",
    )


@pytest.mark.django_db
def test_movements_cannot_be_edited_or_deleted(admin_client):
    movement = MrrMovementFactory()
    response = admin_client.get(reverse("admin:accounts_mrrmovement_change", args=[movement.pk]))
    assert response.status_code == 200
    assert 'name="amount"' not in response.content.decode()
    response = admin_client.post(
        reverse("admin:accounts_mrrmovement_delete", args=[movement.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert MrrMovement.objects.filter(pk=movement.pk).exists()


# --- touchpoints ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_add_touchpoint_through_the_service_moves_last_touch(admin_client, dave):
    account = AccountFactory()
    contact = ContactFactory(account=account)
    when = timezone.now().replace(microsecond=0) - dt.timedelta(days=2)
    response = admin_client.post(
        reverse("admin:accounts_touchpoint_add"),
        {
            "account": account.pk,
            "contact": contact.pk,
            "author": dave.pk,
            "kind": "call",
            "occurred_at_0": timezone.localtime(when).date().isoformat(),
            "occurred_at_1": timezone.localtime(when).time().isoformat(),
            "summary": "  Talked renewal  ",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    touchpoint = Touchpoint.objects.get()
    assert (touchpoint.summary, touchpoint.author, touchpoint.contact) == ("Talked renewal", dave, contact)
    account.refresh_from_db()
    assert account.last_touch_at == when


@pytest.mark.django_db
def test_touchpoint_rules_are_form_errors(admin_client, dave):
    account = AccountFactory()
    stranger = ContactFactory()
    future = timezone.localtime(timezone.now() + dt.timedelta(days=5))
    response = admin_client.post(
        reverse("admin:accounts_touchpoint_add"),
        {
            "account": account.pk,
            "contact": stranger.pk,
            "author": dave.pk,
            "kind": "call",
            "occurred_at_0": future.date().isoformat(),
            "occurred_at_1": future.time().replace(microsecond=0).isoformat(),
            "summary": "x",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["contact"] == ["Choose a contact of this account."]
    assert errors["occurred_at"] == ["A touchpoint cannot be in the future."]
    assert not Touchpoint.objects.exists()


@pytest.mark.django_db
def test_deleting_a_touchpoint_recomputes_last_touch(admin_client):
    account = AccountFactory()
    older = timezone.now() - dt.timedelta(days=10)
    TouchpointFactory(account=account, occurred_at=older)
    newest = TouchpointFactory(account=account, occurred_at=timezone.now() - dt.timedelta(days=1))
    Account.objects.filter(pk=account.pk).update(last_touch_at=newest.occurred_at)

    response = admin_client.post(
        reverse("admin:accounts_touchpoint_delete", args=[newest.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.last_touch_at == older


# --- contacts and exchange rates ------------------------------------------------------------


@pytest.mark.django_db
def test_contact_changelist_search_and_filters(admin_client):
    acme = AccountFactory(name="Acme", domain="acme.example")
    ContactFactory(account=acme, name="Ada", email="ada@acme.example", role="champion", language="tr")
    ContactFactory(name="Bob", email="bob@else.example", accepts_surveys=False)
    url = reverse("admin:accounts_contact_changelist")

    def names(params):
        return [c.name for c in admin_client.get(url, params).context["cl"].result_list]

    assert names({"q": "acme"}) == ["Ada"]
    assert names({"q": "bob@else"}) == ["Bob"]
    assert names({"role__exact": "champion"}) == ["Ada"]
    assert names({"language__exact": "tr"}) == ["Ada"]
    assert names({"accepts_surveys__exact": "0"}) == ["Bob"]


@pytest.mark.django_db
def test_exchange_rate_form_normalises_and_validates(admin_client):
    url = reverse("admin:accounts_exchangerate_add")
    response = admin_client.post(url, {"currency": "eur", "valid_from": "2025-01-01", "rate": "1.08"})
    assert response.status_code == 302
    assert ExchangeRate.objects.get().currency == "EUR"
    response = admin_client.post(url, {"currency": "EUR", "valid_from": "2025-01-01", "rate": "0"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["rate"] == ["Enter a rate above zero."]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["touchpoint", "mrrmovement"])
def test_history_lists_search_by_account(admin_client, name):
    acme = AccountFactory(name="Acme Rockets", domain="acme.example", external_id="CRM-A")
    other = AccountFactory(name="Other")
    factory = TouchpointFactory if name == "touchpoint" else MrrMovementFactory
    factory(account=acme)
    factory(account=other)
    url = reverse(f"admin:accounts_{name}_changelist")
    for term in ("rocket", "www.ACME.example", "CRM-A"):
        rows = admin_client.get(url, {"q": term}).context["cl"].result_list
        assert [row.account_id for row in rows] == [acme.pk], term
    assert admin_client.get(url, {"account__id__exact": other.pk}).context["cl"].result_count == 1


@pytest.mark.django_db
def test_contact_with_an_email_the_account_already_has_is_a_field_error(admin_client):
    account = AccountFactory()
    ContactFactory(account=account, email="ann@customer.example")
    response = admin_client.post(
        reverse("admin:accounts_contact_add"),
        {
            "account": account.pk,
            "name": "Ann",
            "email": "ANN@Customer.example",
            "role": "user",
            "language": "en",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors == {"email": ["This account already has a contact with this email."]}
    assert Contact.objects.count() == 1

    response = admin_client.post(
        reverse("admin:accounts_contact_add"),
        {
            "account": account.pk,
            "name": " Ben ",
            "email": " Ben@Customer.example",
            "role": "user",
            "language": "en",
        },
    )
    assert response.status_code == 302
    assert Contact.objects.filter(name="Ben", email="ben@customer.example").exists()


@pytest.mark.django_db
def test_delete_selected_accounts_uses_the_summary(admin_client):
    accounts = AccountFactory.create_batch(2)
    for account in accounts:
        UsageEventFactory.create_batch(3, account=account)
    url = reverse("admin:accounts_account_changelist")
    selected = [a.pk for a in accounts]

    page = admin_client.post(url, {"action": "delete_selected", "_selected_action": selected})
    assert page.status_code == 200
    assert "Usage events: 6" in page.content.decode()

    admin_client.post(url, {"action": "delete_selected", "_selected_action": selected, "post": "yes"})
    assert not Account.objects.exists()
