"""MRR on a date, from dated movements: the selectors, the recording rules and the cached MRR."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Account, ExchangeRate, MrrMovement
from accounts.selectors import mrr_by_account_on, mrr_history_by_month, mrr_on, total_mrr_on
from accounts.services import accounts_refresh_mrr, mrr_movement_record
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

D = Decimal
DAY = dt.timedelta(days=1)

# The life of one account, all in the past so the cached MRR is today's.
NEW_ON = dt.date(2024, 1, 10)
EXPANSION_ON = dt.date(2024, 3, 1)
CONTRACTION_ON = dt.date(2024, 5, 15)
CHURN_ON = dt.date(2024, 7, 31)
REACTIVATION_ON = dt.date(2024, 10, 1)


def record(account, kind, date, amount=None, **kwargs):
    return mrr_movement_record(account=account, kind=kind, date=date, amount=amount, **kwargs)


@pytest.fixture
def lifecycle(alice):
    """new 1,000 → +500 → −300 → churn (all 1,200) → reactivation 800."""
    account = AccountFactory(owner=alice, contract_start=dt.date(2024, 1, 1), lifecycle_stage="onboarding")
    record(account, "new", NEW_ON, D("1000"))
    record(account, "expansion", EXPANSION_ON, D("500"))
    record(account, "contraction", CONTRACTION_ON, D("300"))
    record(account, "churn", CHURN_ON, churn_reason="price")
    record(account, "reactivation", REACTIVATION_ON, D("800"))
    return account


def snapshot(account):
    """What the database holds for an account: its movements and its cached fields."""
    row = Account.objects.values("mrr", "churned_at", "churn_reason", "lifecycle_stage").get(pk=account.pk)
    return list(MrrMovement.objects.filter(account=account).values_list("kind", "date", "amount")), row


# ---------------------------------------------------------------- MRR on a date


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (NEW_ON - DAY, D("0")),
        (NEW_ON, D("1000")),
        (EXPANSION_ON - DAY, D("1000")),
        (EXPANSION_ON, D("1500")),
        (CONTRACTION_ON - DAY, D("1500")),
        (CONTRACTION_ON, D("1200")),
        (CHURN_ON - DAY, D("1200")),
        (CHURN_ON, D("0")),
        (REACTIVATION_ON - DAY, D("0")),
        (REACTIVATION_ON, D("800")),
        (dt.date(2030, 1, 1), D("800")),
    ],
)
def test_mrr_on_each_boundary_day(lifecycle, day, expected):
    assert mrr_on(account=lifecycle, day=day) == expected


def test_movements_are_stored_signed_with_their_kind(lifecycle):
    movements, _row = snapshot(lifecycle)
    assert movements == [
        ("new", NEW_ON, D("1000.00")),
        ("expansion", EXPANSION_ON, D("500.00")),
        ("contraction", CONTRACTION_ON, D("-300.00")),
        ("churn", CHURN_ON, D("-1200.00")),
        ("reactivation", REACTIVATION_ON, D("800.00")),
    ]


def test_mrr_of_many_accounts_on_a_day_in_one_query(lifecycle, alice, bob, django_assert_num_queries):
    small = AccountFactory(owner=bob)
    record(small, "new", dt.date(2024, 2, 1), D("99.50"))
    record(small, "expansion", dt.date(2024, 6, 1), D("0.50"))
    never = AccountFactory(owner=alice)  # no revenue at all
    later = AccountFactory(owner=alice)
    record(later, "new", dt.date(2024, 9, 1), D("40"))

    day = dt.date(2024, 6, 1)
    with django_assert_num_queries(1):
        by_account = mrr_by_account_on(day=day)
    assert by_account == {lifecycle.pk: D("1200"), small.pk: D("100")}
    assert never.pk not in by_account and later.pk not in by_account

    with django_assert_num_queries(1):
        mine = mrr_by_account_on(day=dt.date(2024, 9, 1), accounts=Account.objects.filter(owner=alice))
    assert mine == {lifecycle.pk: D("0"), later.pk: D("40")}

    with django_assert_num_queries(1):
        assert total_mrr_on(day=day) == D("1300")
    with django_assert_num_queries(1):
        assert total_mrr_on(day=dt.date(2024, 10, 1), accounts=Account.objects.filter(owner=alice)) == D(
            "840"
        )
    with django_assert_num_queries(1):
        assert total_mrr_on(day=dt.date(2023, 1, 1)) == D("0")


def test_mrr_history_by_month(lifecycle, django_assert_num_queries):
    with django_assert_num_queries(1):
        history = mrr_history_by_month(account=lifecycle, months=12, today=dt.date(2024, 10, 15))
    assert [(m.month, m.mrr, m.change) for m in history] == [
        (dt.date(2023, 11, 1), D("0"), D("0")),
        (dt.date(2023, 12, 1), D("0"), D("0")),
        (dt.date(2024, 1, 1), D("1000"), D("1000")),
        (dt.date(2024, 2, 1), D("1000"), D("0")),
        (dt.date(2024, 3, 1), D("1500"), D("500")),
        (dt.date(2024, 4, 1), D("1500"), D("0")),
        (dt.date(2024, 5, 1), D("1200"), D("-300")),
        (dt.date(2024, 6, 1), D("1200"), D("0")),
        (dt.date(2024, 7, 1), D("0"), D("-1200")),  # churned on the 31st
        (dt.date(2024, 8, 1), D("0"), D("0")),
        (dt.date(2024, 9, 1), D("0"), D("0")),
        (dt.date(2024, 10, 1), D("800"), D("800")),  # up to today
    ]


def test_mrr_history_starts_from_the_mrr_before_its_first_month(lifecycle):
    history = mrr_history_by_month(account=lifecycle, months=3, today=dt.date(2024, 6, 30))
    assert [(m.month, m.mrr, m.change) for m in history] == [
        (dt.date(2024, 4, 1), D("1500"), D("0")),
        (dt.date(2024, 5, 1), D("1200"), D("-300")),
        (dt.date(2024, 6, 1), D("1200"), D("0")),
    ]


# ---------------------------------------------------------------- the account follows its movements


def test_account_cached_fields_follow_churn_and_reactivation(alice):
    account = AccountFactory(owner=alice, lifecycle_stage="onboarding")
    record(account, "new", NEW_ON, D("1000"))
    account.refresh_from_db()
    assert (account.mrr, account.churned_at, account.churn_reason) == (D("1000"), None, "")

    record(account, "churn", CHURN_ON, churn_reason="competitor")
    account.refresh_from_db()
    assert (account.mrr, account.churned_at, account.churn_reason, account.lifecycle_stage) == (
        D("0"),
        CHURN_ON,
        "competitor",
        "churned",
    )

    record(account, "reactivation", REACTIVATION_ON, D("800"))
    account.refresh_from_db()
    assert (account.mrr, account.churned_at, account.churn_reason, account.lifecycle_stage) == (
        D("800"),
        None,
        "",
        "adoption",
    )


def test_churn_with_the_exact_amount_is_accepted(alice):
    account = AccountFactory(owner=alice)
    record(account, "new", NEW_ON, D("250"))
    record(account, "churn", CHURN_ON, D("250"), churn_reason="budget")
    assert mrr_on(account=account, day=CHURN_ON) == 0


# ---------------------------------------------------------------- the rules, and nothing written on refusal


def refused(account, field, **kwargs):
    """Recording is refused with an error on ``field``, and the database is unchanged."""
    before = snapshot(account)
    with pytest.raises(ValidationError) as exc:
        mrr_movement_record(account=account, **kwargs)
    assert field in exc.value.message_dict, exc.value.message_dict
    assert snapshot(account) == before
    return exc.value.message_dict[field]


@pytest.fixture
def active(alice):
    account = AccountFactory(owner=alice)
    record(account, "new", dt.date(2024, 1, 1), D("1000"))
    return account


def test_new_only_once(active):
    refused(active, "kind", kind="new", date=dt.date(2024, 6, 1), amount=D("10"))
    refused(active, "kind", kind="new", date=dt.date(2023, 6, 1), amount=D("10"))


def test_reactivation_only_after_a_churn(alice, active):
    never = AccountFactory(owner=alice)
    refused(never, "kind", kind="reactivation", date=dt.date(2024, 6, 1), amount=D("10"))
    refused(active, "kind", kind="reactivation", date=dt.date(2024, 6, 1), amount=D("10"))
    record(active, "churn", dt.date(2024, 3, 1), churn_reason="price")
    # Not before the churn (still active then), nor before the account ever had revenue.
    refused(active, "kind", kind="reactivation", date=dt.date(2024, 2, 1), amount=D("10"))
    refused(active, "kind", kind="reactivation", date=dt.date(2023, 12, 1), amount=D("10"))
    record(active, "reactivation", dt.date(2024, 3, 2), D("10"))
    assert mrr_on(account=active, day=dt.date(2024, 3, 2)) == D("10")


def test_expansion_and_contraction_only_while_active(alice, active):
    never = AccountFactory(owner=alice)
    refused(never, "kind", kind="expansion", date=dt.date(2024, 6, 1), amount=D("10"))
    refused(active, "kind", kind="expansion", date=dt.date(2023, 12, 31), amount=D("10"))
    record(active, "churn", dt.date(2024, 3, 1), churn_reason="price")
    refused(active, "kind", kind="contraction", date=dt.date(2024, 4, 1), amount=D("10"))
    refused(active, "kind", kind="expansion", date=dt.date(2024, 4, 1), amount=D("10"))


def test_contraction_cannot_reach_zero(active):
    refused(active, "amount", kind="contraction", date=dt.date(2024, 2, 1), amount=D("1000"))
    refused(active, "amount", kind="contraction", date=dt.date(2024, 2, 1), amount=D("1500"))
    record(active, "contraction", dt.date(2024, 2, 1), D("999.99"))
    assert mrr_on(account=active, day=dt.date(2024, 2, 1)) == D("0.01")


def test_churn_removes_everything_and_needs_a_reason(active):
    refused(active, "amount", kind="churn", date=dt.date(2024, 2, 1), amount=D("999"), churn_reason="price")
    refused(active, "amount", kind="churn", date=dt.date(2024, 2, 1), amount=D("1001"), churn_reason="price")
    refused(active, "churn_reason", kind="churn", date=dt.date(2024, 2, 1))
    refused(active, "churn_reason", kind="churn", date=dt.date(2024, 2, 1), churn_reason="gremlins")
    refused(active, "kind", kind="churn", date=dt.date(2023, 12, 31), churn_reason="price")


@pytest.mark.parametrize("amount", [D("0"), D("-5"), D("-0.01")])
def test_amounts_must_be_above_zero(active, amount):
    message = refused(active, "amount", kind="expansion", date=dt.date(2024, 2, 1), amount=amount)
    assert message == ["Enter an amount above zero."]


def test_amount_is_required_except_for_churn(alice, active):
    refused(AccountFactory(owner=alice), "amount", kind="new", date=dt.date(2024, 1, 1))
    refused(active, "amount", kind="expansion", date=dt.date(2024, 2, 1))


def test_unknown_kind_is_refused(active):
    refused(active, "kind", kind="upsell", date=dt.date(2024, 2, 1), amount=D("10"))


def test_a_back_dated_change_that_would_make_mrr_negative_later_is_refused(active):
    record(active, "expansion", dt.date(2024, 2, 1), D("500"))  # 1,500
    record(active, "contraction", dt.date(2024, 3, 1), D("1200"))  # 300
    # On Jan 15 a contraction of 400 leaves 600, but on Mar 1 MRR would be −100.
    message = refused(active, "amount", kind="contraction", date=dt.date(2024, 1, 15), amount=D("400"))
    assert "later" in message[0]
    record(active, "contraction", dt.date(2024, 1, 15), D("200"))  # leaves 100 on Mar 1
    assert mrr_on(account=active, day=dt.date(2024, 3, 1)) == D("100")


def test_a_back_dated_change_cannot_undo_a_later_churn(active):
    record(active, "churn", dt.date(2024, 3, 1), churn_reason="price")
    # An expansion before the churn would leave 500 after a churn that must remove everything.
    message = refused(active, "date", kind="expansion", date=dt.date(2024, 2, 1), amount=D("500"))
    assert "later Churn on 2024-03-01" in message[0]
    assert mrr_on(account=active, day=dt.date(2024, 12, 31)) == 0


def test_a_back_dated_churn_cannot_precede_later_revenue_changes(active):
    record(active, "expansion", dt.date(2024, 3, 1), D("500"))
    # After a churn on Feb 1 the March expansion would grow an account that has no MRR.
    message = refused(active, "date", kind="churn", date=dt.date(2024, 2, 1), churn_reason="price")
    assert "later Expansion on 2024-03-01" in message[0]
    account = Account.objects.get(pk=active.pk)
    assert (account.churned_at, account.lifecycle_stage, account.mrr) == (None, "adoption", D("1500"))


# ---------------------------------------------------------------- foreign currency


def test_a_foreign_currency_movement_keeps_its_original_and_is_converted(alice, settings):
    settings.REPORTING_CURRENCY = "USD"
    ExchangeRate.objects.create(currency="EUR", valid_from=dt.date(2024, 1, 1), rate=D("1.10"))
    ExchangeRate.objects.create(currency="EUR", valid_from=dt.date(2024, 6, 1), rate=D("1.20"))
    account = AccountFactory(owner=alice, currency="EUR")

    new = record(account, "new", dt.date(2024, 2, 1), D("1000"))  # account's currency by default
    assert (new.original_amount, new.original_currency, new.fx_rate, new.amount) == (
        D("1000"),
        "EUR",
        D("1.10"),
        D("1100.00"),
    )
    expansion = record(account, "expansion", dt.date(2024, 7, 1), D("100"), currency="eur")
    assert (expansion.original_currency, expansion.fx_rate, expansion.amount) == (
        "EUR",
        D("1.20"),
        D("120.00"),
    )
    usd = record(account, "expansion", dt.date(2024, 8, 1), D("30"), currency="USD")
    assert (usd.original_currency, usd.fx_rate, usd.amount) == ("USD", D("1"), D("30.00"))

    stored = MrrMovement.objects.get(pk=new.pk)
    assert (stored.original_amount, stored.original_currency, stored.amount) == (
        D("1000.00"),
        "EUR",
        D("1100.00"),
    )
    assert mrr_on(account=account, day=dt.date(2024, 8, 1)) == D("1250.00")
    account.refresh_from_db()
    assert account.mrr == D("1250.00")

    churn = record(account, "churn", dt.date(2024, 9, 1), churn_reason="price")
    assert churn.amount == D("-1250.00")
    assert (churn.original_currency, churn.original_amount) == (
        "EUR",
        (D("1250") / D("1.2")).quantize(D("0.01")),
    )


def test_a_currency_without_a_rate_is_a_clear_field_error(alice, settings):
    settings.REPORTING_CURRENCY = "USD"
    ExchangeRate.objects.create(currency="TRY", valid_from=dt.date(2024, 6, 1), rate=D("0.03"))
    account = AccountFactory(owner=alice, currency="TRY")
    # A rate that starts after the movement's date does not apply.
    message = refused(account, "currency", kind="new", date=dt.date(2024, 1, 1), amount=D("10000"))
    assert "TRY" in message[0] and "USD" in message[0]
    refused(account, "currency", kind="new", date=dt.date(2024, 7, 1), amount=D("10"), currency="GBP")
    record(account, "new", dt.date(2024, 7, 1), D("10000"))
    assert mrr_on(account=account, day=dt.date(2024, 7, 1)) == D("300.00")


# ---------------------------------------------------------------- future-dated movements


def test_refresh_brings_future_dated_movements_into_the_cached_mrr_on_their_day(alice, bob):
    today = timezone.localdate()
    account = AccountFactory(owner=alice)
    record(account, "new", today - dt.timedelta(days=30), D("100"))
    record(account, "expansion", today + dt.timedelta(days=10), D("50"))
    other = AccountFactory(owner=bob)
    record(other, "new", today + dt.timedelta(days=5), D("70"))
    idle = AccountFactory(owner=bob)

    def cached():
        return dict(Account.objects.filter(pk__in=[account.pk, other.pk, idle.pk]).values_list("pk", "mrr"))

    assert cached() == {account.pk: D("100"), other.pk: D("0"), idle.pk: D("0")}
    accounts_refresh_mrr()
    assert cached() == {account.pk: D("100"), other.pk: D("0"), idle.pk: D("0")}
    accounts_refresh_mrr(day=today + dt.timedelta(days=5))
    assert cached() == {account.pk: D("100"), other.pk: D("70"), idle.pk: D("0")}
    accounts_refresh_mrr(day=today + dt.timedelta(days=10))
    assert cached() == {account.pk: D("150"), other.pk: D("70"), idle.pk: D("0")}
    accounts_refresh_mrr(day=today + dt.timedelta(days=10))  # idempotent
    assert cached() == {account.pk: D("150"), other.pk: D("70"), idle.pk: D("0")}


def test_refresh_corrects_a_stale_cached_mrr_in_one_query(alice, django_assert_num_queries):
    account = AccountFactory(owner=alice)
    record(account, "new", dt.date(2024, 1, 1), D("100"))
    Account.objects.filter(pk=account.pk).update(mrr=D("999"))
    with django_assert_num_queries(1):
        accounts_refresh_mrr()
    account.refresh_from_db()
    assert account.mrr == D("100")


def test_sums_of_cents_are_exact_on_every_database(alice, django_assert_num_queries):
    """SQLite adds decimals as floats (0.30 − 0.10 − 0.20 ≠ 0); MRR must still be exact cents."""
    churned = AccountFactory(owner=alice)
    record(churned, "new", dt.date(2024, 1, 1), D("0.30"))
    record(churned, "contraction", dt.date(2024, 1, 2), D("0.10"))
    record(churned, "churn", dt.date(2024, 1, 3), churn_reason="price")
    cent = AccountFactory(owner=alice)
    record(cent, "new", dt.date(2024, 1, 1), D("1000"))
    record(cent, "contraction", dt.date(2024, 1, 2), D("999.99"))

    day = dt.date(2024, 1, 3)
    assert str(mrr_on(account=churned, day=day)) == "0.00"
    assert str(mrr_on(account=cent, day=day)) == "0.01"
    by_account = mrr_by_account_on(day=day)
    assert by_account == {churned.pk: D("0"), cent.pk: D("0.01")}
    assert [pk for pk, mrr in by_account.items() if mrr > 0] == [cent.pk]  # active on the day
    assert str(total_mrr_on(day=day)) == "0.01"

    churned.refresh_from_db()
    assert str(churned.mrr) == "0.00"  # the churn itself kept the cached MRR exact

    accounts_refresh_mrr()  # must not trip the non-negative MRR check with −2.8E-17
    cached = dict(Account.objects.filter(owner=alice).values_list("pk", "mrr"))
    assert (str(cached[churned.pk]), str(cached[cent.pk])) == ("0.00", "0.01")
