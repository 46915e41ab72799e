"""``health.bulk.insert``: bulk_create in one INSERT from arrays on PostgreSQL (the nightly job's
new alerts). It must store what bulk_create stores and give the objects their keys, in order."""

import pytest
from django.utils import timezone

from health import bulk
from health.models import Alert, AlertRule, AlertStatus
from tests.factories import AccountFactory


@pytest.mark.django_db
def test_insert_stores_what_bulk_create_stores_and_sets_the_keys():
    rule = AlertRule.objects.order_by("pk").first()
    now = timezone.now()
    accounts = [AccountFactory() for _ in range(4)]
    details = ["plain", "tab\there, 'quotes' and \\\\ backslash", '{braces,"commas"}', "ünïcödé 中文"]
    mine = [
        Alert(account=account, rule=rule, severity="high", details=text, opened_at=now)
        for account, text in zip(accounts, details, strict=True)
    ]
    returned = bulk.insert(Alert, mine)
    assert returned == mine
    assert all(alert.pk and not alert._state.adding for alert in mine)
    assert [a.pk for a in mine] == sorted(a.pk for a in mine)  # in the order given
    stored = {a.pk: a for a in Alert.objects.filter(pk__in=[a.pk for a in mine])}
    fields = [f.attname for f in Alert._meta.concrete_fields]
    for alert in mine:
        assert [getattr(stored[alert.pk], f) for f in fields] == [getattr(alert, f) for f in fields]
    assert stored[mine[0].pk].status == AlertStatus.OPEN and stored[mine[0].pk].outcome == ""
    assert bulk.insert(Alert, []) == []
