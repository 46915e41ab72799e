"""Hand-built revenue histories for the metric tests.

``history(account, [(kind, "2026-01-15", amount), ...])`` records each movement through the
service (so the data obeys the same rules as real data: churn removes everything, reactivation
only after a churn, churned_at and the churn reason kept on the account). ``bulk_customers``
writes many accounts and their movements in a few statements, for the worked example of
1,000 customers.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import Account, MrrMovement
from accounts.services import mrr_movement_record
from dashboards.periods import Period, custom
from dashboards.selectors import Assumptions, Scope
from tests.factories import AccountFactory


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def history(account: Account, moves: list[tuple]) -> Account:
    for move in moves:
        kind, when = move[0], day(move[1])
        amount = Decimal(str(move[2])) if len(move) > 2 and move[2] is not None else None
        extra = move[3] if len(move) > 3 else {}
        if kind == "churn":
            extra.setdefault("churn_reason", "price")
        mrr_movement_record(account=account, kind=kind, date=when, amount=amount, **extra)
    account.refresh_from_db()
    return account


def customer(owner, moves: list[tuple], **fields) -> Account:
    fields.setdefault("contract_start", day(moves[0][1]) if moves else dt.date(2025, 1, 1))
    return history(AccountFactory(owner=owner, **fields), moves)


def bulk_customers(
    owner,
    count: int,
    *,
    start: str,
    mrr: str = "100.00",
    churn_on: str | None = None,
    churned: int = 0,
    prefix: str = "Bulk",
) -> list[Account]:
    """``count`` accounts that became customers on ``start`` at ``mrr``; the first ``churned``
    of them churn on ``churn_on``. Three statements, however many accounts."""
    started = day(start)
    accounts = Account.objects.bulk_create(
        Account(
            name=f"{prefix} {i:05d}",
            domain=f"{prefix.lower()}{i}.example.org",
            segment="smb",
            owner=owner,
            contract_start=started,
            currency="USD",
        )
        for i in range(count)
    )
    amount = Decimal(mrr)
    movements = [
        MrrMovement(
            account=a,
            kind="new",
            date=started,
            amount=amount,
            original_amount=amount,
            original_currency="USD",
        )
        for a in accounts
    ]
    if churned:
        movements += [
            MrrMovement(
                account=a,
                kind="churn",
                date=day(churn_on),
                amount=-amount,
                original_amount=amount,
                original_currency="USD",
            )
            for a in accounts[:churned]
        ]
        Account.objects.filter(pk__in=[a.pk for a in accounts[:churned]]).update(
            churned_at=day(churn_on), churn_reason="price", lifecycle_stage="churned"
        )
    MrrMovement.objects.bulk_create(movements)
    return accounts


def period(start: str, end: str) -> Period:
    return custom(day(start), day(end))


@pytest.fixture
def everyone(carol):
    """The whole book, as a manager sees it."""
    return Scope(user=carol)


@pytest.fixture
def assumptions():
    return Assumptions(gross_margin=0.8, discount_rate=0.01)
