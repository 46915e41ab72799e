"""A survey's further questions (with their choices), kept in the shared cache for the public
answer page: every respondent's page needs them, and they change only when staff edit the survey.

Saving or deleting a survey, question or choice drops the survey's entry (now and again after the
transaction commits, so no request re-caches what a rolled-back or not yet committed edit left);
entries also expire after ``TIMEOUT`` seconds, for edits that bypass signals (``QuerySet.update``).
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction
from django.db.models import Prefetch
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Choice, Question, Survey

TIMEOUT = 300
KEY = "feedback:survey-questions:v1:{pk}"


def survey_questions_attach(survey: Survey) -> list[Question]:
    """Make ``survey.questions.all()`` answer from the cache (no query on a hit), as a
    ``prefetch_related`` would, and return the questions in order with their choices."""
    key = KEY.format(pk=survey.pk)
    questions = cache.get(key)
    if questions is None:
        questions = list(
            Question.objects.filter(survey_id=survey.pk)
            .order_by("position")
            .prefetch_related(Prefetch("choices", queryset=Choice.objects.order_by("position")))
        )
        cache.set(key, questions, TIMEOUT)
    prefetched = survey.questions.all()
    prefetched._result_cache = questions  # what prefetch_related_objects stores
    prefetched._prefetch_done = True
    survey._prefetched_objects_cache = {
        **getattr(survey, "_prefetched_objects_cache", {}),
        "questions": prefetched,
    }
    return questions


def survey_questions_forget(survey_id: int | None) -> None:
    if survey_id is None:
        return
    key = KEY.format(pk=survey_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


@receiver([post_save, post_delete], sender=Survey, dispatch_uid="feedback_survey_cache_survey")
def _survey_changed(sender, instance: Survey, **kwargs) -> None:
    survey_questions_forget(instance.pk)


@receiver([post_save, post_delete], sender=Question, dispatch_uid="feedback_survey_cache_question")
def _question_changed(sender, instance: Question, **kwargs) -> None:
    survey_questions_forget(instance.survey_id)


@receiver([post_save, post_delete], sender=Choice, dispatch_uid="feedback_survey_cache_choice")
def _choice_changed(sender, instance: Choice, **kwargs) -> None:
    survey_id = Question.objects.filter(pk=instance.question_id).values_list("survey_id", flat=True).first()
    survey_questions_forget(survey_id)
