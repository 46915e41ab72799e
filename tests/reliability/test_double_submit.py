"""Fault: a survey answer submitted twice at the same moment (a double click, a retried request)
and a link opened by a mail scanner. The single-threaded cases are in
tests/feedback/test_answer_link.py (test_a_get_records_nothing_final,
test_double_submit_stores_one_response, test_a_revision_within_a_day_updates_the_same_response);
here the submissions really race, each on its own database connection."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from feedback.models import Invitation, Response
from tests.conftest import requires_postgres
from tests.factories import ContactFactory
from tests.feedback import factories as f

RACERS = 8


def _race(target, n: int = RACERS) -> list:
    barrier = threading.Barrier(n)
    results: list = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(10)
            results.append(target())
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


@pytest.fixture
def invitation(alice, alice_account) -> Invitation:
    return f.invitation(contact=ContactFactory(account=alice_account), campaign_obj=f.campaign(by=alice))


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_answer_submitted_eight_times_at_once_is_one_response(invitation):
    url = f"/s/{invitation.token}/"
    statuses = _race(lambda: Client().post(url, {"score": "9", "comment": "Quick"}).status_code)
    assert statuses == [302] * RACERS  # every submitter sees the thank-you page
    response = Response.objects.get(invitation=invitation)
    assert (response.score, response.comment) == (9, "Quick")


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_mail_scanner_opening_every_link_at_once_records_nothing_final(invitation):
    url = f"/s/{invitation.token}/?score=0"  # the scanner follows the "0" link of the email
    statuses = _race(lambda: Client().get(url).status_code)
    assert statuses == [200] * RACERS
    assert not Response.objects.filter(invitation=invitation).exists()
    invitation.refresh_from_db()
    assert invitation.opened_at is not None  # the open is noted, nothing else
