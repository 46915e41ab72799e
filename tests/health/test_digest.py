"""The daily digest: one email per CSM with tasks due (or overdue) and new alerts; none when empty,
never two on one day."""

import datetime as dt

from django.core import mail
from django.utils import timezone

from health.models import Alert, AlertRule, DigestSent, Task
from health.services import task_digests_send
from health.tasks import task_digests_send_task


def _task(account, title, due_in, **extra):
    return Task.objects.create(
        account=account,
        owner=account.owner,
        title=title,
        due_date=timezone.localdate() + dt.timedelta(days=due_in),
        **extra,
    )


def test_digest_lists_tasks_due_and_new_alerts_per_csm(
    alice, bob, carol, charlie, alice_account, bob_account
):
    _task(alice_account, "Call the champion", -2, priority=4)
    _task(alice_account, "Send the renewal quote", 0)
    _task(alice_account, "Next week's QBR", 5)
    _task(alice_account, "Snoozed", 0, snoozed_until=timezone.localdate() + dt.timedelta(days=2))
    _task(bob_account, "Bob later", 3)
    rule = AlertRule.objects.get(name="Health turned red")
    Alert.objects.create(
        account=alice_account, rule=rule, severity="high", details="Health is Red (score 12)."
    )
    old = Alert.objects.create(account=bob_account, rule=rule, severity="high", details="old news")
    Alert.objects.filter(pk=old.pk).update(opened_at=timezone.now() - dt.timedelta(days=3))

    assert task_digests_send() == 1
    (message,) = mail.outbox
    assert message.to == ["alice@staff.example"]
    assert message.subject == "Your day: 2 tasks due, 1 new alerts"
    body = message.body
    assert "Call the champion" in body and "overdue since" in body
    assert "Send the renewal quote" in body and "due today" in body
    assert "Next week's QBR" not in body and "Snoozed" not in body
    assert "Alpha Industries: Health turned red. Health is Red (score 12)." in body
    assert "/tasks/" in body
    html = message.alternatives[0][0]
    assert "<strong>Call the champion</strong>" in html
    assert DigestSent.objects.get(user=alice).tasks == 2


def test_no_digest_when_there_is_nothing_to_say(alice, bob, alice_account):
    _task(alice_account, "Far away", 10)
    assert task_digests_send() == 0
    assert mail.outbox == []


def test_never_two_digests_on_one_day(alice, alice_account):
    _task(alice_account, "Due", 0)
    assert task_digests_send_task() == 1
    assert task_digests_send_task() == 0
    assert len(mail.outbox) == 1
    tomorrow = timezone.now() + dt.timedelta(days=1)
    assert task_digests_send(now=tomorrow) == 1
    assert len(mail.outbox) == 2


def test_digest_gathers_everything_in_a_few_queries(
    django_assert_num_queries, alice, bob, alice_account, bob_account
):
    for i in range(10):
        _task(alice_account, f"a{i}", -i)
        _task(bob_account, f"b{i}", -i)
    with django_assert_num_queries(4 + 2):  # four to gather, one record per email sent
        assert task_digests_send() == 2
