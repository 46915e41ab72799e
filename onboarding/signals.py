"""Hooks other parts of the product listen to (loyalty awards points on them, feedback sends
the NPS after onboarding). Both are sent after the transaction that made the change commits,
so a receiver never sees a change that was rolled back.

``milestone_completed``: sender=Milestone, ``milestone``, ``account``, ``first_time`` (False
when the milestone had been done before, then reopened and done again).

``onboarding_completed``: sender=OnboardingPlan, ``plan``, ``account``, ``completed_at``.
"""

from django.dispatch import Signal

milestone_completed = Signal()
onboarding_completed = Signal()
