"""The public answer page reads a survey's further questions from the shared cache: one query
for the invitation (with its campaign, survey, contact and response), none for the questions on a
cache hit, and a staff edit of a question or choice shows on the next page view."""

from __future__ import annotations

import pytest
from django.urls import reverse

from feedback.models import Choice, Question, QuestionKind
from tests.factories import AccountFactory, ContactFactory

from . import factories as f


@pytest.fixture
def invitation(alice):
    campaign = f.campaign(by=alice, kind="nps")
    question = Question.objects.create(
        survey=campaign.survey, position=1, kind=QuestionKind.SINGLE, prompt="Which part do you use most?"
    )
    Choice.objects.create(question=question, position=1, label="Reports")
    Choice.objects.create(question=question, position=2, label="Dashboards")
    contact = ContactFactory(account=AccountFactory(owner=alice))
    return f.invitation(contact=contact, campaign_obj=campaign)


def answer_url(invitation) -> str:
    return reverse("feedback_public:answer", args=[invitation.token])


def test_a_cached_page_costs_one_query_for_the_invitation(client, invitation, django_assert_num_queries):
    first = client.get(answer_url(invitation))  # fills the cache, notes the first opening
    assert "Which part do you use most?" in first.content.decode()
    with django_assert_num_queries(1) as captured:
        page = client.get(answer_url(invitation))
    assert page.status_code == 200
    assert "feedback_invitation" in captured.captured_queries[0]["sql"]
    html = page.content.decode()
    assert html.index("Reports") < html.index("Dashboards")


def test_edits_to_questions_and_choices_show_at_once(client, invitation):
    client.get(answer_url(invitation))
    question = Question.objects.get(survey=invitation.campaign.survey)
    question.prompt = "Which report do you open first?"
    question.save()
    assert "Which report do you open first?" in client.get(answer_url(invitation)).content.decode()
    Choice.objects.create(question=question, position=3, label="Exports")
    assert "Exports" in client.get(answer_url(invitation)).content.decode()
    Choice.objects.filter(question=question, label="Reports").get().delete()
    assert "Reports" not in client.get(answer_url(invitation)).content.decode()
    question.delete()
    assert "Which report do you open first?" not in client.get(answer_url(invitation)).content.decode()


def test_an_answer_already_given_comes_with_the_invitation(client, invitation, django_assert_num_queries):
    f.response(invitation_obj=invitation, score=9, follow_up="Faster exports, please")
    client.get(answer_url(invitation))
    with django_assert_num_queries(2):  # the invitation with its response; the response's answers
        page = client.get(answer_url(invitation))
    html = page.content.decode()
    assert 'id="score-9" value="9" data-band="promoter" checked' in html
    assert "Faster exports, please" in html
